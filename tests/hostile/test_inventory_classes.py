"""Hostile inventory entries: every credential form in every field that can hold a URL, locations that escape the
data roots, and drop folders with symlinks leading out. Each is refused with a problem naming the entry and the
field, and no message (nor the CLI's output) shows the secret or anything read from a file."""
from __future__ import annotations

import copy
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from data_inventory import DEFAULT_PATH, validate
from data_inventory.paths import files_in_folder

SECRET = "Pa/ss0rd"
CREDENTIAL_FORMS = {
    "user_password": f"postgresql://svc:{SECRET}@db.riverton.gov/mms",
    "empty_user": f"postgresql://:{SECRET}@db.riverton.gov/mms",
    "token_before_at": f"https://{SECRET.replace('/', '')}tok@data.riverton.gov/d/x",
    "user_and_pass_params": f"https://data.riverton.gov/d/x?user=svc&pass={SECRET}",
    "password_param": f"https://data.riverton.gov/d/x?password={SECRET}",
    "token_param": f"https://data.riverton.gov/resource/x.json?$$app_token={SECRET}",
    "secret_param": f"https://data.riverton.gov/d/x?client_secret={SECRET}",
    "key_param": f"https://data.riverton.gov/d/x?api_key={SECRET}",
    "connection_string": f"Driver={{SQL Server}};Server=mms01;Password={SECRET}",
}
SQLITE = "departments[pw].systems[pw_mms].datasets[work_orders]"
SODA = "departments[proc].systems[proc_portal].datasets[vendors]"
# (what, where the value goes, entry, field named in the problem)
URL_FIELDS = [
    ("sqlite location", ("pw_mms", "work_orders", "location", "default"), SQLITE, "location.default"),
    ("api location", ("proc_portal", "vendors", "location", "default"), SODA, "location.default"),
    ("location note", ("pw_mms", "work_orders", "location", "note"), SQLITE, "location.note"),
    ("publication url", ("pw_mms", "work_orders", "publication", "url"), SQLITE, "publication.url"),
    ("dataset description", ("pw_mms", "work_orders", "description"), SQLITE, "description"),
    ("city portal", ("city", "open_data_portal"), "inventory", "city.open_data_portal"),
]


def _dataset(data, system_id, dataset_id):
    return next(ds for d in data["departments"] for s in d["systems"] if s["id"] == system_id
                for ds in s["datasets"] if ds["id"] == dataset_id)


@pytest.fixture(scope="module")
def shipped():
    return yaml.safe_load(DEFAULT_PATH.read_text(encoding="utf-8"))


def _write(tmp_path, shipped, mutate) -> Path:
    data = copy.deepcopy(shipped)
    mutate(data)
    path = tmp_path / "inventory.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def _set(data, where, value):
    if where[0] == "city":
        data["city"][where[1]] = value
        return
    node = _dataset(data, where[0], where[1])
    for key in where[2:-1]:
        node = node.setdefault(key, {})
    if where[-2:] == ("publication", "url"):
        node["status"] = "published"
    node[where[-1]] = value


@pytest.mark.timeout(120)
@pytest.mark.parametrize("form", sorted(CREDENTIAL_FORMS))
@pytest.mark.parametrize("what,where,entry,field", URL_FIELDS, ids=[u[0] for u in URL_FIELDS])
def test_credentials_are_refused_in_every_url_field(tmp_path, shipped, form, what, where, entry, field):
    value = CREDENTIAL_FORMS[form]
    if what == "dataset description":
        value = f"Exported nightly; see {value} for the raw feed." if "://" in value else None
        if value is None:
            pytest.skip("free text is checked for the URLs it embeds; a bare connection string there is prose")
    problems = validate(_write(tmp_path, shipped, lambda d: _set(d, where, value)))
    matching = [p for p in problems if p.entry == entry and p.field == field and "embeds credentials" in p.message]
    assert matching, f"{form} in {what} passed: {problems}"
    for problem in problems:
        assert SECRET not in str(problem) and SECRET.replace("/", "") not in str(problem), problem


@pytest.mark.timeout(60)
@pytest.mark.parametrize("value", ["postgresql://mms_reader@db.riverton.gov/mms", "http://127.0.0.1:8311/open311/v2",
                                   "https://data.riverton.gov/d/x?$limit=5", "https://data.riverton.gov/people/@maya"])
def test_plain_urls_and_database_user_names_pass(tmp_path, shipped, value):
    assert validate(_write(tmp_path, shipped, lambda d: _set(d, ("proc_portal", "vendors", "location", "default"), value))) == []


ESCAPES = [
    ("drop folder ../", ("ce_vacant", "cases", "location", "default"), "../../../../etc", "location.default"),
    ("drop folder /etc", ("ce_vacant", "cases", "location", "default"), "/etc", "location.default"),
    ("drop folder ~", ("ce_vacant", "cases", "location", "default"), "~/Downloads", "location.default"),
    ("windows drive", ("ce_vacant", "cases", "location", "default"), "C:\\Windows\\System32", "location.default"),
    ("sqlite path outside", ("pw_mms", "work_orders", "location", "default"), "/var/lib/other/app.sqlite", "location.default"),
    ("sqlite url outside", ("pw_mms", "work_orders", "location", "default"), "sqlite:////etc/app.sqlite", "location.default"),
    ("sqlite url climbing", ("pw_mms", "work_orders", "location", "default"), "sqlite:///../../app.sqlite", "location.default"),
    ("glob climbing", ("ce_vacant", "cases", "source_object"), "../../etc/*.csv", "source_object"),
    ("glob absolute", ("ce_vacant", "cases", "source_object"), "/etc/*.csv", "source_object"),
]


@pytest.mark.timeout(60)
@pytest.mark.parametrize("what,where,value,field", ESCAPES, ids=[e[0] for e in ESCAPES])
def test_locations_outside_the_data_roots_are_refused(tmp_path, shipped, what, where, value, field):
    problems = validate(_write(tmp_path, shipped, lambda d: _set(d, where, value)))
    entry = {"ce_vacant": "departments[ce].systems[ce_vacant].datasets[cases]", "pw_mms": SQLITE}[where[0]]
    assert [p for p in problems if p.entry == entry and p.field == field], f"{what} passed: {problems}"


@pytest.mark.timeout(60)
def test_an_absolute_location_under_a_configured_root_is_allowed(tmp_path, shipped, monkeypatch):
    monkeypatch.setenv("CITYSTAT_DATA_ROOTS", str(tmp_path))
    path = _write(tmp_path, shipped, lambda d: _set(d, ("ce_vacant", "cases", "location", "default"), str(tmp_path / "drops")))
    assert validate(path) == []


@pytest.mark.timeout(60)
def test_drop_folders_never_follow_a_symlink_out(tmp_path):
    folder, outside = tmp_path / "drops", tmp_path / "elsewhere"
    folder.mkdir(), outside.mkdir()
    (folder / "vacant_cases_2026-01.csv").write_text("case_id\nCASE-1\n")
    (outside / "vacant_cases_secret.csv").write_text("case_id\nTOP-SECRET-ROW\n")
    (folder / "vacant_cases_passwd.csv").symlink_to("/etc/passwd")
    (folder / "vacant_cases_outside.csv").symlink_to(outside / "vacant_cases_secret.csv")
    (folder / "linked").symlink_to(outside, target_is_directory=True)
    (folder / "vacant_cases_inside.csv").symlink_to(folder / "vacant_cases_2026-01.csv")  # stays inside: fine
    files, problems = files_in_folder(folder, "vacant_cases_*.csv")
    assert [f.name for f in files] == ["vacant_cases_2026-01.csv", "vacant_cases_inside.csv"]
    assert len(problems) == 2 and all("leads outside the drop folder" in p for p in problems)
    linked, linked_problems = files_in_folder(folder, "linked/*.csv")
    assert linked == [] and len(linked_problems) == 1
    text = "\n".join(problems + linked_problems)
    assert "root:" not in text and "TOP-SECRET-ROW" not in text


@pytest.mark.timeout(120)
def test_the_cli_names_entry_and_field_and_never_prints_the_secret(tmp_path, shipped):
    def mutate(d):
        _set(d, ("pw_mms", "work_orders", "location", "default"), CREDENTIAL_FORMS["user_password"])
        _set(d, ("pw_mms", "work_orders", "publication", "url"), f"ftp://svc:{SECRET}@files riverton")  # also breaks the schema
    path = _write(tmp_path, shipped, mutate)
    result = subprocess.run([str(Path(sys.executable).with_name("citystat")), "inventory", "validate", str(path)],
                            capture_output=True, text=True, timeout=100, env={**os.environ, "NO_COLOR": "1"})
    output = result.stdout + result.stderr
    assert result.returncode == 1
    assert f"{SQLITE} location.default: embeds credentials" in output
    assert f"{SQLITE} publication.url" in output
    assert SECRET not in output


@pytest.mark.timeout(60)
def test_the_file_drop_connector_lists_no_file_behind_a_link_out(tmp_path):
    from citystat.connectors.base import SourceSpec
    from citystat.connectors.file_drop import FileDropConnector

    folder = tmp_path / "drops"
    folder.mkdir()
    (folder / "vacant_cases_2026-01.csv").write_text("case_id\nCASE-1\n")
    (folder / "vacant_cases_passwd.csv").symlink_to("/etc/passwd")
    spec = SourceSpec(system_id="ce_vacant", dataset_id="cases", connector="csv_drop", location=str(folder),
                      source_object="vacant_cases_*.csv")
    connector = FileDropConnector(spec)
    assert [p.name for p in connector.files()] == ["vacant_cases_2026-01.csv"]
    assert len(connector.outside_links) == 1 and "root:" not in connector.outside_links[0]
