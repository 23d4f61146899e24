"""The open-data exports the shared pipeline run builds (`publish/open_data`): what the demo city releases and
holds, no personal data or restricted field in any file, and a data.json that validates against the vendored
DCAT-US 1.1 schema with every downloadURL pointing at a released file."""
from __future__ import annotations

import json

import duckdb
import pytest

from citystat.quality.pii_scan import file_texts, find_personal_data, pii_values
from data_inventory import load_inventory
from data_inventory.dcat import validate_catalog
from pipeline_helpers import citystat

pytestmark = [pytest.mark.slow, pytest.mark.timeout(2400)]


def _root(pipeline):
    return pipeline.tmp / "warehouse" / "open_data"


def test_the_run_releases_the_public_datasets_and_holds_the_one_at_mosaic_risk(pipeline):
    assert pipeline.first_run.returncode in (0, 1), pipeline.first_run.stderr[-3000:]
    manifest = json.loads((_root(pipeline) / "manifest.json").read_text())
    status = {e["id"]: e["status"] for e in manifest["exports"]}
    # open_data.yaml: three public, published datasets, one aggregate, the KPI series and the goals' progress;
    # 311 requests by address, day and type single out residents, so that export waits for a reviewer
    assert status == {"crm311.service_requests": "held", "perf_office.strategic_goals": "released",
                      "fire_cad.stations": "released", "service_requests_by_zip_and_type": "released",
                      "kpi_series": "released", "strategic_goal_progress": "released"}
    released = {p.name for p in _root(pipeline).iterdir() if not p.name.startswith(".")} - {"manifest.json"}
    assert released == {k for k, v in status.items() if v == "released"}
    review = citystat(pipeline.env, "open-data", "review")
    assert "crm311.service_requests: pending" in review.stdout


def test_no_export_holds_personal_data_or_a_restricted_field(pipeline):
    root = _root(pipeline)
    inventory = load_inventory()
    values = pii_values(pipeline.tmp / "warehouse" / "landing", inventory)
    assert len(values) > 100
    files = sorted(p for p in root.rglob("*") if p.is_file())
    assert len([p for p in files if p.suffix == ".parquet"]) == 5
    con = duckdb.connect()
    texts = list(file_texts(files, root))  # Parquet files read back as rows
    for parquet in (p for p in files if p.suffix == ".parquet"):
        columns = {d[0] for d in con.execute("DESCRIBE SELECT * FROM read_parquet(?)", [str(parquet)]).fetchall()}
        name = parquet.stem
        if "." in name:  # an inventory dataset: none of its pii or sensitive fields
            ref = inventory.get(*name.split("."))
            assert not columns & set(ref.restricted_fields), (name, columns & set(ref.restricted_fields))
    con.close()
    contacts = {c.email.lower() for ref in inventory.datasets() for c in (ref.dataset.owner, ref.dataset.steward)}
    assert find_personal_data(texts, values, allowed_emails=contacts) == {}


def test_data_json_validates_and_every_download_url_is_a_released_file(pipeline, tmp_path):
    out = tmp_path / "data.json"
    citystat(pipeline.env, "inventory", "export-dcat", "--open-data", str(_root(pipeline)), "--out", str(out))
    catalog = json.loads(out.read_text())
    assert validate_catalog(catalog) == []
    base = json.loads((_root(pipeline) / "manifest.json").read_text())["base_url"]
    distributions = [d for ds in catalog["dataset"] for d in ds.get("distribution", []) if "downloadURL" in d]
    assert len(distributions) == 10  # CSV and Parquet of the five released exports
    for d in distributions:
        for url in (d["downloadURL"], d["describedBy"]):
            assert url.startswith(base + "/")
            assert (_root(pipeline) / url[len(base) + 1:]).is_file(), url
    assert {d["mediaType"] for d in distributions} == {"text/csv", "application/vnd.apache.parquet"}
    # the held export has no downloadable distribution
    held = next(ds for ds in catalog["dataset"] if ds["identifier"].endswith("crm311.service_requests"))
    assert not any("downloadURL" in d for d in held.get("distribution", []))


def test_the_sites_data_json_points_only_at_files_of_the_current_release(pipeline):
    """The data.json the run publishes (`publish/public_site`): every distribution is a file of the release that
    <warehouse>/open_data points at, listed in its manifest, and the site serves the same bytes."""
    release = _root(pipeline).resolve()
    assert release.parent.name == "open_data.releases"  # one release, swapped in whole
    manifest = json.loads((release / "manifest.json").read_text())
    listed = {f for e in manifest["exports"] if e["status"] == "released" for f in e["files"].values()}
    site = pipeline.tmp / "warehouse" / "public_site"
    catalog = json.loads((site / "data.json").read_text())
    assert validate_catalog(catalog) == []
    base = manifest["base_url"]
    downloads = [d for ds in catalog["dataset"] for d in ds.get("distribution", []) if "downloadURL" in d]
    assert len(downloads) == 10  # CSV and Parquet of the five released exports (other distributions are accessURLs)
    for d in downloads:
        for url in (d["downloadURL"], d["describedBy"]):
            relative = url.removeprefix(base + "/")
            assert relative != url and relative in listed, url
            assert (release / relative).is_file(), url
            assert (site / "open-data" / relative).read_bytes() == (release / relative).read_bytes(), url


def test_a_broken_catalog_fails_the_vendored_schema():
    catalog = load_inventory().to_dcat()
    assert validate_catalog(catalog) == []
    catalog["dataset"][0]["accessLevel"] = "open"
    catalog["dataset"][1]["distribution"] = [{"@type": "dcat:Distribution", "mediaType": "csv"}]
    problems = validate_catalog(catalog)
    assert any(p.startswith("dataset/0/accessLevel") for p in problems) and any("dataset/1/distribution" in p for p in problems), problems
