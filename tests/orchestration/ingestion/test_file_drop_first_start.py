"""The file-drop sensor's first evaluation on a fresh Dagster instance over a warehouse whose last landing refused
a drifted file: it requests nothing (the refusal is not repeated as a run on every daemon start), and a file
dropped afterwards, or the drifted file re-exported, is requested as usual."""
from __future__ import annotations

import os
import time

import dagster as dg

from citystat.connectors import build_connector
from citystat.ingestion import source_spec
from orchestration.defs.ingestion.assets import build_ingestion, raw_key
from orchestration.defs.ingestion.sensors import build_file_drop_sensor
from orchestration.lib.resources import IngestionResource

DRIFTED = "vacant_cases_2026-09-21.csv"  # the demo city plants a renamed column in this daily export


def test_first_start_does_not_request_a_file_the_last_landing_refused(city, tmp_path, fast):
    refs = build_ingestion().file_drop_refs
    cases = next(r for r in refs if r.key == ("ce_vacant", "cases"))
    folder = city / "drops" / "code_enforcement"
    resource = IngestionResource(data_dir=str(city), warehouse_dir=str(tmp_path / "warehouse"))
    landing = resource.landing()
    for ref in refs:  # the last full landing: every good file lands, the drifted one is refused
        result = landing.load(build_connector(source_spec(ref, city), fast))
        if ref is cases:
            assert [f for f in result.rejected_files if DRIFTED in f]
    sensor = build_file_drop_sensor(refs)

    with dg.instance_for_test() as instance:
        def tick(cursor):
            with dg.build_sensor_context(instance=instance, cursor=cursor, resources={"ingestion": resource}) as context:
                return sensor(context), context.cursor

        result, cursor = tick(None)
        assert isinstance(result, dg.SkipReason), result
        assert cursor and DRIFTED in cursor  # remembered as already asked for, in its current version
        result, cursor = tick(cursor)
        assert isinstance(result, dg.SkipReason)

        new = folder / "vacant_cases_2026-11-01.csv"
        old = sorted(folder.glob("vacant_cases_2026-10-*.csv"))[-1]
        new.write_text(old.read_text(encoding="utf-8"), encoding="utf-8")
        result, cursor = tick(cursor)
        assert isinstance(result, dg.RunRequest) and result.asset_selection == [raw_key(cases)]
        assert new.name in result.tags["citystat/files"] and DRIFTED not in result.tags["citystat/files"]

        later = time.time_ns() + 10**9
        os.utime(folder / DRIFTED, ns=(later, later))  # the department re-exports the drifted file
        result, cursor = tick(cursor)
        assert isinstance(result, dg.RunRequest) and f"{DRIFTED}@{later}" in result.tags["citystat/files"]
