"""The landing itself: commit by ledger line, crash leftovers, serialised loads, ledger damage."""
from __future__ import annotations

import threading

import pytest

from citystat.connectors import SourceError, SourceSpec, build_connector
from citystat.landing import BatchWriter, Landing, new_load_id

from .helpers import landed


def drop_spec(folder) -> SourceSpec:
    return SourceSpec("fin_erp", "budget", "csv_drop", str(folder), "budget_FY*.csv")


@pytest.fixture
def drops(tmp_path):
    folder = tmp_path / "finance"
    folder.mkdir()
    (folder / "budget_FY2026.csv").write_text("fiscal_year,program_code,adopted_amount\n2026,pw_street_maint,100\n")
    return folder


def test_leftovers_of_a_crashed_load_are_tidied_and_never_read(drops, landing, fast):
    directory = landing.dataset_dir("fin_erp", "budget")
    directory.mkdir(parents=True)
    (directory / ".tmp-20200101T000000000000Z-aaaaaa").mkdir()  # crashed while writing
    crashed = BatchWriter(directory, new_load_id(), "2020-01-01T00:00:00Z")
    crashed.write(build_connector(drop_spec(drops), fast).extract(landing.state("fin_erp", "budget")).__next__())
    [orphan] = crashed.commit()  # renamed into place, but the ledger line was never written

    result = landing.load(build_connector(drop_spec(drops), fast))
    assert result.rows == 1
    assert sorted(p.name for p in directory.iterdir()) == sorted(
        [".lock", result.parts[0].name, orphan.name + ".orphaned"])
    assert landed(landing, "fin_erp", "budget", "SELECT count(*) FROM batch") == [(1,)]


def test_concurrent_loads_of_one_dataset_land_it_once(drops, landing, fast):
    results = []
    threads = [threading.Thread(target=lambda: results.append(landing.load(build_connector(drop_spec(drops), fast))))
               for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r.rows for r in results) == [0, 0, 0, 1]
    assert len(landing.entries()) == 1


def test_the_ledger_tolerates_a_torn_last_line_and_names_a_damaged_one(drops, landing, fast):
    landing.load(build_connector(drop_spec(drops), fast))
    with open(landing.ledger_path, "a") as ledger:
        ledger.write('{"load_id": "20')  # a crash mid-append: never committed
    assert len(landing.entries()) == 1
    with open(landing.ledger_path, "a") as ledger:
        ledger.write("\n" + landing.ledger_path.read_text().splitlines()[0] + "\n")
    with pytest.raises(SourceError, match=r"_loads.jsonl line 2 is not valid JSON"):
        landing.entries()


def test_ledger_records_what_each_batch_holds(drops, landing, fast):
    result = landing.load(build_connector(drop_spec(drops), fast))
    [entry] = Landing(landing.root).entries("fin_erp", "budget")
    assert entry["load_id"] == result.load_id and entry["rows"] == 1 and entry["kind"] == "files"
    assert entry["files"][0]["file"] == "budget_FY2026.csv" and len(entry["files"][0]["sha256"]) == 64
    assert entry["parts"] == [result.parts[0].name] and result.parts[0].name == f"{result.load_id}.parquet"
