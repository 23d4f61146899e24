"""docs/budget_repurposing.md documents every metrics table and column the budget assets write."""
from __future__ import annotations

from pathlib import Path

from citystat.budget.metrics import TABLES

DOC = Path(__file__).resolve().parents[2] / "docs" / "budget_repurposing.md"


def test_every_metrics_table_and_column_is_in_the_analysts_doc():
    text = DOC.read_text(encoding="utf-8")
    missing = [f"metrics.{table}" for table in TABLES if f"### `metrics.{table}`" not in text]
    missing += [f"metrics.{table}.{column}" for table, (_, docs, _) in TABLES.items() for column in docs
                if f"| `{column}` |" not in text.split(f"### `metrics.{table}`")[-1].split("### ")[0]]
    assert missing == []
