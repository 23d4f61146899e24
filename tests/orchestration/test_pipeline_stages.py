"""The stage runner: a failed blocking check in one stage holds back its downstream in the next stages."""
import dagster as dg

from orchestration.run import run_stage


@dg.asset
def landed():
    return 1


@dg.asset_check(asset=landed, blocking=True)
def landed_rules():
    return dg.AssetCheckResult(passed=False, severity=dg.AssetCheckSeverity.ERROR, description="3 rows break closed >= opened")


@dg.asset(deps=[landed])
def fact():
    return 2


@dg.asset(deps=[fact])
def kpi():
    return 3


@dg.asset
def other_department():
    return 4


DEFS = dg.Definitions(
    assets=[landed, fact, kpi, other_department],
    asset_checks=[landed_rules],
    jobs=[dg.define_asset_job("ingest", selection=[landed]),
          dg.define_asset_job("transform", selection=[fact, kpi, other_department])],
)


def test_failed_blocking_check_holds_back_downstream_in_later_stages():
    with dg.instance_for_test() as instance:
        ingest = run_stage(DEFS, instance, "ingest")
        assert ingest.blocked_by == {landed.key}
        assert any("closed >= opened" in error for error in ingest.errors)
        transform = run_stage(DEFS, instance, "transform", blocked=ingest.blocked_by)
    assert transform.materialized == ["other_department"]  # other departments' data still flows
    assert transform.skipped == ["fact", "kpi"]


def test_without_a_blocked_upstream_everything_runs():
    with dg.instance_for_test() as instance:
        transform = run_stage(DEFS, instance, "transform")
    assert sorted(transform.materialized) == ["fact", "kpi", "other_department"] and transform.skipped == []
