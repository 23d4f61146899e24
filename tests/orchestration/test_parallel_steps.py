"""$CITYSTAT_PARALLEL_STEPS chooses the job's executor: unset or 1 runs every step in the run's process (the
default), N > 1 Dagster's multiprocess executor with at most N steps at a time; anything else is refused by name."""
from __future__ import annotations

import dagster as dg
import pytest

from orchestration.defs.automation.jobs import job_executor, parallel_steps


@pytest.mark.timeout(60)
def test_the_setting_picks_the_executor(monkeypatch):
    monkeypatch.delenv("CITYSTAT_PARALLEL_STEPS", raising=False)
    assert parallel_steps() == 1 and job_executor() is dg.in_process_executor
    monkeypatch.setenv("CITYSTAT_PARALLEL_STEPS", "3")
    executor = job_executor()
    assert parallel_steps() == 3 and executor.name == "citystat_parallel_steps"
    for bad in ("0", "-2", "two", "\u0968"):
        monkeypatch.setenv("CITYSTAT_PARALLEL_STEPS", bad)
        with pytest.raises(ValueError, match=r"\$CITYSTAT_PARALLEL_STEPS must be a whole number of at least 1"):
            parallel_steps()
