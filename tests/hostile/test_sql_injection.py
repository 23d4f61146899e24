"""Nothing from the inventory, the KPI registry or a data file becomes SQL: hostile strings (quotes, semicolons,
comment markers, backslashes, NUL, unicode look-alikes, Jinja delimiters) go through every generator and the one
escaping helper on each side (citystat.warehouse.quote_literal / quote_identifier / jinja_inert in Python, the
sql_literal / sql_identifier / sql_number macros in dbt), and DuckDB gives each one back unchanged as data."""
from __future__ import annotations

import dataclasses
import subprocess

import duckdb
import jinja2
import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from macro_harness import CompilerError, macros

ATTACK = "vacant' || (select string_agg(column0, '') from read_csv('/etc/hostname', header=false)) || '"
SPECIAL = ["'", "''", '"', ";", "--", "/*", "*/", "\\", "\x00", "\n", "||", "{{", "}}", "{%", "%}", "{#",
           "\u2019", "\u02bc", "\uff07", "\u201c", "\uff1b", "$$", "E'", "?", "$1", ")", "("]
hostile = st.lists(st.one_of(st.sampled_from(SPECIAL), st.text(max_size=4)), max_size=8).map("".join)
# YAML itself folds line breaks (\r, NEL, U+2028/9) in plain text: a fidelity matter of YAML, not SQL; left out of
# the tests whose generator writes YAML
yaml_text = hostile.filter(lambda t: not any(c in t for c in "\r\x85\u2028\u2029"))
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

M = macros()
CON = duckdb.connect()  # the tests' own connection (the default one is shared with the code under test)


def _duck(sql: str, *params):
    statements = duckdb.extract_statements(sql)
    assert len(statements) == 1, f"{len(statements)} statements in {sql!r}"
    return CON.execute(sql, list(params)).fetchall()


def _reason(rule: dict, raw_field: str, raw_value: str) -> tuple:
    """(does the rule fire, its reason) for one landed row whose `_raw` struct holds raw_value in raw_field."""
    sql = (f"select ({rule['when']}) as fires, {rule['reason']} as reason "
           f"from (select struct_pack({M.sql_identifier(raw_field)} := ?::varchar) as _raw, ?::varchar as status)")
    return _duck(sql, raw_value, raw_value)[0]


@pytest.mark.timeout(60)
def test_the_reported_attack_worked_before_and_is_plain_text_now():
    old = {name: subprocess.run(["git", "show", f"ac8ab28:dbt_project/macros/{name}"], capture_output=True, text=True,
                                check=True).stdout for name in ("quarantine.sql", "casting.sql")}
    before = macros({**old, "sql_text.sql": "{# none #}"}).rule_allowed_values("status", ["open", ATTACK], "status")
    leaked = _duck(f"select {before['reason']} from (select {{'status': 'bogus'}} as _raw)")[0][0]
    host = open("/etc/hostname").read().strip()
    assert leaked == f"status 'bogus' is not one of open, vacant{host}"  # the host name reached the reason

    after = M.rule_allowed_values("status", ["open", ATTACK], "status")
    assert _reason(after, "status", "bogus") == (True, f"status 'bogus' is not one of open, {ATTACK}")
    assert _reason(after, "status", ATTACK)[0] is False  # the hostile code is an allowed value, nothing more


@pytest.mark.timeout(120)
@FAST
@given(values=st.lists(hostile, min_size=1, max_size=3), landed=hostile)
@example(values=[ATTACK], landed="x'; drop table t; --")
def test_allowed_values_stay_data(values, landed):
    rule = M.rule_allowed_values("status", values, "status")
    fires, reason = _reason(rule, "status", landed)
    # the same test with bound parameters: the spliced SQL must answer exactly as the parameterised one
    clean, expected = _duck("select nullif(trim(?::varchar), '') as c, c is not null and lower(c) <> all(select lower(unnest(?::varchar[])))",
                            landed, list(values))[0]
    assert fires is expected
    assert reason == (None if clean is None else f"status '{clean}' is not one of {', '.join(values)}")


@pytest.mark.timeout(120)
@FAST
@given(field=hostile.filter(bool), type_name=hostile, landed=hostile)
def test_field_names_and_types_stay_data(field, type_name, landed):
    for rule in [*M.rule_required("status", field, type_name), M.rule_castable("status", field, type_name)]:
        fires, reason = _reason(rule, field, landed)
        clean = _duck("select nullif(trim(?::varchar), '')", landed)[0][0]
        if rule["rule"] == "missing_required":
            assert reason == f"required field {field} is empty"
        elif clean is not None:
            assert reason == f"{field} '{clean}' is not a valid {type_name}"


@pytest.mark.timeout(120)
@FAST
@given(pattern=hostile)
def test_patterns_stay_data(pattern):
    rule = M.rule_pattern("status", pattern, "status")
    try:
        fires, reason = _reason(rule, "status", "abc")
    except duckdb.InvalidInputException:
        return  # not a valid regular expression for DuckDB: an error, never SQL
    assert reason == f"status 'abc' does not match {pattern}"


@pytest.mark.timeout(60)
@FAST
@given(bound=st.one_of(hostile, st.booleans(), st.none()))
def test_range_bounds_must_be_numbers(bound):
    if bound is None:
        return
    with pytest.raises(CompilerError):
        M.rule_range("amount", bound, None)


@pytest.mark.timeout(60)
@FAST
@given(low=st.integers(-10**6, 10**6), high=st.floats(-1e6, 1e6, allow_nan=False))
def test_numeric_bounds_compile(low, high):
    rule = M.rule_range("amount", low, high)
    assert _duck(f"select {rule['when']} from (select 0::double as amount)")[0][0] == (0 < low or 0 > high)


@pytest.mark.timeout(60)
@FAST
@given(as_of=hostile, tz=hostile)
def test_variables_stay_data(as_of, tz):
    m = macros(variables={"as_of": as_of, "city_timezone": tz})
    sql = str(m.as_of_limit()).strip()
    try:
        _duck(f"select {sql} from (select now() as _extracted_at)")
    except (duckdb.ConversionException, duckdb.InvalidInputException, duckdb.NotImplementedException, duckdb.BinderException) as exc:
        assert "Parser" not in type(exc).__name__


@pytest.mark.timeout(60)
@pytest.mark.parametrize("as_of", ["2026-10-31' as date); drop table x; --", "{{ 7 * 7 }}", "2026-10-31\\' --"])
def test_the_as_of_date_from_the_environment_stays_data(as_of):
    """The as-of date reaches dbt as $CITYSTAT_DBT_AS_OF (partial parsing): a hostile value is a literal, never SQL."""
    sql = str(macros(environment={"CITYSTAT_DBT_AS_OF": as_of}).as_of_limit()).strip()
    assert sql.startswith("(cast('") and "{{" not in sql.replace("{{ 7 * 7 }}", "")
    with pytest.raises(duckdb.ConversionException):
        _duck(f"select {sql} from (select now() as _extracted_at)")
    assert _duck("select 1")[0][0] == 1


@pytest.mark.timeout(60)
@FAST
@given(text=hostile)
def test_python_and_jinja_helpers_agree_and_round_trip(text):
    from citystat.warehouse import quote_identifier, quote_literal

    assert str(M.sql_literal(text)) == quote_literal(text)
    assert str(M.sql_identifier(text)) == quote_identifier(text)
    assert _duck(f"select {quote_literal(text)}")[0][0] == text
    if text and "\x00" not in text:
        cursor = CON.execute(f"select 1 as {quote_identifier(text)}")
        assert cursor.description[0][0] == text and cursor.fetchall() == [(1,)]


def _dbt_render(text):
    """What dbt's YAML rendering makes of a property (plain Jinja with dbt's helpers unavailable)."""
    return jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True).from_string(text).render() if isinstance(text, str) else text


@pytest.mark.timeout(120)
@FAST
@given(values=st.lists(yaml_text.filter(bool), min_size=1, max_size=3, unique=True), description=yaml_text.filter(bool))
def test_dbt_sources_keep_inventory_text_as_data(values, description):
    from citystat import dbt_sources
    from data_inventory import load_inventory

    ref = next(r for r in load_inventory().datasets() if r.key == ("ce_vacant", "cases"))
    fields = tuple(dataclasses.replace(f, allowed_values=tuple(values), description=description) if f.name == "status" else f
                   for f in ref.dataset.fields)
    ref = dataclasses.replace(ref, dataset=dataclasses.replace(ref.dataset, fields=fields))
    document = yaml.safe_load(dbt_sources.render({"version": 2, "sources": [{"name": "ce_vacant", "tables": [dbt_sources._table(ref)]}]}))
    status = next(c for c in document["sources"][0]["tables"][0]["columns"] if c["name"] == "status")
    lines = lambda text: text.replace("\r\n", "\n").replace("\r", "\n")  # Jinja normalises line ends: not an injection
    assert [lines(_dbt_render(v)) for v in status["meta"]["allowed_values"]] == [lines(v) for v in values]
    assert lines(_dbt_render(status["description"])) == lines(description)


@pytest.mark.timeout(120)
@FAST
@given(kpi_id=yaml_text.filter(bool), name=yaml_text.filter(bool))
def test_semantic_metrics_keep_registry_text_as_data(kpi_id, name):
    from citystat.kpi import semantic
    from citystat.kpi.registry import load_registry

    kpi = dataclasses.replace(next(iter(load_registry().kpis.values())), id=kpi_id, name=name)
    for metric in yaml.safe_load(semantic.render(type("R", (), {"kpis": {kpi_id: kpi}})()))["metrics"]:
        lines = lambda text: text.replace("\r\n", "\n").replace("\r", "\n")  # Jinja normalises line ends: not an injection
        assert lines(_dbt_render(metric["label"])).startswith(lines(name))
        if "filter" in metric:
            rendered = jinja2.Environment().from_string(metric["filter"]).render(Dimension=lambda d: "dim")
            assert rendered.startswith("dim = ")
            assert lines(_duck("select " + rendered.removeprefix("dim = "))[0][0]) == lines(kpi_id)


@pytest.mark.timeout(120)
@FAST
@given(values=st.lists(hostile, min_size=1, max_size=3))
def test_gx_suites_carry_allowed_values_as_a_value_set(values):
    """GX validates pandas frames: the value set is data in JSON, compared as values."""
    import json

    from citystat.quality import suite_generation
    from data_inventory import load_inventory

    ref = next(r for r in load_inventory().datasets() if r.key == ("ce_vacant", "cases"))
    fields = tuple(dataclasses.replace(f, allowed_values=tuple(values)) if f.name == "status" else f for f in ref.dataset.fields)
    ref = dataclasses.replace(ref, dataset=dataclasses.replace(ref.dataset, fields=fields))
    sets = [e["kwargs"]["value_set"] for e in json.loads(json.dumps(suite_generation.baseline(ref)))
            if e["type"] == "expect_column_values_to_be_in_set" and e["kwargs"]["column"] == "status"]
    assert sets == [values]


@pytest.mark.timeout(60)
@FAST
@given(name=hostile.filter(lambda s: bool(s) and not any(c in s for c in "\x00/\\*?[]{}")))  # glob characters are DuckDB's file syntax
def test_landed_batch_paths_are_literals(tmp_path_factory, name):
    from citystat.quality.landed import _source

    folder = tmp_path_factory.mktemp("batches")
    path = folder / f"{name}.parquet"
    try:
        CON.execute(f"copy (select 1 as x) to {__import__('citystat.warehouse', fromlist=['q']).quote_literal(str(path))} (format parquet)").fetchall()
    except duckdb.Error:
        return  # the filesystem refuses the name
    assert _duck(f"select x from {_source([path])}") == [(1,)]
