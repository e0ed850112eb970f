"""The case rules file: validated at load, its intake ceilings follow the figures it sets."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gateway.app import create_app
from gateway.cli import app
from gateway.config import DEFAULT_POLICY_DIR, Settings
from policies.case_rules import IntakeDay, load_case_rules, parse_case_rules
from policies.scopes import PolicyFileError

RULES = """
version: 1
intake:
  daily_new_cases: {multiple_of_usual: 3, floor: 200}
  daily_new_identifiers: {multiple_of_usual: 2, floor: 1000}
  usual_over_days: 28
"""


def test_the_default_rules_load_when_the_policy_dir_has_none(tmp_path: Path) -> None:
    rules = load_case_rules(tmp_path)
    assert rules == load_case_rules(DEFAULT_POLICY_DIR)
    assert rules.intake.usual_over_days == 28


def test_a_force_gets_a_multiple_of_its_usual_volume_never_less_than_the_floor() -> None:
    rules = parse_case_rules(RULES)
    quiet = IntakeDay(cases=0, identifiers=0, cases_before=28, identifiers_before=280)
    assert rules.ceilings(quiet) == (200, 1000)  # the floors: a new force can onboard
    busy = IntakeDay(cases=0, identifiers=0, cases_before=28 * 100, identifiers_before=28 * 900)
    assert rules.ceilings(busy) == (300, 1800)
    assert not rules.over_ceiling(IntakeDay(300, 1800, 28 * 100, 28 * 900))
    assert rules.over_ceiling(IntakeDay(301, 0, 28 * 100, 28 * 900))
    assert rules.over_ceiling(IntakeDay(0, 1801, 28 * 100, 28 * 900))


def test_editing_the_floor_moves_the_ceiling() -> None:
    lower = parse_case_rules(RULES.replace("floor: 200", "floor: 20"))
    assert lower.ceilings(IntakeDay(0, 0, 0, 0))[0] == 20


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (RULES.replace("version: 1", "version: 2"), "version: only version 1 is supported"),
        (RULES.replace("floor: 200", "floor: -1"), "intake.daily_new_cases.floor"),
        (RULES.replace("usual_over_days: 28", "usual_over_days: 0"), "intake.usual_over_days"),
        (RULES.replace("multiple_of_usual: 3", "multiple: 3"), "intake.daily_new_cases"),
        ("intake: [", "not valid YAML"),
    ],
)
def test_a_bad_file_is_refused_with_the_reason(text: str, reason: str) -> None:
    with pytest.raises(PolicyFileError) as refused:
        parse_case_rules(text)
    assert reason in str(refused.value)


def test_the_hub_refuses_to_start_on_a_bad_file(tmp_path: Path) -> None:
    policies = tmp_path / "policies"
    shutil.copytree(DEFAULT_POLICY_DIR, policies)
    (policies / "case_rules.yaml").write_text(RULES.replace("version: 1", "version: 7"))
    with pytest.raises(PolicyFileError) as refused:
        create_app(Settings(policy_dir=policies, data_dir=tmp_path / "data"))
    assert "case_rules.yaml" in str(refused.value)


def test_serve_refuses_a_bad_file_with_the_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    policies = tmp_path / "policies"
    shutil.copytree(DEFAULT_POLICY_DIR, policies)
    (policies / "case_rules.yaml").write_text(RULES.replace("floor: 200", "floor: lots"))
    monkeypatch.setenv("CROSSFORCE_POLICY_DIR", str(policies))
    monkeypatch.setenv("CROSSFORCE_DATA_DIR", str(tmp_path / "data"))
    result = CliRunner().invoke(app, ["serve", "--port", "1"])
    assert result.exit_code == 2
    assert "case_rules.yaml: line 4, intake.daily_new_cases.floor" in result.stderr


DEFAULT_TEXT = (DEFAULT_POLICY_DIR / "case_rules.yaml").read_text()


def line_of(text: str, needle: str) -> int:
    return text.splitlines().index(needle) + 1


def test_the_default_rules_state_the_regions_case_rules() -> None:
    rules = load_case_rules(DEFAULT_POLICY_DIR)
    assert rules.closed_statuses == {
        "CHARGED", "CAUTIONED", "NO_FURTHER_ACTION", "TRANSFERRED", "CLOSED",
    }  # fmt: skip
    assert dict(rules.target_days) == {"VERY_HIGH": 7, "HIGH": 7, "MEDIUM": 14, "LOW": 30}
    assert rules.links_counted == 20
    assert not rules.is_open("CHARGED") and rules.is_open("ALLOCATED")


def test_a_file_without_a_section_takes_the_default_section() -> None:
    rules = parse_case_rules(RULES)  # only `intake`
    assert rules.intake.daily_new_cases.floor == 200
    assert rules.target_days == load_case_rules(DEFAULT_POLICY_DIR).target_days


@pytest.mark.parametrize(
    ("edit", "needle", "reason"),
    [
        (
            ("MEDIUM: 14,", "MEDIUM: 0,"),
            "targets: {VERY_HIGH: 7, HIGH: 7, MEDIUM: 0, LOW: 30}",
            "targets: must be from 1 to 366: MEDIUM",
        ),
        (
            ("    grooming: 4\n", "    grooming: 4\n    sunspots: 1\n"),
            "  signs:",
            "regrade.signs: unknown: sunspots",
        ),
        (
            ("closed_statuses: [CHARGED,", "closed_statuses: [CHARGD,"),
            "  closed_statuses: [CHARGD, CAUTIONED, NO_FURTHER_ACTION, TRANSFERRED, CLOSED]",
            "open.closed_statuses.0: Input should be",
        ),
        (
            ("  levels: [LOW, MEDIUM]", "  levels: [LOW, HIGH]"),
            "version: 1",
            "regrade.levels must not include a high_risk level",
        ),
        (
            ("  counted: 20", "  counted: twenty"),
            "  counted: twenty",
            "links.counted: Input should be a valid integer",
        ),
    ],
)
def test_a_bad_rule_is_refused_with_its_line_and_reason(
    edit: tuple[str, str], needle: str, reason: str
) -> None:
    assert DEFAULT_TEXT.count(edit[0]) == 1
    text = DEFAULT_TEXT.replace(*edit)
    with pytest.raises(PolicyFileError) as refused:
        parse_case_rules(text)
    message = str(refused.value)
    assert reason in message
    if needle != "version: 1":  # a rule across sections has no one line
        assert f"line {line_of(text, needle)}, " in message


def test_a_yaml_mistake_is_refused_with_its_line() -> None:
    with pytest.raises(PolicyFileError, match=r"not valid YAML at line 4"):
        parse_case_rules("version: 1\nintake:\n  usual_over_days: 28\n floor: 2\n")
