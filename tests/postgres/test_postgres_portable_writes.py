"""citystat.warehouse's helpers on a SQLAlchemy Core connection to a real PostgreSQL (the portable layer the metric
assets use there): hostile names, values and comments round-trip unchanged, declared types hold, reruns replace."""
import datetime as dt

import pandas as pd
import pytest

from citystat.warehouse import (
    MissingMartError, any_value_of, columns_of, fetch, has_table, quote_literal, read, require, scalar, value_at_max,
    write_table,
)


@pytest.mark.timeout(120)
def test_write_read_and_comments_on_postgres(postgres_url):
    import sqlalchemy as sa

    from citystat.postgres_warehouse import sqlalchemy_url

    engine = sa.create_engine(sqlalchemy_url(postgres_url), poolclass=sa.NullPool)
    hostile = "x'); DROP TABLE metrics.t; -- :name %s %(x)s \\ ;"
    frame = pd.DataFrame({'odd "name"': [hostile, None], "n": [1.0, float("nan")], "d": ["2026-01-31", None],
                          "flag": [True, None], "k": [3.0, None]})
    docs = {'odd "name"': "the resident's note: see %s and :param", "n": "a number", "d": "a day", "flag": "yes/no",
            "k": "a count"}
    with engine.begin() as con:
        assert not has_table(con, "metrics.t")
        with pytest.raises(MissingMartError, match="the memo needs metrics.t"):
            require(con, "metrics.t", ["n"], "the memo")
        assert write_table(con, "metrics.t", frame, "Bobby's table: 100% :done", docs,
                           {"d": "DATE", "flag": "BOOLEAN", "k": "INTEGER"}) == 2
    with engine.begin() as con:
        assert has_table(con, "metrics.t") and columns_of(con, "metrics.t") == list(frame.columns)
        back = read(con, 'SELECT * FROM metrics.t ORDER BY "odd ""name""" NULLS LAST')
        assert back.iloc[0].tolist() == [hostile, 1.0, pd.Timestamp(2026, 1, 31), True, 3]  # a DATE reads as DuckDB's
        assert back.iloc[1].isna().all()
        types = dict(con.execute(sa.text("select column_name, data_type from information_schema.columns "
                                         "where table_schema = 'metrics' and table_name = 't'")).fetchall())
        assert types == {'odd "name"': "text", "n": "double precision", "d": "date", "flag": "boolean", "k": "integer"}
        assert scalar(con, "select obj_description('metrics.t'::regclass)") == "Bobby's table: 100% :done"
        comments = dict(con.execute(sa.text(
            "select a.attname, col_description(a.attrelid, a.attnum) from pg_attribute a "
            "where a.attrelid = 'metrics.t'::regclass and a.attnum > 0")).fetchall())
        assert comments == docs
        write_table(con, "metrics.t", frame.head(1), "again", docs, {"d": "DATE", "flag": "BOOLEAN", "k": "INTEGER"})
        assert scalar(con, "select count(*) from metrics.t") == 1
        with pytest.raises(ValueError, match=r"positional parameters \(\?\) are DuckDB-only"):
            read(con, "select 1 where 1 = ?", [1])
    engine.dispose()


@pytest.mark.timeout(120)
def test_the_same_sql_gives_the_same_answer_on_duckdb_and_postgres(postgres_url):
    """What portable SQL is built from (a quoted literal holding ':name', named parameters, value_at_max,
    any_value_of, read's dtypes) on both engines, with hand-computed answers."""
    import duckdb
    import sqlalchemy as sa

    from citystat.postgres_warehouse import sqlalchemy_url

    hostile = "x'); DROP TABLE t; -- :name %s \\ ;"
    # site a: its latest month (March) has no name, so the latest name is February's; b has one month
    setup = ["CREATE TABLE t (site VARCHAR, month DATE, name VARCHAR, amount NUMERIC(10, 2))",
             "INSERT INTO t VALUES ('a', DATE '2026-01-01', 'Old', 1.25), ('a', DATE '2026-02-01', 'New', 2.50), "
             "('a', DATE '2026-03-01', NULL, 3.00), ('a', NULL, 'Undated', 4.00), ('b', DATE '2026-01-01', 'Bee', 5.00)"]
    engine = sa.create_engine(sqlalchemy_url(postgres_url), poolclass=sa.NullPool)
    duck = duckdb.connect()
    with engine.begin() as pg:
        for con in (duck, pg):
            for statement in setup:
                (con.execute(statement) if con is duck else con.execute(sa.text(statement)))
            assert read(con, f"SELECT {quote_literal(hostile)} AS v")["v"].tolist() == [hostile]
            assert read(con, "SELECT count(*) AS n FROM t WHERE name = :name", {"name": hostile})["n"].tolist() == [0]
            latest = fetch(con, f"SELECT site, {value_at_max(con, 'name', 'month')} AS name, "
                                f"{any_value_of(con, 'site')} AS any_site FROM t GROUP BY site ORDER BY site")
            assert latest == [{"site": "a", "name": "New", "any_site": "a"}, {"site": "b", "name": "Bee", "any_site": "b"}]
            frame = read(con, "SELECT month, amount FROM t WHERE site = 'a' ORDER BY month NULLS LAST")
            assert str(frame["month"].dtype).startswith("datetime64") and frame["amount"].dtype == "float64"
            assert frame["month"].iloc[0] == pd.Timestamp(2026, 1, 1) and frame["amount"].sum() == 10.75
    duck.close()
    engine.dispose()
