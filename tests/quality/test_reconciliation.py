"""raw rows = staged + quarantined + superseded, for every batch; a silently dropped row is named."""
from __future__ import annotations

import shutil

import duckdb

from citystat.ingestion import is_automated
from citystat.quality.reconciliation import reconcile
import pytest

# the session's scale-0.1 city and warehouse (fixtures) are built inside the first test that asks for them
pytestmark = pytest.mark.timeout(1800)


def test_reconciliation_holds_for_every_batch_of_every_dataset(defective_built, clean_built, inventory):
    for built in (defective_built, clean_built):
        with duckdb.connect(str(built.work_db), read_only=True) as con:
            for ref in inventory.datasets():
                if not is_automated(ref):
                    continue
                result = reconcile(ref, built.landing, con)
                assert result.batches and result.holds, result.describe()
                totals = result.totals()
                assert totals["raw"] == sum(e["rows"] for e in built.landing.entries(*ref.key))
    with duckdb.connect(str(defective_built.work_db), read_only=True) as con:
        cases = reconcile(inventory.get("ce_vacant", "cases"), defective_built.landing, con).totals()
        # daily exports carry every change of a case: most landed rows are older versions; defects are quarantined
        assert cases["superseded"] > cases["staged"] > 0 and cases["quarantined"] >= 23
        # quarantine explains every landed row that is not staged
        assert cases["raw"] - cases["staged"] == cases["quarantined"] + cases["superseded"]


def test_a_row_that_vanished_from_staging_breaks_reconciliation_and_is_named(defective_built, inventory, tmp_path):
    copy = tmp_path / "work.duckdb"
    shutil.copy(defective_built.work_db, copy)
    ref = inventory.get("fin_erp", "expenditures")
    with duckdb.connect(str(copy)) as con:
        con.execute("DELETE FROM staging.base_fin_erp__expenditures WHERE ledger_id = 'GL-202307000001'")
        result = reconcile(ref, defective_built.landing, con)
    assert not result.holds
    bad = [b for b in result.batches if not b.holds]
    assert bad[0].unexplained == 1 and bad[0].examples == ["GL-202307000001"]
    assert "DOES NOT HOLD" in result.describe() and "GL-202307000001" in result.describe()
