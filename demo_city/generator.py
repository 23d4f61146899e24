"""Runs every simulated system's generator in dependency order and writes the manifests."""
from __future__ import annotations

import datetime as dt
import importlib
import json
import shutil
from pathlib import Path

from demo_city import rollouts
from demo_city.core import DefectLog, GenContext

# Order matters: later systems read ids from earlier ones (work orders link to 311 requests,
# paving reports to procurement contracts, ledger lines to vendors and programmes).
SYSTEMS = [
    "crm311",
    "public_works",
    "fire",
    "code_enforcement",
    "procurement",
    "paving",
    "finance",
    "human_services",
    "performance_office",
    "performance_workbench",
    "budget_office",
]


def _system(name: str):
    return importlib.import_module(f"demo_city.systems.{name}")


def _write_manifests(ctx: GenContext) -> None:
    (ctx.out / "defects.json").write_text(json.dumps(ctx.defects.to_json(), indent=1))
    meta = {
        "seed": ctx.seed,
        "scale": ctx.scale,
        "as_of": ctx.as_of.isoformat(),
        "start": ctx.start.isoformat(),
        "clean": ctx.clean,
        "population": ctx.population,
        "row_counts": dict(sorted(ctx.row_counts.items())),
    }
    (ctx.out / "generation.json").write_text(json.dumps(meta, indent=1))
    rollouts.write_ground_truth(ctx)  # the planted randomized rollouts (kept by --clean)


def generate(out: Path, seed: int, scale: float, as_of: dt.date, clean: bool, on_system=None, on_rows=None) -> GenContext:
    out = Path(out)
    if out.exists():
        shutil.rmtree(out)  # a generation is a pure function of its parameters: start from nothing
    out.mkdir(parents=True)
    ctx = GenContext(out=out, seed=seed, scale=scale, as_of=as_of, clean=clean, on_rows=on_rows)
    for name in SYSTEMS:
        if on_system:
            on_system(name)
        _system(name).generate(ctx)
    _write_manifests(ctx)
    return ctx


def load_context(data: Path) -> GenContext:
    meta_path = Path(data) / "generation.json"
    if not meta_path.exists():
        raise FileNotFoundError(f"{meta_path}: not a generated demo city (run `citystat demo-city generate` first)")
    meta = json.loads(meta_path.read_text())
    ctx = GenContext(
        out=Path(data),
        seed=meta["seed"],
        scale=meta["scale"],
        as_of=dt.date.fromisoformat(meta["as_of"]),
        clean=meta["clean"],
        first_day=dt.date.fromisoformat(meta["start"]),
        defects=DefectLog.load(Path(data) / "defects.json"),
    )
    ctx.row_counts.update(meta.get("row_counts", {}))
    return ctx


def advance(data: Path, days: int, on_system=None, on_rows=None) -> GenContext:
    """Append ``days`` more days of activity to every system; history before the old as_of is kept."""
    ctx = load_context(data)
    ctx.on_rows = on_rows
    first = ctx.as_of + dt.timedelta(days=1)
    ctx.as_of = ctx.as_of + dt.timedelta(days=days)
    for name in SYSTEMS:
        if on_system:
            on_system(name)
        _system(name).advance(ctx, first, ctx.as_of)
    _write_manifests(ctx)
    return ctx
