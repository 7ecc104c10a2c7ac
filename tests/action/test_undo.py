"""Undo after a failed verification: exact inverses, and never back to a blamed version."""

from __future__ import annotations

from medic.action.undo import inverse, no_undo_reason
from medic.domain import Action, ActionKind, Risk


def _rollback() -> Action:
    return Action(
        kind=ActionKind.ROLLOUT_UNDO,
        target="auth-service",
        namespace="production",
        risk=Risk.MEDIUM,
        reason="v1.2.1 leaks memory",
        command="kubectl rollout undo deployment/auth-service -n production --to-revision=3",
        params={"to_revision": 3, "from_revision": 4, "from_version": "v1.2.1"},
    )


def test_a_rollback_is_never_undone_automatically_and_the_reason_names_the_blamed_version() -> None:
    rollback = _rollback()
    assert inverse(rollback) is None  # re-deploying v1.2.1 is a human's call
    reason = no_undo_reason(rollback)
    assert "kept, not undone" in reason
    assert "v1.2.1, the version the diagnosis blamed" in reason
    assert "--to-revision=4" in reason  # how a human would roll forward, if they decide to


def test_a_scale_out_still_has_its_exact_inverse() -> None:
    scale = Action(
        kind=ActionKind.SCALE_OUT,
        target="catalog",
        namespace="production",
        risk=Risk.LOW,
        reason="load",
        params={"replicas": 6, "from_replicas": 3},
    )
    back = inverse(scale)
    assert back is not None and back.params["replicas"] == 3
    assert back.command == "kubectl scale deployment/catalog -n production --replicas=3"
