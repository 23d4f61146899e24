"""Time and peak memory of one forced dashboard build (`build_site(..., force=True)`) of a published snapshot.

    .venv/bin/python benchmarks/dashboards_build.py <snapshot.duckdb> <site-dir>

Prints the seconds of each step (Evidence's build split into the Vite compile and the prerender of the pages), the peak resident memory of the whole process tree (Evidence, Vite and the
prerender workers; sampled with psutil, see warehouse_build.TreeSampler), its largest process and the load average.
Environment variables reach the build unchanged, so a setting such as NODE_OPTIONS can be compared run against run.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
from warehouse_build import ROOT, TreeSampler  # noqa: E402

CHILD = """
import json, sys
from citystat.dashboards import build_site
build = build_site(sys.argv[1], sys.argv[2], force=True)
print(json.dumps({"seconds": build.seconds, "pages": len(build.pages)}))
"""


def main(snapshot: str, site_dir: str) -> dict:
    load_before = os.getloadavg()
    started, started_at = time.perf_counter(), time.time()
    proc = psutil.Popen([sys.executable, "-c", CHILD, snapshot, site_dir], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    sampler = TreeSampler(proc.pid)
    sampler.start()
    output, _ = proc.communicate()
    sampler.stopped.set()
    sampler.join()
    if proc.returncode != 0:
        raise SystemExit(f"the build failed with exit code {proc.returncode}")
    figures = json.loads(output.strip().splitlines()[-1])
    steps = figures["seconds"]
    # SvelteKit writes the client's version.json when the Vite compile ends and prerendering begins.
    compiled_at = (ROOT / "dashboards" / ".evidence" / "template" / ".svelte-kit" / "output" / "client" / "_app"
                   / "version.json").stat().st_mtime
    build_started_at = started_at + sum(steps[name] for name in ("fingerprint", "install", "data", "sources"))
    figures["build_split"] = {"vite_compile": round(compiled_at - build_started_at, 1),
                              "prerender_and_copy": round(steps["build"] - (compiled_at - build_started_at), 1)}
    figures.update(
        wall_seconds=round(time.perf_counter() - started, 1),
        peak_tree_mb=round(sampler.peak_tree / 2**20),
        peak_process_mb=round(sampler.peak_process / 2**20),
        peak_by_command_mb={name: round(rss / 2**20) for name, rss in sorted(sampler.peak_by_command.items(),
                                                                            key=lambda item: -item[1])[:4]},
        load_average_before=[round(value, 1) for value in load_before],
        load_average_after=[round(value, 1) for value in os.getloadavg()],
        node_options=os.environ.get("NODE_OPTIONS", ""),
    )
    return figures


if __name__ == "__main__":
    print(json.dumps(main(*sys.argv[1:3]), indent=1))
