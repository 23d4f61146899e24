"""Validation problems that name the file, line (or row) and field, collected so one run reports them all."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    where: str  # "path/to/file.csv line 7" or "row 3"
    field: str | None
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.field}: {self.message}" if self.field else f"{self.where}: {self.message}"


class ValidationError(ValueError):
    """Raised with every problem found; ``str()`` lists them one per line."""

    def __init__(self, what: str, problems: list[Problem]):
        self.problems = list(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems[:50])
        more = f"\n  ... and {len(self.problems) - 50} more" if len(self.problems) > 50 else ""
        super().__init__(f"{what}: {len(self.problems)} problem(s)\n{lines}{more}")


def where(source: str, line: int | None) -> str:
    return f"{source} line {line}" if line is not None else source
