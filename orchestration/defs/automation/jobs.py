"""The one job: every asset of the graph in one run, the same that `citystat run` launches and the UI offers.

Blocking asset checks hold back what is downstream of a failed check inside the run (Dagster's own gating);
the run executes in one process, step after step, which suits the single-writer DuckDB warehouse and keeps
memory bounded (the dbt step runs dbt's own threads).
"""
import dagster as dg

ALL_ASSETS_JOB = "citystat_all"

all_assets_job = dg.define_asset_job(
    ALL_ASSETS_JOB,
    selection=dg.AssetSelection.all(),
    executor_def=dg.in_process_executor,
    description="Everything: land every source, dbt build, quality gates, metrics, publish the snapshot, build "
                "the dashboards. `citystat run` launches this job; `--select` narrows it.",
)
