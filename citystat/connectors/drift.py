"""Schema drift of a dropped file: its header against the inventory's declared fields.

``column_mapping`` (source name -> declared name) is applied first, so a rename the inventory
declares is not drift. Anything else (a column missing, an undeclared extra, a duplicate) is, and
the file is not landed until the inventory or the file is fixed: nothing is dropped silently.
"""
from __future__ import annotations

import difflib
from collections import Counter
from dataclasses import dataclass


@dataclass(frozen=True)
class HeaderDrift:
    missing: tuple[str, ...]  # declared fields the file lacks
    undeclared: tuple[str, ...]  # file columns (as named in the file) the inventory does not declare
    duplicated: tuple[str, ...]

    def __bool__(self) -> bool:
        return bool(self.missing or self.undeclared or self.duplicated)

    def describe(self) -> str:
        parts = []
        if self.missing:
            parts.append(f"missing declared column(s) {', '.join(self.missing)}")
        if self.undeclared:
            parts.append(f"undeclared column(s) {', '.join(self.undeclared)}")
        if self.duplicated:
            parts.append(f"duplicated column(s) {', '.join(self.duplicated)}")
        renames = self.likely_renames()
        if renames:
            mapping = ", ".join(f"{old}: {new}" for old, new in renames.items())
            parts.append(f"if renamed, declare column_mapping {{{mapping}}}")
        return "; ".join(parts)

    def likely_renames(self) -> dict[str, str]:
        """Undeclared column -> missing field it most resembles (a hint for the inventory editor)."""
        renames, candidates = {}, list(self.undeclared)
        for field in self.missing:
            if len(self.missing) == len(self.undeclared) == 1:
                match = candidates
            else:
                match = difflib.get_close_matches(field, candidates, n=1, cutoff=0.6)
            if match:
                renames[match[0]] = field
                candidates.remove(match[0])
        return renames


def mapped_header(header: list[str], column_mapping: dict[str, str]) -> list[str]:
    return [column_mapping.get(name, name) for name in header]


def compare_header(header: list[str], declared: tuple[str, ...], column_mapping: dict[str, str]) -> HeaderDrift:
    """Drift between a file's header and the declared fields (no declared fields: nothing to compare)."""
    mapped = mapped_header(header, column_mapping)
    duplicated = tuple(sorted(name for name, n in Counter(mapped).items() if n > 1))
    if not declared:
        return HeaderDrift((), (), duplicated)
    missing = tuple(name for name in declared if name not in mapped)
    undeclared = tuple(raw for raw, name in zip(header, mapped) if name not in declared)
    return HeaderDrift(missing, undeclared, duplicated)
