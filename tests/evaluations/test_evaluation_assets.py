"""The Dagster layer: the evaluation assets are in the code location, automated, downstream of the datasets their
outcomes read, published with the snapshot, and the memo waits for them."""
from __future__ import annotations

import dagster as dg
import pytest

KEYS = [dg.AssetKey(["metrics", t]) for t in ("evaluation_results", "evaluation_balance", "evaluation_assignments",
                                               "wwc_self_assessment")]


@pytest.fixture(scope="module")
def graph():
    from orchestration.definitions import defs

    return defs.resolve_asset_graph()


@pytest.mark.timeout(300)
def test_the_assets_are_wired(graph):
    for key in KEYS:
        node = graph.get(key)
        assert node.group_name == "evaluations" and node.automation_condition is not None, key
    assert dg.AssetKey(["marts", "fct_service_requests"]) in graph.get(KEYS[0]).parent_keys
    assert {dg.AssetKey(["metrics", "goal_progress"]), dg.AssetKey(["metrics", "contract_grades"]),
            dg.AssetKey(["metrics", "repurposing_candidates"]), dg.AssetKey(["inventory", "catalog"]),
            KEYS[0]} <= graph.get(KEYS[3]).parent_keys
    assert set(KEYS) <= graph.get(dg.AssetKey(["publish", "snapshot"])).parent_keys
    assert KEYS[0] in graph.get(dg.AssetKey(["metrics", "performance_memo"])).parent_keys
    assert dg.AssetCheckKey(KEYS[1], "randomization_balanced") in graph.asset_check_keys
