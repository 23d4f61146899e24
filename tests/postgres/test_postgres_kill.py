"""PostgreSQL killed in the middle of `citystat postgres build`: the command fails with one clear line, the published
schemas (published_marts, published_quality) are still the previous build's, and once the server is back the next
build completes and publishes; the reader role (CITYSTAT_WAREHOUSE_POSTGRES_READER) reads the publication only.

The server is one of the test's own (own_postgres.py, the `own_server` fixture in conftest.py): killing the shared
server would break every other engineer's tests.
"""
import subprocess
import sys

import pytest

from own_postgres import published, schema_comment, wait_for_dbt_creating_a_table
from pipeline_helpers import ROOT

PUBLISHED = ("published_marts", "published_quality")
MARKER = "the first build"


def _build(env: dict, **kwargs) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "citystat.cli", "postgres", "build"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kwargs)


@pytest.mark.timeout(900)
def test_killing_postgres_mid_build_keeps_the_published_schemas_and_the_next_build_completes(pipeline, own_server):
    env = {**pipeline.env, "CITYSTAT_WAREHOUSE_POSTGRES_URL": own_server.url, "CITYSTAT_WAREHOUSE_POSTGRES_READER": "analyst",
           "PYTHONUNBUFFERED": "1"}
    import psycopg

    # 1. a first build publishes; mark the publication so a later swap (or damage) shows
    first = _build(env)
    out, err = first.communicate(timeout=600)
    assert first.returncode == 0, out[-3000:] + err[-3000:]
    before = published(own_server.url, PUBLISHED)
    assert sum(1 for name in before if name.startswith("published_marts.")) >= 15
    assert before["published_marts.fct_expenditures"][0] > 0
    with psycopg.connect(own_server.url) as con:
        con.execute(f"comment on schema published_marts is '{MARKER}'")

    # 2. a second build; the server is killed while dbt creates a table
    second = _build(env)
    query = wait_for_dbt_creating_a_table(own_server.url, second)
    own_server.kill()
    out, err = second.communicate(timeout=600)
    assert second.returncode != 0, out[-3000:]
    lines = err.strip().splitlines()
    assert len(lines) == 1, err[-3000:]
    assert lines[0].startswith("error: PostgreSQL became unreachable (") and "127.0.0.1" in lines[0], lines[0]
    assert "the published schemas are the previous build's" in lines[0] and "password" not in lines[0].lower()
    assert "PostgreSQL warehouse built and published" not in out
    assert "__dbt_tmp" in query

    # 3. the server back (crash recovery): the publication is the first build's, whole
    own_server.start()
    assert schema_comment(own_server.url, 'published_marts') == MARKER
    assert published(own_server.url, PUBLISHED) == before

    # 4. the next build completes and publishes again (the swap drops the marker with the old schema)
    third = _build(env)
    out, err = third.communicate(timeout=600)
    assert third.returncode == 0, out[-3000:] + err[-3000:]
    assert "PostgreSQL warehouse built and published" in out
    assert schema_comment(own_server.url, 'published_marts') is None
    assert published(own_server.url, PUBLISHED) == before  # the same landing: the same published rows
    with psycopg.connect(own_server.url) as con:  # no side copy left behind
        assert con.execute("select count(*) from pg_namespace where nspname like 'publishing_%'").fetchone()[0] == 0

    # 5. the reader role reads the publication and nothing else
    analyst = own_server.url.replace("citystat@", "analyst@", 1)
    with psycopg.connect(analyst, autocommit=True) as con:
        assert con.execute("select count(*) from published_marts.fct_expenditures").fetchone()[0] == \
            before["published_marts.fct_expenditures"][0]
        for statement in ("select count(*) from marts.fct_expenditures",
                          "create table published_marts.mine (x int)",
                          "delete from published_marts.fct_expenditures"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                con.execute(statement)
