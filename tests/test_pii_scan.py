"""Nothing personal leaves raw landing: every published artefact of the shared pipeline run (the snapshot's tables,
Data Docs, memos and any other file the run writes outside landing and logs) is scanned for the values of every
field the inventory marks pii, for e-mail addresses and for phone numbers, and holds none. The free-text
scrubber's recall on the demo city's planted personal details (defects.json, class pii_in_free_text) is measured
on the staged text and printed."""
from __future__ import annotations

import json
import re

import duckdb
import pytest

from citystat.quality.pii_scan import DATA_SUFFIXES, EMAIL, PHONE, data_file_texts, file_texts, find_personal_data, pii_values, snapshot_texts, work_emails
from data_inventory import load_inventory
from demo_city.people import FIRST_NAMES, LAST_NAMES

pytestmark = [pytest.mark.slow, pytest.mark.timeout(2400)]

TEXT_SUFFIXES = {".html", ".htm", ".md", ".json", ".csv", ".txt", ".js"}
FULL_NAME = re.compile(rf"\b(?:{'|'.join(FIRST_NAMES)}) (?:{'|'.join(LAST_NAMES)})\b")
# where each planted dataset's free text is published, keyed by its record id
PLANTED_TEXT = {
    "crm311.service_requests": (["marts.fct_service_requests", "quality.quarantine_crm311__service_requests"],
                                "service_request_id", ["description", "status_notes"]),
    "ce_vacant.inspections": (["marts.fct_inspections", "quality.quarantine_ce_vacant__inspections"], "inspection_id", ["notes"]),
    "fin_erp.expenditures": (["marts.fct_expenditures", "quality.quarantine_fin_erp__expenditures"], "ledger_id", ["description"]),
}



# The dashboards' compiled JavaScript (_app/immutable of the site, `dashboards` -> one release in
# `dashboards.releases/`) is built from npm packages and the repo's page source, never from warehouse data: its number
# runs look like phone numbers and Evidence's support address like a resident's. The site's data is scanned where it
# lives: the prerendered pages and the data files beside them.
COMPILED_CODE = ("_app", "immutable")


def _is_compiled_site_code(parts: tuple[str, ...]) -> bool:
    site = parts[1:] if parts[:1] == ("dashboards",) else parts[2:] if parts[:1] == ("dashboards.releases",) else None
    return site is not None and site[:2] == COMPILED_CODE


def _published_files(warehouse):
    for path in sorted(warehouse.rglob("*")):
        parts = path.relative_to(warehouse).parts
        if _is_compiled_site_code(parts) and path.suffix.lower() == ".js":
            continue
        if path.is_file() and parts[0] not in ("landing", "logs") and path.suffix.lower() in TEXT_SUFFIXES | DATA_SUFFIXES:
            yield path


def test_published_artefacts_hold_no_personal_data(pipeline):
    warehouse = pipeline.tmp / "warehouse"
    assert pipeline.snapshot.exists(), pipeline.first_run.stdout[-3000:] + pipeline.first_run.stderr[-3000:]
    inventory = load_inventory()
    values = pii_values(warehouse / "landing", inventory)
    assert len(values) > 100, "the demo city's pii fields were not found in landing: the scan would prove nothing"
    # positive control: the same scan over raw landing (where personal data may live) finds it
    landed = duckdb.connect()
    try:
        raw = landed.execute(f"SELECT string_agg(concat_ws(' | ', description, phone, email, first_name || ' ' || last_name), chr(10)) "
                             f"FROM read_parquet('{warehouse}/landing/crm311/service_requests/*.parquet', union_by_name = true)").fetchone()[0]
    finally:
        landed.close()
    control = find_personal_data([("landing crm311.service_requests", raw)], values)["landing crm311.service_requests"]
    assert len(control) == 3, control  # e-mails, phones and pii values
    files = list(_published_files(warehouse))
    assert any(p.suffix == ".html" and "data_docs" in str(p) for p in files), "no Data Docs to scan"
    texts = [p for p in files if p.suffix.lower() in TEXT_SUFFIXES]
    data = [p for p in files if p.suffix.lower() in DATA_SUFFIXES]  # open-data exports' Parquet, dashboard results
    print(f"\nscanned: the snapshot, {len(texts)} text files, {len(data)} Parquet/Arrow files "
          f"({sum('open_data.releases' in p.parts for p in files)} open-data export files)")
    found = find_personal_data([*snapshot_texts(pipeline.snapshot), *file_texts(texts, warehouse),
                                *data_file_texts(data, warehouse)], values, allowed_emails=work_emails(inventory))
    assert found == {}, "personal data outside raw landing:\n" + "\n".join(f"  {k}: {', '.join(v)}" for k, v in found.items())


def test_free_text_scrubber_recall_on_the_planted_personal_details(pipeline):
    """Every planted e-mail, phone number and full name is gone from the published text of its record."""
    defects = json.loads((pipeline.tmp / "city" / "defects.json").read_text())["defects"]
    planted = {d["dataset"]: d["record_ids"] for d in defects if d["defect_class"] == "pii_in_free_text"}
    assert set(planted) == set(PLANTED_TEXT), planted.keys()
    landing = pipeline.tmp / "warehouse" / "landing"
    totals: dict[str, list[int]] = {"email": [0, 0], "phone": [0, 0], "name": [0, 0]}
    missing = 0
    con = duckdb.connect(str(pipeline.snapshot), read_only=True)
    raw = duckdb.connect()
    try:
        for dataset, ids in planted.items():
            tables, key, columns = PLANTED_TEXT[dataset]
            system, name = dataset.split(".")
            text_sql = " || ' ' || ".join(f"coalesce(cast(\"{c}\" as varchar), '')" for c in columns)
            source = f"read_parquet('{landing}/{system}/{name}/*.parquet', union_by_name = true)"
            before = dict(raw.execute(f"SELECT {key}, max({text_sql}) FROM {source} WHERE {key} IN (SELECT unnest(?)) GROUP BY 1",
                                      [ids]).fetchall())
            published_in = " UNION ALL ".join(f"SELECT {key}, {text_sql} AS text FROM {t}" for t in tables)
            after = dict(con.execute(f"SELECT {key}, string_agg(text, ' ') FROM ({published_in}) WHERE {key} IN (SELECT unnest(?)) "
                                     "GROUP BY 1", [ids]).fetchall())
            for record, text in before.items():
                published = after.get(record)
                if published is None:
                    missing += 1  # not published at all (e.g. a set-aside file): nothing to scrub
                    continue
                for kind, pattern in (("email", EMAIL), ("phone", PHONE), ("name", FULL_NAME)):
                    for match in pattern.finditer(text):
                        item = match.group(0)
                        totals[kind][0] += 1
                        totals[kind][1] += item not in published
    finally:
        con.close()
        raw.close()
    lines = [f"{kind:6} planted {n:4}  scrubbed {k:4}  recall {k / n:.3f}" for kind, (n, k) in totals.items() if n]
    lines.append(f"({missing} planted record(s) not published at all)")
    print("\nfree-text scrubber recall on the planted personal details\n" + "\n".join(lines))
    assert totals["email"][0] and totals["phone"][0] and totals["name"][0], totals
    assert all(k == n for n, k in totals.values()), "\n".join(lines)
