"""Build the public site: static HTML (Jinja2 + inline SVG) from the released open-data exports only.

Its only data input is ``<warehouse>/open_data`` (manifest.json and the released files); it never opens the
snapshot, so nothing the privacy gate held, suppressed or removed can reach a page. The released files are copied
under ``open-data/`` and a DCAT-US ``data.json`` of the released exports is written beside them (checked against the vendored schema;
a catalog that fails the check fails the build). The site needs no network: no CDN, no web font, no script.
The new site is built in a staging folder and swapped in at the end, so a failed build leaves the last one.

A site whose inputs (the released manifest, which carries every file's checksum; the inventory; the site's code and
templates) equal those of its last finished build, and whose pages and files are all still there, is kept as it is.
The released files are hard-linked into the site, not copied (a released file is never written in place).
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

import jinja2
import pandas as pd

from citystat.kpi.briefing import format_value, month_name
from citystat.open_data.kpi_exports import GOAL_PROGRESS_ID, KPI_SERIES_ID
from citystat.public_site.charts import bar, line_chart
from citystat.open_data.record import sha256_file
from citystat.release_folders import link_or_copy, new_release, write_whole

TEMPLATES = Path(__file__).parent / "templates"
# What the pages are made with besides the released files and the inventory (a change builds the site again)
SITE_CODE = (Path(__file__).parent, TEMPLATES, Path(__file__).parents[1] / "kpi" / "briefing.py",
             Path(__file__).parents[2] / "data_inventory" / "dcat.py")
RECORD_SUFFIX = ".inputs.json"
PAGE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")  # goal and KPI ids become folder names
DAYS_PER_MONTH = 365.25 / 12
# colour + shape + words: the status never rests on colour alone
STATUS = {
    "green": ("●", "On target"), "yellow": ("▲", "Close to target"), "red": ("■", "Off target"),
    "gray": ("○", "No data"), "tracked": ("○", "Tracked, no target"), "suppressed": ("◇", "Withheld for privacy"),
    "withheld": ("◇", "Withheld for privacy"),
    "achieved": ("●", "Achieved"), "on track": ("●", "On track"), "off track": ("■", "Off track"),
    "missed": ("■", "Missed"), "not started": ("○", "Not started"), "no data": ("○", "No data"),
}
STATUS_CLASS = {"green": "good", "achieved": "good", "on track": "good", "yellow": "warn", "red": "bad",
                "off track": "bad", "missed": "bad"}


class PublicSiteError(Exception):
    """The released exports cannot make a site (no manifest, a file outside the released folder, a bad catalog)."""


@dataclass
class PublicSite:
    site_dir: Path
    pages: list[str]
    exports: list[str]  # the released exports the site links to
    rebuilt: bool = True  # False: its inputs were unchanged and the last site was kept


def build_public_site(open_data: Path, out: Path, inventory=None, force: bool = False) -> PublicSite:
    # resolved once: <open_data> is a symlink to the current release, and a new release may be swapped in meanwhile
    open_data, out = Path(open_data).resolve(), Path(out)
    manifest_file = open_data / "manifest.json"
    if not manifest_file.is_file():
        raise PublicSiteError(f"{manifest_file} not found: build the open-data exports first (citystat open-data build)")
    manifest_bytes = manifest_file.read_bytes()
    manifest = json.loads(manifest_bytes)
    released = [e for e in manifest.get("exports", []) if e.get("status") == "released"]
    inputs = _inputs(manifest_bytes, inventory)
    if not force and (pages := _kept_pages(out, inputs, open_data, released)) is not None:
        return PublicSite(site_dir=out, pages=pages, exports=[e["id"] for e in released], rebuilt=False)
    _record_path(out).unlink(missing_ok=True)  # until the new site is in place it matches no inputs
    with new_release(out) as staging:  # the site changes whole or not at all, like the exports it is built from
        for export in released:
            _copy_export(open_data, export, staging / "open-data")
        pages = _render(staging, released, inventory)
        if inventory is not None:
            _write_catalog(staging / "data.json", inventory, released, manifest.get("base_url", ""))
        (staging / "site.css").write_bytes((TEMPLATES / "site.css").read_bytes())
    write_whole(_record_path(out), json.dumps({**inputs, "pages": pages}, indent=1, sort_keys=True))
    return PublicSite(site_dir=out, pages=pages, exports=[e["id"] for e in released])


def _record_path(out: Path) -> Path:
    """Beside the site (not inside it: the site is served as is)."""
    return out.with_name(out.name + RECORD_SUFFIX)


def _inputs(manifest: bytes, inventory) -> dict:
    code = hashlib.sha256()
    files = [p for root in SITE_CODE for p in (sorted(root.iterdir()) if root.is_dir() else [root]) if p.is_file()]
    for path in files:
        code.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    city = json.dumps(dataclasses.asdict(inventory), sort_keys=True, default=str) if inventory is not None else ""
    return {"manifest": hashlib.sha256(manifest).hexdigest(), "code": code.hexdigest(),
            "inventory": hashlib.sha256(city.encode()).hexdigest()}


def _kept_pages(out: Path, inputs: dict, open_data: Path, released: list[dict]) -> list[str] | None:
    """The pages of the site on disk when it was built from these same inputs and is whole; None to build again."""
    try:
        recorded = json.loads(_record_path(out).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(recorded, dict) or any(recorded.get(key) != value for key, value in inputs.items()):
        return None
    pages = recorded.get("pages") or []
    if not pages or not all((out / page).is_file() for page in pages):
        return None
    for export in released:  # the released files on the site: the same file, or the same bytes
        for kind, relative in export["files"].items():
            copy, source = out / "open-data" / relative, open_data / relative
            if not (copy.is_file() and source.is_file()):
                return None
            if not os.path.samefile(copy, source) and sha256_file(copy) != (export.get("checksums") or {}).get(kind):
                return None
    return pages


def _copy_export(open_data: Path, export: dict, target: Path) -> None:
    root = open_data.resolve()
    for relative in export["files"].values():
        source = (open_data / relative).resolve()
        if root not in source.parents or not source.is_file():
            raise PublicSiteError(f"export {export['id']}: {relative} is not a released file under {open_data}")
        link_or_copy(source, target / relative)


def _write_catalog(path: Path, inventory, released: list[dict], base_url: str) -> None:
    from data_inventory.dcat import to_dcat, validate_catalog

    catalog = to_dcat(inventory, released, base_url)
    # the public catalog lists what is released; the full inventory (non-public datasets, why they are restricted)
    # stays with `citystat inventory export-dcat`
    catalog["dataset"] = [d for d in catalog["dataset"] if any("downloadURL" in x for x in d.get("distribution", []))]
    problems = validate_catalog(catalog)
    if problems:
        raise PublicSiteError("data.json fails the DCAT-US 1.1 schema: " + "; ".join(problems[:5]))
    path.write_text(json.dumps(catalog, indent=2), encoding="utf-8")


def _read(site: Path, export_id: str) -> tuple[pd.DataFrame | None, dict]:
    folder = site / "open-data" / export_id
    parquet = folder / f"{export_id}.parquet"
    if not parquet.is_file():
        return None, {}
    return pd.read_parquet(parquet), json.loads((folder / f"{export_id}.dictionary.json").read_text(encoding="utf-8"))


def _render(site: Path, released: list[dict], inventory) -> list[str]:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters.update(value=_value, month=month_name, pct=_pct, per_month=_per_month, direction=_direction)
    series, series_dictionary = _read(site, KPI_SERIES_ID)
    goals_frame, _ = _read(site, GOAL_PROGRESS_ID)
    kpis = _kpis(series, series_dictionary)
    goals = _goals(goals_frame, kpis)
    city = inventory.city.name if inventory is not None else "the city"
    latest = max((k["latest"]["period"] for k in kpis if k["latest"]), default=None)
    common = {"city": city, "status": STATUS, "status_class": STATUS_CLASS, "has_catalog": inventory is not None}
    pages: dict[str, tuple[str, dict]] = {
        "index.html": ("scorecard.html", {"kpis": kpis, "goals": goals, "latest": latest,
                                          "counts": _counts(kpis), "depth": 0}),
        "goals/index.html": ("goals.html", {"goals": goals, "depth": 1}),
        "kpis/index.html": ("kpis.html", {"kpis": kpis, "depth": 1}),
        "data/index.html": ("data.html", {"downloads": released, "depth": 1}),
    }
    for goal in goals:
        pages[f"goals/{goal['goal_id']}/index.html"] = ("goal.html", {"goal": goal, "depth": 2})
    for kpi in kpis:
        pages[f"kpis/{kpi['kpi_id']}/index.html"] = ("kpi.html", {"kpi": kpi, "depth": 2})
    for relative, (template, context) in pages.items():
        path = site / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        root = "../" * context["depth"]
        path.write_text(env.get_template(template).render(**common, **context, root=root), encoding="utf-8")
    return sorted(pages)


def _kpis(series: pd.DataFrame | None, dictionary: dict) -> list[dict]:
    if series is None:
        return []
    kpis = []
    for definition in dictionary.get("kpis", []):
        if not PAGE_NAME.match(definition["kpi_id"]):
            raise PublicSiteError(f"KPI id {definition['kpi_id']!r} cannot name a page")
        rows = series[series["kpi_id"] == definition["kpi_id"]].sort_values("period")
        records = [_clean(r) for r in rows.to_dict("records")]
        for record in records:  # gray with a value: a volume tracked without a target, not missing data
            if record["status"] == "gray" and record["value"] is not None:
                record["status"] = "tracked"
        reported = [r for r in records if r["value"] is not None or r["status"] == "suppressed"]
        kpis.append({**definition, "rows": records, "recent": records[-12:][::-1],
                     "latest": reported[-1] if reported else None,
                     "chart": line_chart([(r["period"], r["value"]) for r in records[-36:]],
                                         records[-1]["target"] if records else None,
                                         f"{definition['kpi_name']}, monthly, against its target")})
    return kpis


def _goals(frame: pd.DataFrame | None, kpis: list[dict]) -> list[dict]:
    if frame is None:
        return []
    published = {k["kpi_id"] for k in kpis}
    goals = []
    for goal in (_clean(r) for r in frame.to_dict("records")):
        if not PAGE_NAME.match(goal["goal_id"]):
            raise PublicSiteError(f"goal id {goal['goal_id']!r} cannot name a page")
        goal["kpi_published"] = goal["kpi_id"] in published
        goal["progress_bar"] = bar(goal["progress"], f"progress {_pct(goal['progress'])}", "progress")
        goal["time_bar"] = bar(goal["elapsed_share"], f"time used {_pct(goal['elapsed_share'])}", "time")
        goals.append(goal)
    return goals


def _counts(kpis: list[dict]) -> list[tuple[str, int]]:
    statuses = [k["latest"]["status"] if k["latest"] else "gray" for k in kpis]
    return [(s, statuses.count(s)) for s in ("green", "yellow", "red", "tracked", "suppressed", "gray") if s in statuses]


def _clean(record: dict) -> dict:
    """NaN/NaT to None, timestamps to ISO dates: the templates test for None only."""
    out = {}
    for key, value in record.items():
        if value is not None and not isinstance(value, (list, dict, str)) and pd.isna(value):
            value = None
        elif hasattr(value, "date") and callable(value.date):
            value = value.date().isoformat()
        elif hasattr(value, "isoformat"):
            value = value.isoformat()
        out[key] = value
    return out


def _value(value, unit: str) -> str:
    return format_value(value, unit or "")


def _direction(desired: str) -> str:
    return {"up": "higher is better", "down": "lower is better"}.get(desired, "neither higher nor lower is better")


def _pct(share) -> str:
    return "–" if share is None else f"{100 * float(share):.0f}%"


def _per_month(per_day, unit: str) -> str:
    if per_day is None:
        return "–"
    per_month = float(per_day) * DAYS_PER_MONTH
    sign = "+" if per_month > 0 else "−" if per_month < 0 else ""
    return f"{sign}{format_value(abs(per_month), unit or '')} a month"
