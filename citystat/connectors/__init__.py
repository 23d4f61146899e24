"""Connectors, one module per protocol, each configured only from an inventory dataset entry.

``build_connector(spec, options)`` picks the module for the entry's ``connector``; every connector
streams ``Chunk``s of new rows and advances the ``SourceState`` it resumes from (see ``base``).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from citystat.connectors.base import (
    Chunk, Connector, SchemaDrift, SourceError, SourceSpec, SourceState, SourceUnavailable,
)
from citystat.connectors.retry import RetryPolicy

AUTOMATED_CONNECTORS = ("open311", "soda", "sqlite", "postgres", "csv_drop", "xlsx_drop", "manual_submission")
FILE_DROP_CONNECTORS = ("csv_drop", "xlsx_drop", "manual_submission")  # manual submissions arrive as CSV templates
CONNECTOR_KINDS = {  # Dagster `kinds` tags shown on the asset graph
    "open311": {"api", "open311"},
    "soda": {"api", "socrata"},
    "sqlite": {"sqlite"},
    "postgres": {"postgres"},
    "csv_drop": {"csv"},
    "xlsx_drop": {"excel"},
    "manual_submission": {"csv"},
}


@dataclass(frozen=True)
class ConnectorOptions:
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    http_timeout: float = 30.0  # seconds any one socket operation of an HTTP request may wait
    request_deadline: float = 30.0  # seconds for one whole HTTP answer or one database fetch (a drip fails here)
    asset_deadline: float = 300.0  # seconds for one extraction: every request and retry of one asset
    page_size: int = 1000  # rows per API page
    chunk_rows: int = 50_000  # rows per database/XLSX chunk written to the landing
    sqlite_busy_timeout: float = 1.0  # seconds SQLite waits on a lock before reporting it (then we retry)


def build_connector(spec: SourceSpec, options: ConnectorOptions | None = None) -> Connector:
    options = options or ConnectorOptions()
    if spec.connector == "open311":
        from citystat.connectors.open311 import Open311Connector

        return Open311Connector(spec, policy=options.retry, timeout=options.http_timeout, page_size=options.page_size,
                             request_deadline=options.request_deadline, asset_deadline=options.asset_deadline)
    if spec.connector == "soda":
        from citystat.connectors.soda import SodaConnector

        return SodaConnector(spec, policy=options.retry, timeout=options.http_timeout, page_size=options.page_size,
                             request_deadline=options.request_deadline, asset_deadline=options.asset_deadline)
    if spec.connector in ("sqlite", "postgres"):
        from citystat.connectors.sql import SqlConnector

        return SqlConnector(spec, policy=options.retry, chunk_rows=options.chunk_rows,
                            busy_timeout=options.sqlite_busy_timeout, request_deadline=options.request_deadline,
                            asset_deadline=options.asset_deadline)
    if spec.connector in FILE_DROP_CONNECTORS:
        from citystat.connectors.file_drop import FileDropConnector

        return FileDropConnector(spec, chunk_rows=options.chunk_rows)
    raise SourceError(f"{spec.label}: connector {spec.connector!r} has no automated extraction")


__all__ = [
    "AUTOMATED_CONNECTORS", "CONNECTOR_KINDS", "Chunk", "ConnectorOptions", "FILE_DROP_CONNECTORS", "RetryPolicy",
    "SchemaDrift", "SourceError", "SourceSpec", "SourceState", "SourceUnavailable", "build_connector",
]
