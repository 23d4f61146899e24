"""The built Evidence site (the session's one build, ``built_site``) holds no personal data: its prerendered
pages and the data files beside them (each query's Parquet result and its Arrow copy for the browser) are scanned
for the values of every pii field of the run's landing, e-mail addresses and phone numbers, and hold none.
The compiled framework JavaScript is built from npm packages and page source, never from warehouse data, and
its number runs look like phone numbers: it is left out (tests/test_pii_scan.py says the same)."""
from __future__ import annotations

import pytest

from citystat.quality.pii_scan import DATA_SUFFIXES, data_file_texts, file_texts, find_personal_data, pii_values, work_emails
from data_inventory import load_inventory

pytestmark = [pytest.mark.slow, pytest.mark.timeout(2400)]
TEXT_SUFFIXES = {".html", ".htm", ".json", ".csv", ".txt", ".md"}



def test_the_built_site_holds_no_personal_data(built_site, pipeline):
    inventory = load_inventory()
    values = pii_values(pipeline.tmp / "warehouse" / "landing", inventory)
    assert len(values) > 100, "the demo city's pii fields were not found in landing: the scan would prove nothing"
    files = [p for p in sorted(built_site.site_dir.rglob("*")) if p.is_file()]
    pages = [p for p in files if p.suffix.lower() in TEXT_SUFFIXES]
    data = [p for p in files if p.suffix.lower() in DATA_SUFFIXES]
    print(f"\nsite scan: {len(pages)} text files ({sum(p.suffix == '.html' for p in pages)} pages), "
          f"{len(data)} Parquet/Arrow data files")
    assert sum(p.suffix == ".html" for p in pages) >= len(built_site.pages) > 0
    assert any(p.suffix == ".parquet" for p in data) and any(p.suffix == ".arrow" for p in data), "no data files to scan"
    # positive control: a planted caller's details in a copy of the scanned text are found
    (planted,) = sorted(values)[:1]
    control = find_personal_data([("control", f"{planted} at 404-555-0199, x@example.org")], values)
    assert len(control["control"]) == 3, control
    found = find_personal_data([*file_texts(pages, built_site.site_dir), *data_file_texts(data, built_site.site_dir)],
                               values, allowed_emails=work_emails(inventory))
    assert found == {}, "personal data in the dashboard build:\n" + "\n".join(f"  {k}: {', '.join(v)}" for k, v in found.items())
