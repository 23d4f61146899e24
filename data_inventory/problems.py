"""What is wrong with an inventory: one `Problem` per defect, all of them raised together."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Problem:
    """One defect, named by the entry it sits in (ids, not list positions) and the field within it."""

    entry: str  # e.g. "departments[pw].systems[pw_mms].datasets[work_orders]"; "inventory" for the top level
    field: str  # e.g. "connector", "owner.email", "primary_key[0]"; "" when the entry itself is wrong
    message: str
    line: int | None = None  # 1-based line in the YAML file, when known

    def __str__(self) -> str:
        where = f"{self.entry} {self.field}".strip()
        return f"{where}: {self.message}"

    def format(self, file: str | Path) -> str:
        """`<file>[:<line>]: <entry> <field>: <message>`, the shape editors and CI logs link to."""
        location = f"{file}:{self.line}" if self.line else f"{file}"
        return f"{location}: {self}"


class InventoryError(Exception):
    """The inventory is not usable; `.problems` lists every defect found, not just the first."""

    def __init__(self, problems: list[Problem], path: str | Path | None = None):
        self.problems = list(problems)
        self.path = Path(path) if path else None
        file = self.path or "inventory"
        lines = "\n".join(f"  {p.format(file)}" for p in self.problems)
        super().__init__(f"{file}: {len(self.problems)} problem(s) in the data inventory:\n{lines}")


# Lists whose items are named by an id (or, for fields, a name) instead of their position.
_NAMED_LISTS = {"departments": "id", "systems": "id", "datasets": "id", "fields": "name"}


def describe_path(data, path) -> tuple[str, str]:
    """Split a path into (entry, field): the entry is the innermost named item, the rest is the field.

    ("departments", 1, "systems", 0, "datasets", 2, "owner", "email") on the shipped inventory gives
    ("departments[pw].systems[pw_mms].datasets[work_orders]", "owner.email").
    """
    entry_parts: list[str] = []
    field_start = 0
    node = data
    for i, step in enumerate(path):
        if isinstance(step, int) and i > 0 and path[i - 1] in _NAMED_LISTS:
            item = node[step] if isinstance(node, list) and 0 <= step < len(node) else None
            key = _NAMED_LISTS[path[i - 1]]
            label = item.get(key) if isinstance(item, dict) else None
            entry_parts.append(f"{path[i - 1]}[{label if isinstance(label, str) and label else step}]")
            field_start = i + 1
        node = _step(node, step)
    field = ""
    for step in path[field_start:]:
        field += f"[{step}]" if isinstance(step, int) else (f".{step}" if field else str(step))
    return ".".join(entry_parts) or "inventory", field


def _step(node, step):
    if isinstance(node, dict):
        return node.get(step)
    if isinstance(node, list) and isinstance(step, int) and 0 <= step < len(node):
        return node[step]
    return None
