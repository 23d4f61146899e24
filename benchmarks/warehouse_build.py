"""Warehouse build benchmark: `citystat run` (full and one day's incremental) against the engine's floor.

    .venv/bin/pip install -e ".[bench]"                       # psutil
    .venv/bin/python benchmarks/warehouse_build.py             # scales 1 10 100
    .venv/bin/python benchmarks/warehouse_build.py 1 10 --work /tmp/wh-bench
    .venv/bin/python benchmarks/warehouse_build.py 100 --city 100=/tmp/bench/scale-100   # reuse a generated city

Per scale, on a fresh warehouse and Dagster instance under --work/scale-<S>:
  1. full build: `citystat run --no-dashboards` (one run of citystat_all: ingests every source, dbt, checks,
     metrics, publish): wall time, time per phase (ingest / transform / metrics / publish, summed from the
     step times the Dagster instance recorded), CPU seconds and peak memory of the whole process tree (code
     server, run worker, dbt), dbt's own time (run_results.json) so Dagster's overhead shows;
  2. the floor: benchmarks/floor.sql -- one plain DuckDB script computing the large marts and the main KPIs
     from the same landing Parquet -- run with the duckdb Python client in a child process, same measures,
     and how closely its numbers agree with the pipeline's marts;
  3. incremental: copy the city, `demo-city advance --days 1`, `citystat run --no-dashboards` again on the
     same warehouse (same measures), and the ratio incremental / full.
Results: a table on stdout and benchmarks/out/warehouse.json (other scales' latest figures are kept).
A city given with --city is only read (the incremental step advances a copy). Nothing here is a test:
figures are reported, never asserted.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import resource
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

try:
    import psutil
except ImportError:  # pragma: no cover - a clear message beats a traceback
    raise SystemExit('psutil is missing: .venv/bin/pip install -e ".[bench]"') from None

ROOT = Path(__file__).resolve().parent.parent
FLOOR_SQL = ROOT / "benchmarks" / "floor.sql"
RESULTS = ROOT / "benchmarks" / "out" / "warehouse.json"
DBT_PROJECT = ROOT / "dbt_project"
DBT_TARGET = DBT_PROJECT / "target"
CITYSTAT = [sys.executable, "-m", "citystat.cli"]
GOALS = {"full_over_floor": 3.0, "incremental_over_full": 0.05, "peak_memory_mb": 4096}
SCRATCH = ("warehouse", "dagster_home", "city-advanced", "floor.duckdb", "dbt_only.duckdb", "dbt_only_target")
# The facts and KPIs the floor computes, compared with the pipeline's marts of the same name.
FLOOR_TABLES = ("fct_service_requests", "fct_work_orders", "fct_fire_incidents", "fct_expenditures",
                "fct_budget_lines", "fct_positions", "kpi_values")

# The runner's summary: "failed step <step>: <root cause>", "failed check (<severity>) <asset>:<check>: <description>",
# and the last line "<mark>: run <id> ended <status>; <n>/<total> assets materialized, ..." (pipeline_cli's marks).
FAILURE_LINE = re.compile(r"^failed (step \S+|check \(ERROR\) \S+): (.*)$", re.M)
RUN_LINE = re.compile(r"^(ok|FAILED|interrupted|blocking checks failed): run (\S+) ended (\w+); (\d+)/(\d+) assets materialized",
                      re.M)

FLOOR_CHILD = """
import json, sys, time, duckdb
script, landing, as_of, db = sys.argv[1:5]
con = duckdb.connect(db)
con.execute("SET VARIABLE landing = ?", [landing])
con.execute("SET VARIABLE as_of = ?", [as_of])
started = time.perf_counter()
con.execute(open(script).read())
seconds = time.perf_counter() - started
rows = {t: con.execute(f"SELECT count(*) FROM marts.{t}").fetchone()[0] for t in sys.argv[5].split(",")}
con.close()
print(json.dumps({"sql_seconds": seconds, "rows": rows}))
"""


class TreeSampler(threading.Thread):
    """Peak resident memory of a process and all its descendants, sampled every `interval` seconds.
    The sum of RSS counts shared pages once per process, so it errs high; the largest single process is kept too."""

    def __init__(self, pid: int, interval: float = 0.25):
        super().__init__(daemon=True)
        self.root, self.interval = psutil.Process(pid), interval
        self.peak_tree, self.peak_process, self.peak_processes = 0, 0, 0
        self.peak_tree_at = 0.0
        self.peak_by_command: dict[str, int] = {}  # which process holds the memory: `citystat run`, dbt, ...
        self.started = time.perf_counter()
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.is_set():
            try:
                procs = [self.root, *self.root.children(recursive=True)]
            except psutil.NoSuchProcess:
                return
            sizes = []
            for proc in procs:
                try:
                    rss = proc.memory_info().rss
                    command = _command(proc.cmdline())
                except (psutil.NoSuchProcess, psutil.AccessDenied):
                    continue
                sizes.append(rss)
                self.peak_by_command[command] = max(self.peak_by_command.get(command, 0), rss)
            if sum(sizes) > self.peak_tree:
                self.peak_tree, self.peak_tree_at = sum(sizes), time.perf_counter() - self.started
            self.peak_process = max(self.peak_process, max(sizes, default=0))
            self.peak_processes = max(self.peak_processes, len(sizes))
            self.stopped.wait(self.interval)


def _command(cmdline: list[str]) -> str:
    """A short name for a process: the program and its first arguments, without paths."""
    words = [Path(w).name if "/" in w else w for w in cmdline[:4] if w not in ("-m", "-c")]
    return " ".join(w for w in words if not w.startswith(("{", "\n")))[:60]


def measure(cmd: list[str], env: dict, log: Path) -> dict:
    """Run `cmd` to completion with output to `log`: wall time, CPU seconds of the whole tree, peak memory."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    with log.open("w") as out:
        proc = psutil.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        sampler = TreeSampler(proc.pid)
        sampler.start()
        returncode = proc.wait()
        sampler.stopped.set()
        sampler.join()
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)  # every descendant reaped by its parent is in here
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {
        "returncode": returncode,
        "seconds": round(seconds, 2),
        "cpu_seconds": round(cpu, 2),
        "peak_tree_rss_mb": round(sampler.peak_tree / 2**20),
        "peak_process_rss_mb": round(sampler.peak_process / 2**20),
        "processes": sampler.peak_processes,
        "peak_tree_at_seconds": round(sampler.peak_tree_at, 1),
        "peak_rss_mb_by_process": {c: round(b / 2**20) for c, b in
                                   sorted(sampler.peak_by_command.items(), key=lambda kv: -kv[1])[:5]},
        "log": str(log),
    }


def pipeline_env(city: Path, base: Path, as_of: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CITYSTAT_", "DAGSTER_", "DBT_"))}
    env.update(CITYSTAT_DATA_DIR=str(city), CITYSTAT_WAREHOUSE_DIR=str(base / "warehouse"),
               DAGSTER_HOME=str(base / "dagster_home"), CITYSTAT_AS_OF=as_of,
               COLUMNS="200", TERM="dumb", PYTHONUNBUFFERED="1")  # the runner's summary lines unwrapped
    # a large city's first load pages millions of rows over Open311: longer than a daily run's 300 s deadline
    env["CITYSTAT_ASSET_DEADLINE"] = os.environ.get("CITYSTAT_ASSET_DEADLINE", "14400")
    return env


def citystat_run(city: Path, base: Path, as_of: str, label: str) -> dict:
    env = pipeline_env(city, base, as_of)
    started = time.time()
    result = measure([*CITYSTAT, "run", "--no-dashboards"], env, base / f"{label}.log")
    text = Path(result["log"]).read_text(errors="replace")
    summary = RUN_LINE.search(text)
    result["run_status"] = summary.group(3) if summary else None
    result["assets_materialized"] = int(summary.group(4)) if summary else 0
    result["failures"] = [f"{what}: {message[:160]}" for what, message in FAILURE_LINE.findall(text)][:40]
    runs = dagster_runs(base / "dagster_home", since=started)
    result["stages"] = phase_seconds(runs)
    result["transform_seconds"] = result["stages"].get("transform", 0.0)
    result["dbt"] = dbt_breakdown(runs)
    result["slowest_steps"] = slowest_steps(runs)
    result["peak_stage"] = step_at(runs, started + result["peak_tree_at_seconds"])
    return result


def phase_of(step: str) -> str:
    """The part of the pipeline a step of citystat_all belongs to (one run: steps, not stage jobs)."""
    if step == "dbt_models":
        return "transform"
    if step.startswith(("raw__", "source_health")):
        return "ingest"
    if step.startswith(("publish__", "dashboards__")):
        return "publish"
    return "metrics"  # quality checks, scores, KPIs, contracts, budget


def phase_seconds(runs: list[dict]) -> dict[str, float]:
    """Seconds per phase, summed over the steps the instance recorded (steps run one at a time in-process)."""
    phases: dict[str, float] = {}
    for run in runs:
        for step, seconds in run["steps"].items():
            phases[phase_of(step)] = round(phases.get(phase_of(step), 0.0) + seconds, 2)
    return phases


def step_at(runs: list[dict], at: float) -> str | None:
    """The step running at epoch second `at` (None: startup, or between steps)."""
    for run in runs:
        for step, (start, end) in run["spans"].items():
            if start <= at <= end:
                return step
    return None


def dagster_runs(home: Path, since: float) -> list[dict]:
    """The runs `citystat run` made (job, run id, each step's seconds and span), read back from its Dagster
    instance: the console shows progress and a summary, the instance keeps the whole event log."""
    from dagster import DagsterInstance
    from dagster._core.instance.ref import InstanceRef

    runs = []
    with DagsterInstance.from_ref(InstanceRef.from_dir(str(home))) as instance:
        for record in instance.get_run_records():
            if record.create_timestamp.timestamp() < since:
                continue
            steps = {s.step_key: round(s.end_time - s.start_time, 2) for s in instance.get_run_step_stats(record.dagster_run.run_id)
                     if s.start_time and s.end_time}
            spans = {s.step_key: (s.start_time, s.end_time) for s in instance.get_run_step_stats(record.dagster_run.run_id)
                     if s.start_time and s.end_time}
            runs.append({"job": record.dagster_run.job_name, "run_id": record.dagster_run.run_id,
                         "created": record.create_timestamp.timestamp(), "steps": steps, "spans": spans})
    return sorted(runs, key=lambda r: r["created"])


def slowest_steps(runs: list[dict], top: int = 10) -> list[list]:
    """The steps that took longest ([job, step, seconds]): which source's extraction, which quality suite,
    which dbt invocation."""
    took = [[run["job"], step, seconds] for run in runs for step, seconds in run["steps"].items()]
    return sorted(took, key=lambda t: -t[2])[:top]


def dbt_breakdown(runs: list[dict]) -> dict:
    """dbt's own time in each run's dbt step (its run_results.json), so the rest is Dagster's overhead.
    dagster-dbt writes each invocation to dbt_project/target/<op>-<run id[:7]>-<uuid>; those of this run are
    read and then removed (they are this benchmark's own artifacts)."""
    stages = {}
    for run in runs:
        for target in sorted(DBT_TARGET.glob(f"dbt_*-{run['run_id'][:7]}-*")):
            results_file = target / "run_results.json"
            if results_file.exists():
                stages[run["job"]] = summarise_run_results(results_file)
            shutil.rmtree(target, ignore_errors=True)
    return stages


def summarise_run_results(path: Path) -> dict:
    """dbt's wall time for the invocation and the time its nodes (models, tests, seeds) spent executing.
    The two differ when dbt waits: on a full stdout pipe while Dagster records events, or on its 2 threads."""
    results = json.loads(path.read_text())
    by_kind: dict[str, float] = {}
    models = []
    for r in results["results"]:
        kind = r["unique_id"].split(".", 1)[0]
        by_kind[kind] = by_kind.get(kind, 0.0) + r["execution_time"]
        if kind == "model":
            models.append((r["execution_time"], r["unique_id"].rsplit(".", 1)[-1]))
    return {
        "dbt_elapsed_seconds": round(results["elapsed_time"], 2),
        "node_seconds": {k: round(v, 2) for k, v in sorted(by_kind.items())},
        "node_seconds_total": round(sum(by_kind.values()), 2),
        "slowest_models": [[name, round(s, 2)] for s, name in sorted(models, reverse=True)[:5]],
    }


def run_dbt_only(base: Path, as_of: str, label: str = "dbt_only", extra: tuple[str, ...] = (),
                 database: Path | None = None) -> dict:
    """`dbt build` straight on the same landing into a scratch DuckDB file: the transformation without Dagster.
    `label` names its files under `base`; `extra` are more dbt arguments (postgres_warehouse.py leaves unit tests out);
    `database`, an existing DuckDB file to build on again (an increment), else a fresh `<label>.duckdb`."""
    db, target = database or base / f"{label}.duckdb", base / f"{label}_target"
    if database is None:
        db.unlink(missing_ok=True)
    shutil.rmtree(target, ignore_errors=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CITYSTAT_", "DBT_"))}
    env.update(CITYSTAT_LANDING_DIR=str(base / "warehouse" / "landing"), CITYSTAT_WORK_DB=str(db))
    cmd = [str(Path(sys.executable).with_name("dbt")), "build", *extra, "--vars", json.dumps({"as_of": as_of}),
           "--project-dir", str(DBT_PROJECT), "--profiles-dir", str(DBT_PROJECT), "--target-path", str(target), "--log-path", str(target / "logs")]
    result = measure(cmd, env, base / f"{label}.log")
    if (target / "run_results.json").exists():
        result.update(summarise_run_results(target / "run_results.json"))
    return result


def run_floor(base: Path, as_of: str) -> dict:
    landing = base / "warehouse" / "landing"
    db = base / "floor.duckdb"
    db.unlink(missing_ok=True)
    cmd = [sys.executable, "-c", FLOOR_CHILD, str(FLOOR_SQL), str(landing), as_of, str(db), ",".join(FLOOR_TABLES)]
    result = measure(cmd, {**os.environ, "PYTHONUNBUFFERED": "1"}, base / "floor.log")
    if result["returncode"] != 0:
        raise SystemExit(f"the floor script failed:\n{Path(result['log']).read_text()[-4000:]}")
    result.update(json.loads(Path(result["log"]).read_text().strip().splitlines()[-1]))
    result["sql_seconds"] = round(result["sql_seconds"], 2)
    result["db"] = str(db)
    return result


def agreement(floor_db: Path, snapshot: Path) -> dict:
    """How the floor's tables compare with the pipeline's published marts: rows, and KPI values that match."""
    import duckdb

    if not snapshot.exists():
        return {"error": f"no snapshot at {snapshot}"}
    con = duckdb.connect()
    con.execute(f"ATTACH '{floor_db}' AS floor (READ_ONLY)")
    con.execute(f"ATTACH '{snapshot}' AS pipeline (READ_ONLY)")
    rows = {}
    for table in FLOOR_TABLES:
        mart = con.execute("SELECT count(*) FROM information_schema.tables WHERE table_catalog = 'pipeline' "
                           "AND table_schema = 'marts' AND table_name = ?", [table]).fetchone()[0]
        rows[table] = {"floor": con.execute(f"SELECT count(*) FROM floor.marts.{table}").fetchone()[0],
                       "pipeline": con.execute(f"SELECT count(*) FROM pipeline.marts.{table}").fetchone()[0] if mart else None}
    # KPI values: the pipeline's registered computed KPIs that the floor also computes, matched by id and month
    kpis = con.execute("""
        SELECT count(*) AS compared,
               count_if(f.value IS NOT DISTINCT FROM p.value
                        OR abs(f.value - p.value) <= 1e-6 * greatest(1, abs(p.value))) AS equal,
               count_if(f.kpi_id IS NULL) AS missing_in_floor
        FROM pipeline.marts.kpi_values AS p
        LEFT JOIN floor.marts.kpi_values AS f USING (kpi_id, period_month)
        WHERE p.kpi_id IN (SELECT DISTINCT kpi_id FROM floor.marts.kpi_values)
    """).fetchone()
    worst = con.execute("""
        SELECT p.kpi_id, count(*) AS months_differing
        FROM pipeline.marts.kpi_values AS p JOIN floor.marts.kpi_values AS f USING (kpi_id, period_month)
        WHERE NOT (f.value IS NOT DISTINCT FROM p.value OR abs(f.value - p.value) <= 1e-6 * greatest(1, abs(p.value)))
        GROUP BY ALL ORDER BY 2 DESC LIMIT 5
    """).fetchall()
    con.close()
    return {"rows": rows, "kpi_values": {"compared": kpis[0], "equal": kpis[1], "missing_in_floor": kpis[2],
                                         "most_differing": [list(w) for w in worst]}}


def generate_city(scale: float, city: Path, log: Path) -> None:
    shutil.rmtree(city, ignore_errors=True)
    with log.open("w") as out:
        subprocess.run([*CITYSTAT, "demo-city", "generate", "--out", str(city), "--scale", f"{scale:g}"],
                       cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, check=True)


def code_version() -> dict:
    """The commit measured, and the pipeline files that differed from it when the scale started."""
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    changed = git("status", "--porcelain", "--", "orchestration", "dbt_project", "data_inventory", "expectations")
    return {"commit": git("rev-parse", "--short", "HEAD"), "uncommitted_pipeline_files": changed.splitlines()}


def city_as_of(city: Path) -> str:
    return json.loads((city / "generation.json").read_text())["as_of"]


def ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 3) if a and b else None


def bench_scale(scale: float, work: Path, city: Path | None, increments: int, dbt_only: bool, keep: bool,
                resume: bool = False) -> dict:
    base = work / f"scale-{scale:g}"
    if resume:
        return resume_increments(scale, base, increments, keep)
    for leftover in SCRATCH:
        path = base / leftover
        shutil.rmtree(path, ignore_errors=True) if path.is_dir() else path.unlink(missing_ok=True)
    base.mkdir(parents=True, exist_ok=True)
    if city is None:
        city = base / "city"
        if not (city / "generation.json").exists():
            print(f"  generating the scale-{scale:g} city in {city} (not measured: benchmarks/demo_city_generation.py)", flush=True)
            generate_city(scale, city, base / "generate.log")
    as_of = city_as_of(city)
    result: dict = {"scale": scale, "city": str(city), "as_of": as_of, "code": code_version(),
                    "started": dt.datetime.now().isoformat(timespec="seconds"), "complete": False}

    def phase(name: str, title: str, run) -> None:
        print(f"  {title} ...", flush=True)
        result[name] = run()
        summarise(result)
        _save(result)  # a long scale leaves its figures so far even if it is stopped

    phase("full", "full build (citystat run --no-dashboards)", lambda: citystat_run(city, base, as_of, "full"))
    phase("floor", "floor (benchmarks/floor.sql)", lambda: run_floor(base, as_of))
    result["agreement"] = agreement(base / "floor.duckdb", base / "warehouse" / "citystat.duckdb")
    if dbt_only:
        phase("dbt_only", "dbt alone (dbt build on the same landing, no Dagster)", lambda: run_dbt_only(base, as_of))
    return run_increments(result, city, base, increments, keep, phase)


def resume_increments(scale: float, base: Path, increments: int, keep: bool) -> dict:
    """--resume: the increments on a full build kept (--keep) by an earlier invocation that was stopped before its
    first increment, on the code checked out now (recorded as `increments_code`; the full build keeps its own)."""
    result = json.loads(RESULTS.read_text())["runs"][f"{scale:g}"]
    if not (base / "warehouse" / "work.duckdb").exists() or any(k.startswith("incremental") for k in result):
        raise SystemExit(f"--resume needs a kept full build of scale {scale:g} in {base} and no increment run on it yet")
    result["increments_code"] = code_version()
    result["complete"] = False

    def phase(name: str, title: str, run) -> None:
        print(f"  {title} ...", flush=True)
        result[name] = run()
        summarise(result)
        _save(result)

    return run_increments(result, Path(result["city"]), base, increments, keep, phase)


def run_increments(result: dict, city: Path, base: Path, increments: int, keep: bool, phase) -> dict:
    if increments:
        advanced = base / "city-advanced"
        shutil.rmtree(advanced, ignore_errors=True)
        shutil.copytree(city, advanced)
    for day in range(1, increments + 1):
        name = "incremental" if day == 1 else f"incremental_{day}"  # day 1 keeps the name earlier figures used
        subprocess.run([*CITYSTAT, "demo-city", "advance", "--data", str(advanced), "--days", "1"],
                       cwd=ROOT, check=True, capture_output=True)
        phase(name, f"incremental day {day} (advance --days 1, citystat run --no-dashboards)",
              lambda: citystat_run(advanced, base, city_as_of(advanced), name) | {"as_of": city_as_of(advanced)})
    result["disk_mb"] = {"landing": _disk_mb(base / "warehouse" / "landing"),
                         "work_db": _disk_mb(base / "warehouse" / "work.duckdb"),
                         "snapshot": _disk_mb(base / "warehouse" / "citystat.duckdb"),
                         "floor_db": _disk_mb(base / "floor.duckdb"), "dbt_only_db": _disk_mb(base / "dbt_only.duckdb")}
    result["complete"] = True
    _save(result)
    if not keep:
        for path in SCRATCH:
            target = base / path
            shutil.rmtree(target, ignore_errors=True) if target.is_dir() else target.unlink(missing_ok=True)
    return result


def summarise(result: dict) -> None:
    """Ratios and goals from the phases measured so far."""
    full, floor = result.get("full", {}), result.get("floor", {})
    incr, alone = result.get("incremental", {}), result.get("dbt_only", {})
    result["ratios"] = {
        "full_over_floor": ratio(full.get("seconds"), floor.get("sql_seconds")),
        "transform_over_floor": ratio(full.get("transform_seconds"), floor.get("sql_seconds")),
        "dbt_in_dagster_over_floor": ratio(sum(s["dbt_elapsed_seconds"] for s in full.get("dbt", {}).values()),
                                           floor.get("sql_seconds")),
        "dbt_only_over_floor": ratio(alone.get("seconds"), floor.get("sql_seconds")),
        "incremental_over_full": ratio(incr.get("seconds"), full.get("seconds")),
        "incremental_transform_over_full_transform": ratio(incr.get("transform_seconds"), full.get("transform_seconds")),
    }
    peak = max(full.get("peak_tree_rss_mb", 0), incr.get("peak_tree_rss_mb", 0))
    result["goals"] = {
        "full_over_floor": {"goal": GOALS["full_over_floor"], "met": _met(result["ratios"]["full_over_floor"], GOALS["full_over_floor"])},
        "incremental_over_full": {"goal": GOALS["incremental_over_full"],
                                  "met": _met(result["ratios"]["incremental_over_full"], GOALS["incremental_over_full"])},
        "peak_memory_mb": {"goal": GOALS["peak_memory_mb"], "value": peak, "met": peak <= GOALS["peak_memory_mb"]},
    }


def _met(value: float | None, goal: float) -> bool | None:
    return None if value is None else value <= goal


def _disk_mb(path: Path) -> float:
    files = [path] if path.is_file() else list(path.rglob("*")) if path.exists() else []
    return round(sum(p.stat().st_size for p in files if p.is_file()) / 1e6, 1)


def print_table(results: list[dict]) -> None:
    nan = float("nan")
    head = (f"{'scale':>5} {'full s':>8} {'cpu s':>8} {'ingest':>7} {'dbt':>7} {'metrics':>7} {'publish':>7} "
            f"{'dbt only':>8} {'floor s':>8} {'full/fl':>8} {'xform/fl':>8} {'incr s':>8} {'incr/full':>9} {'peak MB':>8} {'floor MB':>8}")
    print(head)
    for r in results:
        full, floor, incr, q = r["full"], r.get("floor", {}), r.get("incremental", {}), r["ratios"]
        st = full["stages"]
        peak = max(full["peak_tree_rss_mb"], incr.get("peak_tree_rss_mb", 0))
        print(f"{r['scale']:>5g} {full['seconds']:>8.1f} {full['cpu_seconds']:>8.1f} {st.get('ingest', 0):>7.1f} "
              f"{full['transform_seconds']:>7.1f} {st.get('metrics', 0):>7.1f} {st.get('publish', 0):>7.1f} "
              f"{r.get('dbt_only', {}).get('seconds', nan):>8.1f} {floor.get('sql_seconds', nan):>8.2f} {_fmt(q['full_over_floor']):>8} {_fmt(q['transform_over_floor']):>8} "
              f"{incr.get('seconds', nan):>8.1f} {_fmt(q['incremental_over_full']):>9} {peak:>8} {floor.get('peak_tree_rss_mb', '-'):>8}")
    print(f"goals at scale 100: full/floor <= {GOALS['full_over_floor']:g}, incr/full <= {GOALS['incremental_over_full']:g}, "
          f"peak <= {GOALS['peak_memory_mb']} MB (process-tree RSS)")


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.3g}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("scales", nargs="*", type=float, default=[1, 10, 100])
    parser.add_argument("--work", type=Path, default=ROOT / "var" / "bench-warehouse",
                        help="scratch space: cities, warehouses, Dagster instances (scale-<S>/ each)")
    parser.add_argument("--city", action="append", default=[], metavar="SCALE=DIR",
                        help="use an already generated city for a scale (read only; the incremental step copies it)")
    parser.add_argument("--no-incremental", action="store_true", help="skip the advance + incremental run")
    parser.add_argument("--increments", type=int, default=1, metavar="N",
                        help="days of increments after the full build, each `advance --days 1` then a run (default 1)")
    parser.add_argument("--no-dbt-only", action="store_true", help="skip the plain `dbt build` without Dagster")
    parser.add_argument("--keep", action="store_true", help="keep the warehouses and the floor database")
    parser.add_argument("--resume", action="store_true",
                        help="only the increments, on a full build an earlier --keep run left (stopped before its first "
                             "increment), with the code checked out now")
    args = parser.parse_args()
    cities = {float(k): Path(v).resolve() for k, v in (item.split("=", 1) for item in args.city)}

    results = []
    for scale in args.scales:
        print(f"scale {scale:g}", flush=True)
        result = bench_scale(scale, args.work.resolve(), cities.get(scale), 0 if args.no_incremental else args.increments,
                             not args.no_dbt_only, args.keep, args.resume)
        results.append(result)
        print_table([result])
    if len(results) > 1:
        print()
        print_table(results)
    print(f"wrote {RESULTS.relative_to(ROOT)}")


def _save(result: dict) -> None:
    """Write each scale as soon as it finishes, keeping other scales' latest figures."""
    previous = json.loads(RESULTS.read_text())["runs"] if RESULTS.exists() else {}
    previous[f"{result['scale']:g}"] = result
    machine = {"python": platform.python_version(), "machine": platform.machine(), "cpus": os.cpu_count(),
               "memory_gb": round(psutil.virtual_memory().total / 2**30, 1)}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"machine": machine, "goals": GOALS,
                                   "runs": dict(sorted(previous.items(), key=lambda kv: float(kv[0])))}, indent=1))


if __name__ == "__main__":
    main()
