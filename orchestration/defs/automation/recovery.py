"""`stale_run_recovery`: every minute, fail the runs whose worker died and free their pool slots.

Dagster's run monitoring (enabled in the instance config, lib/instance.py) does this under the daemon; the
sensor covers deployments where it is off, with the same function `citystat run` calls before it launches.
"""
import dagster as dg

from orchestration.lib.recovery import recover_stale_runs


@dg.sensor(name="stale_run_recovery", minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.RUNNING,
           description="Fails runs whose worker process is gone (killed, OOM, reboot) and frees their "
                       "warehouse_writer slots, so the next run never waits on a dead one.")
def stale_run_recovery(context: dg.SensorEvaluationContext):
    recovered = recover_stale_runs(context.instance)
    for run in recovered:
        context.log.warning(f"run {run.run_id} ({run.job}, {run.status}) marked failed: {run.reason}")
    return dg.SkipReason(f"recovered {len(recovered)} stale run(s)" if recovered else "no stale runs")
