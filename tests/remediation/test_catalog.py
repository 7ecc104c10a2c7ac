"""The catalog renders the exact command a human would type, and refuses bad input."""

from __future__ import annotations

import pytest

from medic.domain import ActionKind, InvalidInputError, MetricName, Risk
from medic.remediation import CATALOG, make_action, recovery_criterion, render_command, risk_of


def test_every_action_kind_is_in_the_catalog() -> None:
    assert set(CATALOG) == set(ActionKind)


@pytest.mark.parametrize(
    ("kind", "target", "params", "command"),
    [
        (
            ActionKind.ROLLOUT_UNDO,
            "auth-service",
            {"to_revision": 3},
            "kubectl rollout undo deployment/auth-service -n production",
        ),
        (
            ActionKind.ROLLOUT_RESTART,
            "auth-service",
            {},
            "kubectl rollout restart deployment/auth-service -n production",
        ),
        (
            ActionKind.SCALE_OUT,
            "catalog",
            {"replicas": 5},
            "kubectl scale deployment/catalog -n production --replicas=5",
        ),
        (
            ActionKind.RAISE_LIMITS,
            "auth-service",
            {"limit_mb": 2048},
            "kubectl set resources deployment/auth-service -n production --limits=memory=2048Mi",
        ),
        (ActionKind.CORDON_NODE, "node-a", {}, "kubectl cordon node-a"),
        (ActionKind.ESCALATE, "auth-service", {}, ""),
    ],
)
def test_rendered_commands(
    kind: ActionKind, target: str, params: dict[str, str | int], command: str
) -> None:
    action = make_action(kind, target, "production", "because", params)

    assert action.command == command
    assert render_command(action) == command


def test_risks() -> None:
    assert risk_of(ActionKind.ROLLOUT_UNDO) is Risk.MEDIUM
    assert risk_of(ActionKind.ROLLOUT_RESTART) is Risk.LOW
    assert risk_of(ActionKind.SCALE_OUT) is Risk.LOW


def test_undo_of_cordon_is_uncordon() -> None:
    action = make_action(ActionKind.CORDON_NODE, "node-a", "production", "steal")

    assert action.undo == "kubectl uncordon node-a"


def test_missing_params_are_refused() -> None:
    with pytest.raises(InvalidInputError, match="to_revision"):
        make_action(ActionKind.ROLLOUT_UNDO, "auth-service", "production", "x")


def test_a_target_that_is_not_a_kubernetes_name_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="not a valid Kubernetes name"):
        make_action(ActionKind.ROLLOUT_RESTART, "auth; rm -rf /", "production", "x")


def test_recovery_criterion_allows_a_band_above_baseline() -> None:
    c = recovery_criterion(MetricName.ERROR_RATIO, "auth-service", 0.02, window_s=300)

    assert c.upper == pytest.approx(0.02 * 1.25 + 0.01)
    assert c.lower is None
    assert c.window_seconds == 300


def test_available_replicas_recover_upwards() -> None:
    c = recovery_criterion(MetricName.AVAILABLE_REPLICAS, "auth-service", 2.0)

    assert c.upper is None
    assert c.lower is not None and 1.0 < c.lower <= 2.0
