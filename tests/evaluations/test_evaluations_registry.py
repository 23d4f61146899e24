"""The evaluations registry: the shipped file is valid and matches the demo city's planted rollouts; invalid
entries give every problem, each naming the evaluation and the field."""
from __future__ import annotations

import copy

import pytest
import yaml

from citystat.evaluations.analysis import assignments
from citystat.evaluations.registry import RegistryError, load_registry, parse, registry_path

RAW = yaml.safe_load(registry_path().read_text(encoding="utf-8"))


def _problems(mutate) -> list[str]:
    data = copy.deepcopy(RAW)
    mutate(data["evaluations"][0])
    with pytest.raises(RegistryError) as caught:
        parse(data)
    return caught.value.problems


@pytest.mark.timeout(60)
def test_the_shipped_registry_is_valid():
    registry = load_registry()
    assert [e.evaluation_id for e in registry] == ["pothole_triage", "streetlight_form"]
    pothole = registry[0]
    assert pothole.primary.name == "days_to_close" and pothole.primary.pre_registered
    assert [o.pre_registered for o in pothole.outcomes] == [True, True, False]  # the third is exploratory
    assert str(pothole.report_date) == "2026-06-18"  # end 2026-04-19 + 60 days follow-up


@pytest.mark.timeout(120)
def test_the_registry_draws_the_demo_citys_randomization(truth):
    """The registry's seed gives exactly the treated district-weeks the demo city planted (seeded permutation)."""
    for evaluation in load_registry():
        units = assignments(evaluation)
        treated = sorted(units.loc[units["arm"] == "treatment", "unit_id"])
        planted = truth[evaluation.evaluation_id]
        assert treated == sorted(planted["treated_units"])
        assert len(units) == 5 * planted["weeks"] and len(treated) == len(units) // 2
        assert (str(evaluation.start), str(evaluation.end)) == (planted["start"], planted["end"])


@pytest.mark.timeout(60)
def test_schema_problems_name_the_evaluation_and_the_field():
    def break_it(e):
        e["outcomes"][0]["column"] = "days to close"  # not an identifier
        del e["assignment"]["seed"]  # randomized without a seed or list
        e["assignment"]["method"] = "coin flip"
        e["outcomes"][1]["colour"] = "red"  # unknown field
        e["start"] = "next monday"
    problems = _problems(break_it)
    assert "pothole_triage: outcomes[0].column: 'days to close' does not match '^[A-Za-z_][A-Za-z0-9_]*$'" in problems
    assert any(p.startswith("pothole_triage: assignment.method: 'coin flip' is not one of") for p in problems)
    assert "pothole_triage: outcomes[1]: unknown field(s) ('colour' was unexpected)" in problems
    assert any(p.startswith("pothole_triage: start: 'next monday'") for p in problems)


@pytest.mark.timeout(60)
def test_missing_seed_is_explained():
    problems = _problems(lambda e: e["assignment"].pop("seed"))
    assert problems == ["pothole_triage: assignment: a randomized assignment needs its seed (or the treated list)"]


@pytest.mark.timeout(60)
def test_rule_problems_name_the_evaluation_and_the_field():
    def break_it(e):
        e["end"] = "2025-10-01"  # before the start
        e["outcomes"][0]["primary"] = False  # no primary outcome left
        e["assignment"]["treated"] = ["99999:0"]  # not a registered unit
    problems = _problems(break_it)
    assert problems == [
        "pothole_triage: end: 2025-10-01 is before the start 2025-11-03",
        "pothole_triage: outcomes: exactly one outcome must be `primary: true` (found 0)",
        "pothole_triage: assignment.treated: '99999:0' is not one of the units",
    ]


@pytest.mark.timeout(60)
def test_an_outcome_registered_after_the_start_cannot_be_pre_registered():
    problems = _problems(lambda e: e.update(registered_on="2025-12-01"))
    assert "pothole_triage: outcomes[0].pre_registered: registered_on 2025-12-01 is after the start 2025-11-03, " \
           "so no outcome can be pre-registered (mark it exploratory)" in problems


@pytest.mark.timeout(60)
def test_an_exploratory_primary_outcome_and_duplicate_ids_are_refused():
    data = copy.deepcopy(RAW)
    data["evaluations"][1]["evaluation_id"] = "pothole_triage"
    data["evaluations"][1]["outcomes"][0]["pre_registered"] = False
    with pytest.raises(RegistryError) as caught:
        parse(data)
    assert caught.value.problems == [
        "pothole_triage: evaluation_id: duplicate id (each evaluation is registered once)",
        "pothole_triage: outcomes[0].pre_registered: the primary outcome must be pre-registered",
    ]


@pytest.mark.timeout(60)
def test_a_broken_file_names_the_file(tmp_path, monkeypatch):
    bad = tmp_path / "evaluations.yaml"
    bad.write_text("evaluations:\n  - evaluation_id: x\n", encoding="utf-8")
    monkeypatch.setenv("CITYSTAT_EVALUATIONS", str(bad))
    with pytest.raises(RegistryError) as caught:
        load_registry()
    message = str(caught.value)
    assert str(bad) in message and "x: (entry): 'title' is a required property" in message


@pytest.mark.timeout(120)
def test_the_cli_validates_and_names_every_problem(tmp_path):
    from typer.testing import CliRunner

    from citystat.cli import app

    ok = CliRunner().invoke(app, ["evaluations", "validate"])
    assert ok.exit_code == 0 and "2 evaluation(s), valid: pothole_triage, streetlight_form" in ok.output
    data = copy.deepcopy(RAW)
    data["evaluations"][1]["assignment"]["share"] = 1.5
    bad = tmp_path / "evaluations.yaml"
    bad.write_text(yaml.safe_dump(data), encoding="utf-8")
    failed = CliRunner().invoke(app, ["evaluations", "validate", "--registry", str(bad)])
    assert failed.exit_code == 1
    assert "streetlight_form: assignment.share: 1.5 is greater than or equal to the maximum of 1" in failed.output
