"""Run a Great Expectations 1.x suite on pandas frames and say, per expectation, what failed and where.

GX's SQL datasource returns nothing on DuckDB (shared/TOOLCHAIN.md), and dagster-ge is GX 0.x only, so
this is the small helper the checks use: an ephemeral GX context (one per process), the suite loaded from
``expectations/suites/``, a validation definition over a dataframe asset, COMPLETE results keyed by
``_record_id``. A batch validated in several chunks is merged (counts add up, ids are united) and its
merged result is rendered to GX Data Docs under ``<warehouse>/quality/data_docs/``.

GX itself is imported on first use only: it takes seconds, and the Dagster definitions must load fast.
"""
from __future__ import annotations

import copy
import datetime as dt
import time
import warnings
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Iterable

import pandas as pd

from citystat.quality.suites import ERROR, Suite
from citystat.settings import warehouse_dir

RECORD_ID = "_record_id"
INDEX = "citystat_index"  # meta key tying a GX result back to the suite's expectation
EXAMPLES = 5
ID_LIMIT = 100_000  # unexpected record ids kept per expectation (counts are always exact)
DOCS_ROWS = 20  # unexpected rows shown per expectation in Data Docs


def data_docs_dir() -> Path:
    """The known folder of the GX Data Docs site: ``<warehouse>/quality/data_docs``."""
    return warehouse_dir() / "quality" / "data_docs"


@dataclass
class ExpectationOutcome:
    expectation_type: str
    columns: str
    rule: str
    severity: str
    description: str
    success: bool = True
    element_count: int = 0
    unexpected_count: int = 0
    unexpected_ids: set[str] = field(default_factory=set)
    error: str | None = None  # GX could not evaluate it (a misnamed column, a bad parameter)

    @property
    def examples(self) -> list[str]:
        return sorted(self.unexpected_ids)[:EXAMPLES]

    def as_metadata(self) -> dict:
        return {"expectation": self.expectation_type, "columns": self.columns, "rule": self.rule, "severity": self.severity,
                "success": self.success, "unexpected": self.unexpected_count, "checked": self.element_count,
                "examples": self.examples, **({"error": self.error} if self.error else {})}


@dataclass
class SuiteOutcome:
    suite: str
    rows: int
    outcomes: list[ExpectationOutcome]
    seconds: float
    docs_path: Path | None = None
    # A mart checked on its changed rows only (changed_rows.py): the table's rows, the changed ones, or why whole.
    table_rows: int | None = None
    changed_rows: int | None = None
    whole_table_because: str = ""

    @property
    def failed(self) -> list[ExpectationOutcome]:
        return [o for o in self.outcomes if not o.success]

    @property
    def failed_errors(self) -> list[ExpectationOutcome]:
        return [o for o in self.failed if o.severity == ERROR]

    @property
    def success(self) -> bool:
        return not self.failed

    @property
    def pass_rate(self) -> float:
        return (len(self.outcomes) - len(self.failed)) / len(self.outcomes) if self.outcomes else 1.0

    def unexpected_ids(self) -> set[str]:
        return set().union(*(o.unexpected_ids for o in self.outcomes)) if self.outcomes else set()

    def describe(self, dataset: str) -> str:
        """One line per failing rule: dataset, rule, severity, count and example ids."""
        if not self.failed:
            return f"{dataset}: all {len(self.outcomes)} expectations of {self.suite} pass on {self.rows} rows"
        lines = [f"{dataset}: {len(self.failed)} of {len(self.outcomes)} expectations of {self.suite} fail on {self.rows} rows"]
        for o in sorted(self.failed, key=lambda o: (o.severity != ERROR, -o.unexpected_count)):
            what = o.error or f"{o.unexpected_count} row(s), e.g. {', '.join(o.examples) or '-'}"
            lines.append(f"  [{o.severity}] {o.rule}: {o.description} ({o.expectation_type} on {o.columns}): {what}")
        return "\n".join(lines)


# GX context ---------------------------------------------------------------------------------------


@cache
def _context():
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    asset = context.data_sources.add_pandas("citystat").add_dataframe_asset("batch")
    asset.add_batch_definition_whole_dataframe("whole")
    return context


@cache
def _docs_site(directory: str) -> str:
    name = f"citystat_{len(_docs_sites)}"
    _docs_sites.append(name)
    _context().add_data_docs_site(name, {
        "class_name": "SiteBuilder",
        "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": directory},
        "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
    })
    return name


_docs_sites: list[str] = []


def _validation_definition(suite: Suite):
    import great_expectations as gx

    context = _context()
    expectations = copy.deepcopy(list(suite.expectations))
    for index, expectation in enumerate(expectations):  # GX reports results in its own order: tag each one
        expectation["meta"][INDEX] = index
    gx_suite = context.suites.add_or_update(gx.ExpectationSuite(name=suite.name, expectations=expectations, meta=copy.deepcopy(suite.meta)))
    batch = context.data_sources.get("citystat").get_asset("batch").get_batch_definition("whole")
    return context.validation_definitions.add_or_update(gx.ValidationDefinition(name=suite.name, data=batch, suite=gx_suite))


def _gx_parameter(value):
    if isinstance(value, (dt.date, dt.datetime)) and not isinstance(value, pd.Timestamp):
        return pd.Timestamp(value)
    return value


# validation ---------------------------------------------------------------------------------------


def _describe_columns(kwargs: dict) -> str:
    cols = [kwargs[k] for k in ("column", "column_A", "column_B") if isinstance(kwargs.get(k), str)] + list(kwargs.get("column_list") or ())
    return ", ".join(c for c in cols if c != "_source_file") or "(table)"


def validate(suite: Suite, frames: Iterable[pd.DataFrame], parameters: dict | None = None, *,
             run_name: str = "adhoc", docs_dir: Path | None = None, id_limit: int = ID_LIMIT,
             shown_columns: Iterable[str] = ()) -> SuiteOutcome:
    """Validate every frame with ``suite``; merge the per-frame results into one outcome per expectation.

    Data Docs show sample unexpected values only of ``shown_columns`` (the public fields); every other
    expectation shows counts and record ids, never values (personal data stays in raw landing)."""
    started = time.perf_counter()
    definition = _validation_definition(suite)
    params = {k: _gx_parameter(v) for k, v in (parameters or {}).items()}
    outcomes = [ExpectationOutcome(e["type"], _describe_columns(e["kwargs"]), e["meta"].get("rule", ""), e["meta"]["severity"],
                                   e["meta"].get("description", "")) for e in suite.expectations]
    rows, last = 0, None
    for frame in frames:
        rows += len(frame)
        if RECORD_ID not in frame.columns:
            raise ValueError(f"{suite.name}: the frame has no {RECORD_ID} column to name failing rows")
        with warnings.catch_warnings():  # inventory patterns use groups; pandas warns on every str.contains
            warnings.filterwarnings("ignore", message="This pattern is interpreted as a regular expression")
            result = definition.run(batch_parameters={"dataframe": frame}, expectation_parameters=params,
                                    result_format={"result_format": "COMPLETE", "unexpected_index_column_names": [RECORD_ID],
                                                   "partial_unexpected_count": DOCS_ROWS})
        _merge(outcomes, result, id_limit)
        last = result
    if last is None:  # an empty batch: nothing to check, nothing failed
        for o in outcomes:
            o.success, o.element_count = True, 0
    outcome = SuiteOutcome(suite.name, rows, outcomes, 0.0)
    if docs_dir is not None and last is not None:
        outcome.docs_path = _build_docs(last, outcomes, suite, run_name, Path(docs_dir), frozenset(shown_columns))
    outcome.seconds = time.perf_counter() - started
    return outcome


def _merge(outcomes: list[ExpectationOutcome], result, id_limit: int) -> None:
    for r in result.results:
        outcome = outcomes[r.expectation_config.meta[INDEX]]
        info = _exception(r.exception_info)
        if info.get("raised_exception"):
            outcome.success = False
            outcome.error = (info.get("exception_message") or "GX raised an exception").splitlines()[0][:300]
            continue
        details = r.result or {}
        outcome.success = outcome.success and bool(r.success)
        outcome.element_count += int(details.get("element_count") or 0)
        outcome.unexpected_count += int(details.get("unexpected_count") or 0)
        for row in details.get("unexpected_index_list") or ():
            if len(outcome.unexpected_ids) >= id_limit:
                break
            if isinstance(row, dict) and row.get(RECORD_ID) is not None:
                outcome.unexpected_ids.add(str(row[RECORD_ID]))


def _exception(info) -> dict:
    """GX reports an exception either flat or keyed by the metric that raised it."""
    info = info or {}
    if "raised_exception" in info:
        return info
    nested = [v for v in info.values() if isinstance(v, dict) and v.get("raised_exception")]
    return nested[0] if nested else {}


VALUE_KEYS = ("unexpected_list", "partial_unexpected_list", "partial_unexpected_counts", "details", "observed_value",
              "unexpected_index_query", "missing_count_value", "unexpected_rows")


def _columns(kwargs: dict) -> list[str]:
    return [kwargs[k] for k in ("column", "column_A", "column_B") if isinstance(kwargs.get(k), str)] + list(kwargs.get("column_list") or ())


def redact_values(details: dict, kwargs: dict, shown_columns: frozenset[str]) -> dict:
    """A result's details without any value of a column that is not shown: counts and record ids stay."""
    if all(c in shown_columns or c == "_source_file" for c in _columns(kwargs)):
        return details
    for key in VALUE_KEYS:
        details.pop(key, None)
    for key in ("unexpected_index_list", "partial_unexpected_index_list"):
        if isinstance(details.get(key), list):
            details[key] = [{RECORD_ID: row.get(RECORD_ID)} if isinstance(row, dict) else row for row in details[key]]
    details["values_hidden"] = "personal or sensitive field: values are not shown outside raw landing"
    return details


def _build_docs(result, outcomes: list[ExpectationOutcome], suite: Suite, run_name: str, docs_dir: Path,
                shown_columns: frozenset[str] = frozenset()) -> Path | None:
    """Render the merged result (counts of every chunk, a few unexpected rows) as a Data Docs page."""
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier, ValidationResultIdentifier,
    )

    merged = copy.deepcopy(result)
    for r in merged.results:
        outcome = outcomes[r.expectation_config.meta[INDEX]]
        details = r.result or {}
        if "unexpected_count" in details:
            details["element_count"] = outcome.element_count
            details["unexpected_count"] = outcome.unexpected_count
            details["unexpected_percent"] = 100.0 * outcome.unexpected_count / outcome.element_count if outcome.element_count else 0.0
            for key in ("unexpected_list", "unexpected_index_list", "partial_unexpected_list", "partial_unexpected_index_list"):
                if isinstance(details.get(key), list):
                    details[key] = details[key][:DOCS_ROWS]
        r.result = redact_values(details, r.expectation_config.kwargs, shown_columns)
        r.success = outcome.success
    merged.success = all(o.success for o in outcomes)
    docs_dir.mkdir(parents=True, exist_ok=True)
    context = _context()
    site = _docs_site(str(docs_dir.resolve()))
    key = ValidationResultIdentifier(expectation_suite_identifier=ExpectationSuiteIdentifier(name=suite.name),
                                     run_id=RunIdentifier(run_name=run_name), batch_identifier=run_name)
    context.validation_results_store.set(key, merged)
    context.build_data_docs(site_names=[site], resource_identifiers=[key])
    urls = context.get_docs_sites_urls(resource_identifier=key, site_name=site)
    url = urls[0].get("site_url") if urls else None
    return Path(url.removeprefix("file://")) if url else None
