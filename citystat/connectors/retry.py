"""Retrying transient source failures with exponential backoff (tenacity), then failing clearly."""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Callable, TypeVar

import tenacity

from citystat.connectors.base import SourceSpec, SourceUnavailable

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    """A few quick retries: enough for a blip, short enough that a dead source fails its asset promptly."""

    attempts: int = 4
    initial_wait: float = 0.5  # seconds before the 2nd attempt; doubles each time
    max_wait: float = 8.0


def call_with_retries(
    fn: Callable[[], T],
    *,
    policy: RetryPolicy,
    is_transient: Callable[[BaseException], bool],
    describe: Callable[[BaseException], str],
    spec: SourceSpec,
    where: str,
    deadline: float | None = None,
) -> T:
    """Run ``fn``; retry transient errors; after the last attempt raise ``SourceUnavailable`` naming ``where``,
    the attempts and the time spent. ``deadline`` (a ``time.monotonic()`` instant, e.g. the asset's) stops
    the retries early: no attempt starts, and no backoff sleeps, past it."""
    started = time.monotonic()
    stop = tenacity.stop_after_attempt(max(1, policy.attempts))
    if deadline is not None:
        stop = stop | tenacity.stop_before_delay(max(0.0, deadline - started))
    retrying = tenacity.Retrying(
        stop=stop,
        wait=tenacity.wait_exponential(multiplier=policy.initial_wait, max=policy.max_wait),
        retry=tenacity.retry_if_exception(is_transient),
        before_sleep=lambda state: log.warning(
            "%s: %s failed (attempt %d): %s; retrying",
            spec.label, where, state.attempt_number, describe(state.outcome.exception()),
        ),
        reraise=True,
    )
    try:
        return retrying(fn)
    except Exception as exc:
        if is_transient(exc):
            attempts = retrying.statistics.get("attempt_number", policy.attempts)
            raise SourceUnavailable(spec, where, attempts, describe(exc), time.monotonic() - started) from exc
        raise
