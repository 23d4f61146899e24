"""MetricFlow metrics for every KPI of the registry, generated into the dbt project.

``dbt_project/models/marts/semantic/_kpi_metrics.yml`` is written from the KPI registry so the semantic layer has
one metric per KPI under the KPI's own id (``mf query --metrics pw_on_time_pct --group-by
metric_time__month,department__department_code``), never a second hand-kept definition. Regenerate it after
editing the registry: ``citystat generate`` (``citystat generate --check``, run by a test, fails while it is stale).

How a KPI aggregates beyond its month (the month itself always equals ``kpi_values`` / the submitted value):

* **rate** - computed KPIs whose value is numerator / denominator (unit pct, ratio, usd, points): declared
  numerator and denominator metrics and a ``ratio`` metric, so a quarter or a group of departments is the pooled
  rate (sum of numerators / sum of denominators), as dbt computes a month. For ``pct`` the ratio is the share
  (``<id>_share``, 0-1) and ``<id>`` is the derived 100 x share.
* **sum** - counts and miles (``count``, ``miles``): summed over the months.
* **mean** - anything else (medians, percentiles, submitted rates, days): the mean of the monthly values.
* Fiscal-year-to-date KPIs (grain ``fytd``) take the value (or numerator and denominator) of the latest month in
  the period instead (a semi-additive measure), since each month already holds the year to date.
"""
from __future__ import annotations

from pathlib import Path

import yaml

from citystat.kpi.registry import KpiDefinition, Registry, load_registry
from citystat.warehouse import jinja_inert, quote_literal

METRICS_FILE = Path(__file__).resolve().parents[2] / "dbt_project" / "models" / "marts" / "semantic" / "_kpi_metrics.yml"
RATE_UNITS = frozenset({"pct", "ratio", "usd", "points"})
SUM_UNITS = frozenset({"count", "miles"})
HEADER = ("# GENERATED from dbt_project/seeds/kpi_registry.csv by `citystat generate`; do not edit.\n"
          "# One MetricFlow metric per KPI (aggregation rules: citystat/kpi/semantic.py, docs/metrics_tables.md).\n")

# per source: (filter dimension, measure names by family)
_MODELS = {
    "computed": ("kpi_value__kpi_id", {
        "numerator": "kpi_numerator", "denominator": "kpi_denominator",
        "numerator_latest": "kpi_numerator_latest", "denominator_latest": "kpi_denominator_latest",
        "sum": "kpi_value_sum", "mean": "kpi_value_mean", "latest": "kpi_value_latest"}),
    "submitted": ("kpi_submission__kpi_id", {
        "sum": "submitted_value_sum", "mean": "submitted_value_mean", "latest": "submitted_value_latest"}),
}


def family(kpi: KpiDefinition) -> str:
    """rate, sum or mean (see the module docstring)."""
    if kpi.source == "computed" and kpi.unit in RATE_UNITS:
        return "rate"
    return "sum" if kpi.unit in SUM_UNITS else "mean"


def _simple(name: str, label: str, description: str, measure: str, kpi_filter: str) -> dict:
    return {"name": name, "label": label, "description": description, "type": "simple",
            "type_params": {"measure": measure}, "filter": kpi_filter}


def kpi_metrics(kpi: KpiDefinition) -> list[dict]:
    dimension, measures = _MODELS[kpi.source]
    kpi_filter = f"{{{{ Dimension('{dimension}') }}}} = {jinja_inert(quote_literal(kpi.id))}"
    latest = kpi.grain == "fytd"
    kind = family(kpi)
    where = f"{kpi.description} Registry: unit {kpi.unit}, direction {kpi.desired_direction}, grain {kpi.grain}, {kpi.source}."
    if kind != "rate":
        measure = measures["latest" if latest else kind]
        how = ("the latest month's value in the period" if latest else
               "summed over the months" if kind == "sum" else "mean of the monthly values")
        return [_simple(kpi.id, kpi.name, f"{where} Beyond a month: {how}.", measure, kpi_filter)]
    numerator = measures["numerator_latest" if latest else "numerator"]
    denominator = measures["denominator_latest" if latest else "denominator"]
    pooled = "the latest month's year-to-date" if latest else "pooled (sums of numerators and denominators)"
    metrics = [
        _simple(f"{kpi.id}_numerator", f"{kpi.name} (numerator)", f"Numerator of {kpi.id}; {pooled}.", numerator, kpi_filter),
        _simple(f"{kpi.id}_denominator", f"{kpi.name} (denominator)", f"Denominator of {kpi.id}; {pooled}.", denominator, kpi_filter),
    ]
    ratio = {"type": "ratio", "type_params": {"numerator": f"{kpi.id}_numerator", "denominator": f"{kpi.id}_denominator"}}
    if kpi.unit != "pct":
        return metrics + [{"name": kpi.id, "label": kpi.name, "description": f"{where} Beyond a month: {pooled}.", **ratio}]
    return metrics + [
        {"name": f"{kpi.id}_share", "label": f"{kpi.name} (share 0-1)",
         "description": f"{kpi.id} as a share (0-1): numerator / denominator, {pooled}.", **ratio},
        {"name": kpi.id, "label": kpi.name, "description": f"{where} 100 x {kpi.id}_share; beyond a month: {pooled}.",
         "type": "derived", "type_params": {"expr": "100 * share", "metrics": [{"name": f"{kpi.id}_share", "alias": "share"}]}},
    ]


def render(registry: Registry) -> str:
    metrics = [m for kpi in sorted(registry.kpis.values(), key=lambda k: k.id) for m in kpi_metrics(kpi)]
    # registry text (names, descriptions) is data: dbt renders YAML labels with Jinja
    metrics = [{k: (jinja_inert(v) if k in ("label", "description") else v) for k, v in m.items()} for m in metrics]
    body = yaml.safe_dump({"version": 2, "metrics": metrics}, sort_keys=False, width=120, allow_unicode=True)
    return HEADER + body


def metrics_files(registry: Registry | None = None) -> dict[Path, str]:
    """{the semantic-layer metrics file: its text} (written by ``citystat generate``)."""
    return {METRICS_FILE: render(registry or load_registry())}
