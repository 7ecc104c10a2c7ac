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
    weekend = document.freezes[1]
    assert (weekend.cron, weekend.duration, weekend.timezone) == (
        "0 18 * * FRI",
        64 * 3600.0,
        "Europe/Paris",
    )


def test_a_typo_in_a_level_names_the_line_the_key_and_the_levels() -> None:
    message = _refused("rules:\n  - namespace: prod\n  - namespace: x\n    autonomy: aprove\n")
    assert message == (
        "policy.yaml:4: rules[1].autonomy: 'aprove' is not allowed; "
        "allowed: observe, propose, approve, auto"
    )


def test_an_unknown_action_names_the_key_and_the_catalog() -> None:
    message = _refused("defaults:\n  auto_actions: [rollout_restart, delete_namespace]\n")
    assert message.startswith("policy.yaml:2: defaults.auto_actions[1]: 'delete_namespace'")
    assert "rollout_undo" in message and "escalate" in message


def test_an_unknown_key_names_it_and_the_keys_allowed_there() -> None:
    message = _refused("rules:\n  - namespace: prod\n    autonmy: auto\n")
    assert message.startswith("policy.yaml:2: rules[0]: unknown key 'autonmy'; allowed keys:")
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


CRON_FREEZE = """version: 1
freezes:
  - name: weekend
    cron: "{cron}"
    duration: {duration}
    timezone: {zone}
"""


def _cron_freeze(cron: str = "0 18 * * FRI", duration: str = "64h", zone: str = "UTC") -> str:
    return CRON_FREEZE.format(cron=cron, duration=duration, zone=zone)


def test_a_cron_freeze_is_read_with_its_duration() -> None:
    [freeze] = parse_policy_document(_cron_freeze(zone="Europe/Paris"), "policy.yaml").freezes
    assert (freeze.cron, freeze.duration, freeze.timezone) == (
        "0 18 * * FRI",
        64 * 3600.0,
        "Europe/Paris",
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            _cron_freeze(cron="0 18 * * FRY"),
            "policy.yaml:4: freezes[0].cron: '0 18 * * FRY' is not a cron expression: "
            "Bad day-of-week",
        ),
        (
            _cron_freeze(cron="0 25 * * *"),
            "policy.yaml:4: freezes[0].cron: '0 25 * * *' is not a cron expression: Bad hour",
        ),
        (
            _cron_freeze(cron="0 18 * *"),
            "policy.yaml:4: freezes[0].cron: '0 18 * *' is not a cron expression: it needs 5 "
            "fields (minute hour day-of-month month day-of-week), e.g. '0 18 * * FRI'",
        ),
        (
            _cron_freeze(zone="Europe/Pariss"),
            "policy.yaml:6: freezes[0].timezone: unknown time zone 'Europe/Pariss' "
            "(use an IANA name)",
        ),
        (
            _cron_freeze(duration="a weekend"),
            "policy.yaml:5: freezes[0].duration: 'a weekend' is not a duration; "
            "use e.g. 90s, 30m, 1h, 1d",
        ),
        (
            _cron_freeze(duration="0h"),
            "policy.yaml:5: freezes[0].duration: '0h': the duration must be longer than zero",
        ),
        (
            "freezes:\n  - name: x\n    cron: '0 18 * * FRI'\n",
            "policy.yaml:2: freezes[0]: `cron` and `duration` go together: a freeze needs both",
        ),
        (
            "freezes:\n  - {name: x, cron: '0 18 * * FRI', duration: 1h,"
            " start: 2026-01-01, end: 2026-01-02}\n",
            "policy.yaml:2: freezes[0]: a freeze is one of `weekly`, `start`/`end` or "
            "`cron`/`duration`, not several",
        ),
    ],
)
def test_a_bad_cron_freeze_names_the_line_and_the_field(text: str, expected: str) -> None:
    assert _refused(text) == expected


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
    with pytest.raises(InvalidInputError, match=re.escape(f"{path}:1: defaults.autonomy")):
        load_policy_document(path)
