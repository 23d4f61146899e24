"""The one job: every asset of the graph in one run, the same that `citystat run` launches and the UI offers.

Blocking asset checks hold back what is downstream of a failed check inside the run (Dagster's own gating).
By default the run executes in one process, step after step, which suits the single-writer DuckDB warehouse and
keeps memory bounded (the dbt step runs dbt's own threads); the raw landings inside it still extract their
sources side by side on threads (orchestration/lib/landing_threads.py). ``$CITYSTAT_PARALLEL_STEPS=N`` (N > 1) runs up to N
independent steps side by side, each in its own process: the raw landings of independent sources then overlap
(each writes only its own Parquet batches and appends its ledger line under a lock), while every step that
writes the DuckDB warehouse stays in the ``warehouse_writer`` pool, which admits one step at a time across all
runs. It pays a process start per step, which on a 2-core machine costs more than the overlap saves
(benchmarks/parallel_landing.py, figures in benchmarks/README.md); it pays off where sources are slow to answer.
"""
import dagster as dg

from citystat.settings import whole_number

ALL_ASSETS_JOB = "citystat_all"
PARALLEL_STEPS_ENV = "CITYSTAT_PARALLEL_STEPS"
DEFAULT_PARALLEL_STEPS = 1


def parallel_steps() -> int:
    return whole_number(PARALLEL_STEPS_ENV, DEFAULT_PARALLEL_STEPS)


def job_executor() -> dg.ExecutorDefinition:
    steps = parallel_steps()
    if steps == 1:
        return dg.in_process_executor
    # forkserver: each step forks from a server that has already imported Dagster and the definitions, so a step
    # costs no fresh interpreter and import
    return dg.multiprocess_executor.configured(
        {"max_concurrent": steps,
         "start_method": {"forkserver": {"preload_modules": ["dagster", "orchestration.definitions"]}}},
        name="citystat_parallel_steps")


all_assets_job = dg.define_asset_job(
    ALL_ASSETS_JOB,
    selection=dg.AssetSelection.all(),
    executor_def=job_executor(),
    description="Everything: land every source, dbt build, quality gates, metrics, publish the snapshot, build "
                "the dashboards. `citystat run` launches this job; `--select` narrows it.",
)
