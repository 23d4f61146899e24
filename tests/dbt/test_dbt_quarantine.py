"""Every landing row is staged, quarantined with a rule and a reason, or superseded by a kept version of its key;
the injected defects land in quarantine under the matching rule."""
from __future__ import annotations

import duckdb
import pytest

from data_inventory import load_inventory

from dbt_helpers import tables

# the session's scale-0.1 city and warehouse (fixtures) are built inside the first test that asks for them
pytestmark = pytest.mark.timeout(1800)

# defect class of the generator -> quarantine rule that must catch it
CLASS_RULES = {
    "closed_before_opened": {"closed_before_opened"},
    "invalid_code": {"invalid_code"},
    "orphan_key": {"orphan_key"},
    "future_date": {"future_date"},
    "negative_amount": {"negative_amount", "out_of_range"},
    "duplicate": {"duplicate_row"},
    "addressed_without_evidence": {"addressed_without_evidence"},
}
# record id column of each dataset's quarantine table
ID_COLUMNS = {
    "crm311.service_requests": "service_request_id", "pw_mms.work_orders": "work_order_id",
    "fire_cad.incidents": "incident_id", "ce_vacant.cases": "case_id", "ce_vacant.inspections": "inspection_id",
    "fin_erp.expenditures": "ledger_id", "hs_centres.centre_monthly": "site_id || '@' || strftime(month_start, '%Y-%m')",
    "pw_paving.paving_reports": "segment_id || '@' || strftime(report_week, '%Y-%m-%d')",
}


# typed key columns of each base model (the inventory's primary key, renamed)
BASE_KEYS = {
    "crm311.services": ["service_code"], "crm311.service_requests": ["service_request_id"],
    "pw_mms.work_orders": ["work_order_id"], "pw_mms.crews": ["crew_id"], "pw_mms.assets": ["asset_id"],
    "pw_paving.paving_reports": ["report_week", "segment_id"], "ce_vacant.cases": ["case_id"],
    "ce_vacant.inspections": ["inspection_id"], "fin_erp.budget": ["fiscal_year", "program_code", "fund", "account"],
    "fin_erp.expenditures": ["ledger_id"], "fin_erp.positions": ["snapshot_date", "position_id"],
    "proc_portal.vendors": ["vendor_id"], "proc_portal.contracts": ["contract_id"],
    "proc_portal.contract_milestones": ["milestone_id"], "fire_cad.incidents": ["incident_id"],
    "fire_cad.stations": ["station_id"], "hs_centres.centre_monthly": ["month_start", "site_id"],
    "perf_office.kpi_submissions": ["kpi_id", "period_month"], "perf_office.strategic_goals": ["goal_id"],
    "omb_reference.peer_city_spending": ["city", "state", "fiscal_year", "function_code"],
    "perf_workbench.flag_actions": ["id"], "perf_workbench.commentary": ["id"],
}


def landed_datasets():
    return [ref.key for ref in load_inventory().datasets() if ref.dataset.ingested]


@pytest.mark.parametrize("system,dataset", landed_datasets())
def test_each_batch_reconciles(built, system, dataset):
    """Per batch: raw rows = staged + quarantined + superseded, and no key of the batch is lost."""
    with built.connect() as con:
        raw = dict(con.execute(
            f"SELECT _load_id, count(*) FROM read_parquet('{built.landing}/{system}/{dataset}/*.parquet', union_by_name = true) GROUP BY 1"
        ).fetchall())
        staged = dict(con.execute(f"SELECT _load_id, count(*) FROM staging.stg_{system}__{dataset} GROUP BY 1").fetchall())
        quarantined = dict(con.execute(f"SELECT _load_id, count(*) FROM quality.quarantine_{system}__{dataset} GROUP BY 1").fetchall())
        kept = con.execute(f"SELECT count(*) FROM staging.base_{system}__{dataset}").fetchone()[0]
    assert raw, f"nothing landed for {system}.{dataset}"
    assert set(staged) | set(quarantined) <= set(raw)
    for load_id, rows in raw.items():
        superseded = rows - staged.get(load_id, 0) - quarantined.get(load_id, 0)
        assert superseded >= 0, f"{load_id}: more rows staged and quarantined than landed"
    assert kept == sum(staged.values()) + sum(quarantined.values())


def test_nothing_is_lost_keys_of_every_landing_row_are_kept(built):
    """Each primary key seen in the landing is present in its base model (staged or quarantined)."""
    missing = {}
    with built.connect() as con:
        for ref in load_inventory().datasets():
            if not ref.dataset.ingested or not ref.dataset.primary_key:
                continue
            system, dataset = ref.key
            raw_keys = con.execute(
                f"SELECT count(DISTINCT ({', '.join(chr(34) + k + chr(34) for k in ref.dataset.primary_key)})) "
                f"FROM read_parquet('{built.landing}/{system}/{dataset}/*.parquet', union_by_name = true)"
            ).fetchone()[0]
            key_columns = BASE_KEYS[f"{system}.{dataset}"]
            assert len(key_columns) == len(ref.dataset.primary_key), ref.key
            kept_keys = con.execute(
                f"SELECT count(DISTINCT ({', '.join(key_columns)})) FROM staging.base_{system}__{dataset}"
            ).fetchone()[0]
            if kept_keys < raw_keys:
                missing[f"{system}.{dataset}"] = raw_keys - kept_keys
    assert not missing


def test_quarantine_rows_carry_rule_reason_and_landing_row(built):
    with built.connect() as con:
        for _, table in tables(con, "quality"):
            if not table.startswith("quarantine_"):
                continue
            bad = con.execute(
                f"SELECT count(*) FROM quality.{table} WHERE _quarantine_rule IS NULL OR _quarantine_reason IS NULL "
                "OR _load_id IS NULL OR _row_number IS NULL"
            ).fetchone()[0]
            assert bad == 0, table


def test_injected_defects_are_quarantined_under_the_matching_rule(built, defects):
    caught, total = {}, {}
    with built.connect() as con:
        for (dataset, defect_class), ids in defects.items():
            if defect_class not in CLASS_RULES or dataset not in ID_COLUMNS:
                continue
            system, name = dataset.split(".")
            found = {r for (r,) in con.execute(
                f"SELECT DISTINCT {ID_COLUMNS[dataset]} FROM quality.quarantine_{system}__{name} "
                "WHERE _quarantine_rule IN (SELECT unnest(?::VARCHAR[]))",
                [sorted(CLASS_RULES[defect_class])],
            ).fetchall()}
            caught[(dataset, defect_class)] = len(ids & found)
            total[(dataset, defect_class)] = len(ids)
    assert set(defect for _, defect in total) >= {"closed_before_opened", "invalid_code", "orphan_key", "future_date", "negative_amount"}
    # Every class is caught in every dataset it was injected into; where the generator's manifest and its files
    # agree, every injected record is.
    assert all(caught[k] > 0 for k in total), {k: (caught[k], total[k]) for k in total if not caught[k]}
    exact = {k for k in total if k[0] not in ("ce_vacant.cases", "ce_vacant.inspections")}
    assert {k: (caught[k], total[k]) for k in exact if caught[k] != total[k]} == {}
