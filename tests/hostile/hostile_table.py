"""The hostile corpus's table: one row per bad-input class (class, outcome, rows in, accounted for, lost).

Each test calls ``record``; rows are merged (by class) into ``benchmarks/out/hostile.json`` so several
test modules (and developers) add to one table, and printed (``pytest -s``). ``python hostile_table.py``
prints the whole table from the JSON file.
"""
from __future__ import annotations

import fcntl
import json
import time
from pathlib import Path

OUT = Path(__file__).resolve().parents[2] / "benchmarks" / "out" / "hostile.json"


def record(cls: str, kind: str, outcome: str, rows_in: int, accounted: int, detail: str = "",
           seconds: float | None = None) -> dict:
    """Record one class; ``accounted`` = rows landed + rows held unlanded in a named, set-aside source."""
    row = {"class": cls, "kind": kind, "outcome": outcome, "rows_in": rows_in, "accounted": accounted,
           "lost": rows_in - accounted, "detail": detail[:300],
           "seconds": None if seconds is None else round(seconds, 2),
           "recorded_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with open(OUT.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        table = json.loads(OUT.read_text()) if OUT.exists() else {}
        table[cls] = row
        OUT.write_text(json.dumps(table, indent=1, sort_keys=True))
    print(f"\n[hostile] {line(row)}")
    return row


def line(row: dict) -> str:
    took = f" {row['seconds']:.1f}s" if row.get("seconds") is not None else ""
    return (f"{row['kind']:<5} {row['class']:<34} {row['outcome']:<26} in {row['rows_in']:>4} "
            f"accounted {row['accounted']:>4} lost {row['lost']:>2}{took}")


def table() -> str:
    rows = json.loads(OUT.read_text()).values() if OUT.exists() else []
    return "\n".join(line(r) for r in sorted(rows, key=lambda r: (r["kind"], r["class"])))


if __name__ == "__main__":
    print(table())
