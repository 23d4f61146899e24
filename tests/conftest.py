"""Shared fixtures: one small demo city run through the whole pipeline, for the tests that need a real snapshot."""
import pytest

from pipeline_helpers import PIPELINE_SCALE, PipelineRun, citystat, pipeline_env


@pytest.fixture(scope="session")
def pipeline(tmp_path_factory) -> PipelineRun:
    """A scale-0.1 demo city (with its defects), served on loopback and run through `citystat run` once."""
    tmp = tmp_path_factory.mktemp("pipeline")
    env = pipeline_env(tmp)
    citystat(env, "demo-city", "generate", "--out", str(tmp / "city"), "--scale", PIPELINE_SCALE)
    return PipelineRun(tmp, env, citystat(env, "run", "--no-dashboards", check=False))
