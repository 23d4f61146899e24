"""Schema drift, a missing daily export and stale data, each created by the test on a real drop folder."""
from __future__ import annotations

import datetime as dt
import json

from citystat.landing import Landing
from citystat.quality.drift import drifted_files
from citystat.quality.freshness import check_freshness
from citystat.quality.volume import check_volume, missing_exports

HEADER = ("case_id,property_id,parcel_address,owner_name,owner_phone,district,opened_date,status,outcome,closure_date,"
          "evidence_photo_url,inspector_id,updated_at")


def drop_folder(tmp_path, days, header=HEADER):
    folder = tmp_path / "city" / "drops" / "code_enforcement"
    folder.mkdir(parents=True, exist_ok=True)
    for day in days:
        (folder / f"vacant_cases_{day.isoformat()}.csv").write_text(
            header + f"\nCASE-00001,PROP-1,1 Main St,,,north,{day},open,,,,INSP-1,{day} 09:00:00\n")
    return tmp_path / "city"


def test_a_renamed_and_an_extra_column_are_drift_named_by_column(tmp_path, inventory):
    ref = inventory.get("ce_vacant", "cases")
    city = drop_folder(tmp_path, [dt.date(2026, 9, 1)])
    drifted_header = HEADER.replace("inspector_id", "inspector") + ",ward"
    (city / "drops" / "code_enforcement" / "vacant_cases_2026-09-02.csv").write_text(
        drifted_header + "\nCASE-00002,PROP-2,2 Main St,,,north,2026-09-02,open,,,,INSP-1,2026-09-02 09:00:00,Ward 3\n")
    found = drifted_files(ref, Landing(tmp_path / "landing"), city)
    assert [d.file for d in found] == ["vacant_cases_2026-09-02.csv"]
    meta = found[0].as_metadata()
    assert meta["missing"] == ["inspector_id"] and meta["undeclared"] == ["inspector", "ward"]
    assert "inspector: inspector_id" in found[0].problem  # the mapping the inventory could declare


def test_a_missing_daily_export_is_caught_and_a_long_pause_is_not_called_missing(tmp_path, inventory):
    ref = inventory.get("ce_vacant", "cases")
    days = [dt.date(2026, 9, 1) + dt.timedelta(days=i) for i in range(10) if i != 4]
    city = drop_folder(tmp_path, days)
    findings = check_volume(ref, Landing(tmp_path / "landing"), city)
    assert findings.missing == [dt.date(2026, 9, 5)] and not findings.ok
    assert "1 daily export(s) missing" in findings.describe() and "2026-09-05" in findings.describe()

    weekly = inventory.get("pw_paving", "paving_reports")
    season = [dt.date(2025, 10, 31) + dt.timedelta(weeks=i) for i in range(3)] + [dt.date(2026, 4, 3) + dt.timedelta(weeks=i) for i in (0, 2)]
    found = missing_exports(weekly, {f"paving_weekly_{d}.xlsx" for d in season})
    assert found.missing == [dt.date(2026, 4, 10)] and len(found.pauses) == 1  # the winter is a pause, a skipped week is not


def test_freshness_follows_the_ledger_and_the_inventory_window(tmp_path, inventory):
    ref = inventory.get("ce_vacant", "cases")  # freshness_hours 48
    landing = Landing(tmp_path / "landing")
    assert not check_freshness(ref, landing).fresh  # nothing landed yet
    landing.root.mkdir(parents=True)
    landed_at = dt.datetime(2026, 11, 1, 6, 0, tzinfo=dt.timezone.utc)
    landing.ledger_path.write_text(json.dumps({"load_id": "x", "system": "ce_vacant", "dataset": "cases", "rows": 3,
                                               "landed_at": landed_at.isoformat(), "files": []}) + "\n")
    assert check_freshness(ref, landing, landed_at + dt.timedelta(hours=47)).fresh
    stale = check_freshness(ref, landing, landed_at + dt.timedelta(hours=60))
    assert not stale.fresh and "STALE" in stale.describe() and "60.0 h ago" in stale.describe()
