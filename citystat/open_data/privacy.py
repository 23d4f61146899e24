"""The privacy review gate's rules: free-text scrubbing, small-cell suppression and the mosaic check.

The scrubber is the marts' own: the dbt macro ``redact_contact_details`` (dbt_project/macros/redaction.sql),
rendered here with plain Jinja so exports and marts mask e-mails, phones and cued names with one rule.
"""
from __future__ import annotations

import hashlib
import json
from functools import cache

import jinja2
import pandas as pd

from citystat.dbt_dispatch import DuckDBDispatch
from citystat.settings import project_root
from citystat.warehouse import quote_identifier

MACRO_FILES = ("casting.sql", "redaction.sql")
SUPPRESSED = None  # a suppressed cell is published empty


@cache
def _macros():
    folder = project_root() / "dbt_project" / "macros"
    source = "\n".join((folder / name).read_text(encoding="utf-8") for name in MACRO_FILES)
    env = jinja2.Environment(extensions=["jinja2.ext.do"])
    adapter = DuckDBDispatch()
    # dbt's `return` hands a macro's value back; rendered with {{ }} the value itself is the output here
    env.globals.update(adapter=adapter, **{"return": lambda value: value})
    adapter.module = env.from_string(source).module
    return adapter.module


def scrub_sql(column: str) -> str:
    """SQL masking personal details in the text column ``column`` (the marts' redact_contact_details macro)."""
    return str(_macros().redact_contact_details(quote_identifier(column))).strip()


def suppress_cells(table: pd.DataFrame, k: int) -> tuple[pd.DataFrame, set[tuple]]:
    """Counts below ``k`` (but above 0) hidden, plus complementary cells so no hidden count follows from the
    row and column totals: every row and column ends with zero or at least two hidden cells. Returns the
    table with hidden cells as missing and the set of (row, column) hidden. Totals are computed by the caller
    from the true counts (publishing them is the point: they cannot give a hidden cell back)."""
    hidden = {(r, c) for r in table.index for c in table.columns if 0 < table.at[r, c] < k}
    changed = True
    while changed:
        changed = False
        for axis_items, other_items, cell in ((table.index, table.columns, lambda a, b: (a, b)),
                                              (table.columns, table.index, lambda a, b: (b, a))):
            for a in axis_items:
                line = [cell(a, b) for b in other_items]
                if sum(c in hidden for c in line) == 1:
                    candidates = [c for c in line if c not in hidden]
                    if candidates:  # the smallest other count is the cheapest to hide
                        hidden.add(min(candidates, key=lambda c: (table.at[c[0], c[1]], str(c))))
                        changed = True
    out = table.astype("Int64").astype(object)
    for r, c in hidden:
        out.at[r, c] = SUPPRESSED
    return out, hidden


def mosaic_risks(con, relation: str, quasi_identifiers: tuple[str, ...], k: int) -> int:
    """How many combinations of the quasi-identifiers single out fewer than ``k`` rows of ``relation`` (a SELECT of
    the published columns) (0 = no mosaic risk). Missing values form one group, as in any other value."""
    if not quasi_identifiers:
        return 0
    keys = ", ".join(quote_identifier(q) for q in quasi_identifiers)
    return int(con.execute(f"SELECT count(*) FROM (SELECT count(*) AS n FROM ({relation}) GROUP BY {keys}) WHERE n < ?",
                           [int(k)]).fetchone()[0])


def shape_fingerprint(columns: list[tuple[str, str]], quasi_identifiers: tuple[str, ...], k: int) -> str:
    """The data's shape a reviewer approved: columns with types, quasi-identifiers and k. An approval holds
    while this stays the same (new rows do not need a new review; a new column or identifier does)."""
    text = json.dumps({"columns": columns, "quasi_identifiers": list(quasi_identifiers), "k": k}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]
