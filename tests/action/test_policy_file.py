"""The policy file: a mistake is refused with the file, the key path and what is allowed."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from medic.action.policy_file import load_policy_document, parse_policy_document
from medic.domain import ActionKind, InvalidInputError, Risk

DOCS = Path(__file__).parents[2] / "docs" / "policy.md"


def _refused(text: str) -> str:
    with pytest.raises(InvalidInputError) as caught:
        parse_policy_document(text, "policy.yaml")
    return str(caught.value)


def test_the_documented_example_is_valid() -> None:
    example = re.search(r"## Example\n\n```yaml\n(.*?)```", DOCS.read_text(), re.S)
    assert example is not None
    document = parse_policy_document(example.group(1), "docs/policy.md")
    assert document.groups["sre"] == ("alice", "bob")
    assert document.rules[0].second_approver_for == (Risk.HIGH,)
    assert document.rules[0].rate_limit is not None
    assert document.rules[0].rate_limit.window == 3600.0
    assert document.rules[2].auto_actions == (
        ActionKind.ROLLOUT_RESTART,
        ActionKind.SCALE_OUT,
        ActionKind.ROLLOUT_UNDO,
    )


def test_a_typo_in_a_level_names_the_key_and_the_levels() -> None:
    message = _refused("rules:\n  - namespace: prod\n  - namespace: x\n    autonomy: aprove\n")
    assert message == (
        "policy.yaml: rules[1].autonomy: 'aprove' is not allowed; "
        "allowed: observe, propose, approve, auto"
    )


def test_an_unknown_action_names_the_key_and_the_catalog() -> None:
    message = _refused("defaults:\n  auto_actions: [rollout_restart, delete_namespace]\n")
    assert message.startswith("policy.yaml: defaults.auto_actions[1]: 'delete_namespace'")
    assert "rollout_undo" in message and "escalate" in message


def test_an_unknown_key_names_it_and_the_keys_allowed_there() -> None:
    message = _refused("rules:\n  - namespace: prod\n    autonmy: auto\n")
    assert message.startswith("policy.yaml: rules[0]: unknown key 'autonmy'; allowed keys:")
    assert "autonomy" in message and "rate_limit" in message


def test_an_unknown_top_level_key_is_refused() -> None:
    assert "unknown key 'rule'" in _refused("rule: []\n")


def test_an_approver_group_must_be_defined() -> None:
    message = _refused("groups: {sre: [alice]}\nrules:\n  - approvers: {groups: [sres]}\n")
    assert "rules[0].approvers.groups: unknown group 'sres'; groups: sre" in message


def test_a_freeze_needs_a_real_time_zone_and_a_window() -> None:
    zone = _refused(
        "freezes:\n  - name: x\n    timezone: Mars/Olympus\n"
        "    weekly: {days: [mon], start: '01:00', end: '02:00'}\n"
    )
    assert "freezes[0].timezone: unknown time zone 'Mars/Olympus'" in zone
    assert "needs `weekly`, or both `start` and `end`" in _refused(
        "freezes:\n  - name: x\n    start: 2026-01-01\n"
    )
    assert "'25:00' is not a time of day" in _refused(
        "freezes:\n  - name: x\n    weekly: {days: [mon], start: '25:00', end: '02:00'}\n"
    )


def test_a_rate_limit_window_is_a_duration() -> None:
    assert "'an hour' is not a duration" in _refused(
        "defaults:\n  rate_limit: {max_actions: 1, window: an hour}\n"
    )


def test_yaml_that_is_not_a_mapping_is_refused() -> None:
    assert _refused("- a\n- b\n") == "policy.yaml: the policy must be a mapping of keys"
    assert _refused("rules: [\n").startswith("policy.yaml: not valid YAML")


def test_a_missing_file_names_it(tmp_path: Path) -> None:
    path = tmp_path / "nope.yaml"
    with pytest.raises(InvalidInputError, match=re.escape(f"{path}: cannot read")):
        load_policy_document(path)


def test_a_file_is_loaded_and_an_error_names_its_path(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text("defaults: {autonomy: auto}\n")
    assert load_policy_document(path).defaults.autonomy == "auto"
    path.write_text("defaults: {autonomy: yolo}\n")
    with pytest.raises(InvalidInputError, match=re.escape(f"{path}: defaults.autonomy")):
        load_policy_document(path)
