"""citystat.warehouse.write_table: the one way a DataFrame becomes a documented warehouse table."""
from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from citystat.warehouse import MissingMartError, quote_identifier, quote_literal, require, write_table


@pytest.mark.timeout(120)
def test_names_and_comments_are_quoted_and_values_bound():
    con = duckdb.connect()
    frame = pd.DataFrame({'odd "name"': ["x'); DROP TABLE t; --"], "n": [1]})
    docs = {'odd "name"': "the resident's note", "n": "a count"}
    assert write_table(con, "metrics.t", frame, "Bobby's table", docs) == 1
    assert con.execute('SELECT "odd ""name""" FROM metrics.t').fetchone()[0] == "x'); DROP TABLE t; --"
    assert con.execute("SELECT comment FROM duckdb_tables() WHERE table_name = 't'").fetchone()[0] == "Bobby's table"
    comments = dict(con.execute("SELECT column_name, comment FROM duckdb_columns() WHERE table_name = 't'").fetchall())
    assert comments == docs


@pytest.mark.timeout(120)
def test_reruns_replace_types_cast_and_undocumented_columns_refused():
    con = duckdb.connect()
    write_table(con, "metrics.t", pd.DataFrame({"d": ["2026-01-01"], "e": [None]}), "t", {"d": "day", "e": "empty"},
                {"d": "DATE"})
    write_table(con, "metrics.t", pd.DataFrame({"d": ["2026-02-01", "2026-03-01"], "e": [None, None]}), "t",
                {"d": "day", "e": "empty"}, {"d": "DATE"})
    types = dict(con.execute("SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = 't'").fetchall())
    assert types == {"d": "DATE", "e": "VARCHAR"} and con.execute("SELECT count(*) FROM metrics.t").fetchone()[0] == 2
    with pytest.raises(ValueError, match=r"metrics.t: column\(s\) e have no description"):
        write_table(con, "metrics.t", pd.DataFrame({"d": [1], "e": [2]}), "t", {"d": "day"})
    with pytest.raises(ValueError, match="not a SQL type name"):
        write_table(con, "metrics.t", pd.DataFrame({"d": [1]}), "t", {"d": "day"}, {"d": "INT); DROP TABLE x; --"})
    with pytest.raises(ValueError, match="expected schema.table"):
        write_table(con, "t", pd.DataFrame({"d": [1]}), "t")


@pytest.mark.timeout(120)
def test_quoting_and_require():
    assert quote_identifier('a"b') == '"a""b"' and quote_literal("it's") == "'it''s'"
    con = duckdb.connect()
    with pytest.raises(MissingMartError, match="the memo needs marts.x"):
        require(con, "marts.x", ["a"], "the memo")
