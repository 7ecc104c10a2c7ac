"""An action's inverse: what puts the system back when an action did not help.

Only actions that record where they started from can be inverted exactly; the others
(restart, revert_config, cordon, revert_pr) return None and the human is told.
"""

from __future__ import annotations

from dataclasses import replace

from medic.domain import Action, ActionKind, Criterion

__all__ = ["inverse"]


def inverse(action: Action) -> Action | None:
    """The typed action that undoes `action`, or None when there is no exact undo."""
    params = action.params
    reason = f"undo {action.kind.value} of {action.target}: it did not bring recovery"
    none: tuple[Criterion, ...] = ()
    if action.kind is ActionKind.ROLLOUT_UNDO and isinstance(params.get("from_revision"), int):
        back = {
            "to_revision": params["from_revision"],
            "from_revision": params.get("to_revision"),
            "to_version": params.get("from_version"),
            "from_version": params.get("to_version"),
        }
        command = f"{action.command} --to-revision={params['from_revision']}"
        return replace(action, params=back, reason=reason, command=command, verification=none)
    if action.kind is ActionKind.SCALE_OUT and isinstance(params.get("from_replicas"), int):
        back = {"replicas": params["from_replicas"], "from_replicas": params.get("replicas")}
        command = (
            f"kubectl scale deployment/{action.target} -n {action.namespace} "
            f"--replicas={params['from_replicas']}"
        )
        return replace(action, params=back, reason=reason, command=command, verification=none)
    return None
