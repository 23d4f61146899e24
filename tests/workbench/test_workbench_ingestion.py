"""A value submitted in the workbench is landed by the inventory's own ingestion of the KPI submissions drop folder
(the route of every submitted value), with the submitter's note and without a second copy on a rerun."""
import duckdb

from workbench_helpers import client_for


def test_submitted_value_lands_through_the_submissions_drop(users, snapshot, tmp_path):
    from citystat.connectors import build_connector
    from citystat.ingestion import source_spec
    from citystat.landing import Landing
    from data_inventory import load_inventory
    from workbench.models import Submission

    lena = client_for("lena")
    response = lena.post("/submissions/", {"kpi_id": "lib_visits", "period": "2026-09", "value": "41250",
                                           "data_source": "gate counters", "note": "branch 3 closed"})
    assert response.status_code == 302
    ref = load_inventory().get("perf_office", "kpi_submissions")
    landing = Landing(tmp_path / "landing")
    first = landing.load(build_connector(source_spec(ref, tmp_path)))
    assert first.rows == 1 and not first.rejected_files and not first.set_aside
    files = list((tmp_path / "landing").rglob("*.parquet"))
    landed = duckdb.sql(f"SELECT kpi_id, department_code, period, value, notes FROM read_parquet({[str(f) for f in files]})").fetchall()
    assert landed == [("lib_visits", "lib", "2026-09", "41250.0", "source: gate counters; branch 3 closed")]
    again = landing.load(build_connector(source_spec(ref, tmp_path)))
    assert again.rows == 0  # the same file is not landed twice
    Submission.objects.all()._raw_delete(Submission.objects.db)
