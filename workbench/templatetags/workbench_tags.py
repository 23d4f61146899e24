"""Template filters of the workbench: a KPI's name from the registry, an audit entry's changes."""
from __future__ import annotations

import json

from django import template

from workbench.snapshot import registry

register = template.Library()


@register.filter
def kpi_name(kpi_id: str) -> str:
    kpi = registry().kpis.get(kpi_id)
    return kpi.name if kpi else kpi_id


@register.filter
def plain_number(value: float) -> str:
    """41250.0 as 41250, 87.5 as 87.5 (no exponent, no padding)."""
    return f"{value:.0f}" if float(value).is_integer() else repr(float(value))


@register.filter
def changes(entry) -> list[tuple[str, object, object]]:
    """(field, before, after) of the fields an audit entry's write changed; every filled field of a first write."""
    before = json.loads(entry.before) if entry.before else {}
    after = json.loads(entry.after) if entry.after else {}
    return [(name, before.get(name, ""), value) for name, value in after.items()
            if name != "id" and value != before.get(name) and not (not before and value in ("", None))]
