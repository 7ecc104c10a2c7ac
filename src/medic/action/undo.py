"""An action's inverse: what puts the system back when an action did not help.

Only actions that record where they started from can be inverted exactly; the others
(restart, revert_config, cordon, revert_pr) return None and the human is told.

A rollback is never undone automatically: its inverse re-deploys the very version the
diagnosis blamed. When a rollback did not bring recovery medic holds the rolled-back
(safer) state and escalates; `no_undo_reason` says why, and a human may roll forward.
"""

from __future__ import annotations

from dataclasses import replace

from medic.domain import Action, ActionKind, Criterion

__all__ = ["inverse", "no_undo_reason"]


def inverse(action: Action) -> Action | None:
    """The typed action that undoes `action`, or None when there is no exact undo."""
    params = action.params
    reason = f"undo {action.kind.value} of {action.target}: it did not bring recovery"
    none: tuple[Criterion, ...] = ()
    if action.kind is ActionKind.SCALE_OUT and isinstance(params.get("from_replicas"), int):
        back = {"replicas": params["from_replicas"], "from_replicas": params.get("replicas")}
        command = (
            f"kubectl scale deployment/{action.target} -n {action.namespace} "
            f"--replicas={params['from_replicas']}"
        )
        return replace(action, params=back, reason=reason, command=command, verification=none)
    return None


def no_undo_reason(action: Action) -> str:
    """Why `action` is not undone automatically (for a human, at the top of the incident)."""
    if action.kind is ActionKind.ROLLOUT_UNDO:
        blamed = action.params.get("from_version") or "the version the diagnosis blamed"
        back = action.params.get("from_revision")
        how = f" (`{action.command} --to-revision={back}`)" if isinstance(back, int) else ""
        return (
            f"rollout_undo of {action.target} is kept, not undone: undoing it would re-deploy "
            f"{blamed}, the version the diagnosis blamed; a human decides whether to roll "
            f"forward{how}"
        )
    return f"{action.kind.value} {action.target} has no automatic undo: {action.undo}"
