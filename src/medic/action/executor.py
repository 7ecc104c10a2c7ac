"""The executor: performs the one write an approved action names, idempotently.

Every write carries the caller's idempotency key, so a step retried after a crash finds
its write already applied (ALREADY_APPLIED) instead of doing it twice; it still waits
for the rollout, because the crash may have come before the rollout finished.

Before anything is written, the guard (`action.guard`) checks the action itself: a
typed catalog action, on a target inside the incident's scope and of a kind the policy
lets medic touch, within the per-incident and fleet-wide budgets. A refused action is a
REFUSED execution carrying the reason; nothing is executed.

Errors: a TransientError propagates (the workflow step retries with the same key); a
PermanentError becomes a FAILED execution carrying the message, for a human to read.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from medic.action.guard import ExecutionGuard
from medic.domain import (
    Action,
    ActionKind,
    Execution,
    ExecutionStatus,
    InvalidInputError,
    PermanentError,
    RevertContext,
)
from medic.ports import Clock, ClusterReader, ClusterWriter, CodeHost

__all__ = ["RolloutCheck", "execute", "rollout_check", "rollout_finished", "waits_for_rollout"]

# Writes that replace or add pods: done only when the rollout is.
_ROLLOUT_KINDS = frozenset(
    {
        ActionKind.ROLLOUT_UNDO,
        ActionKind.ROLLOUT_RESTART,
        ActionKind.SCALE_OUT,
        ActionKind.RAISE_LIMITS,
        ActionKind.REVERT_CONFIG,
    }
)


@dataclass(frozen=True)
class _Outcome:
    applied: bool
    detail: str


def execute(
    action: Action,
    writer: ClusterWriter,
    reader: ClusterReader,
    code: CodeHost | None,
    clock: Clock,
    key: str,
    *,
    guard: ExecutionGuard,
    rollout_timeout_s: float = 300.0,
    poll_s: float = 5.0,
    context: RevertContext | None = None,
    wait_rollout: bool = True,
) -> Execution:
    """Perform `action` once (by `key`) and, for rollouts, wait until it is done.

    `guard` is asked first; `context` (the incident, its root cause, evidence links)
    describes a revert PR. With `wait_rollout` False the write is all it does: the
    caller polls `rollout_check` itself (the workflow does, one durable step a poll).
    """
    started = clock.now()

    def done(status: ExecutionStatus, detail: str) -> Execution:
        return Execution(action, key, status, started, clock.now(), detail)

    refusal = guard.refusal(action, key)
    if refusal:
        return done(ExecutionStatus.REFUSED, f"nothing executed: {refusal}")
    if action.kind is ActionKind.ESCALATE:
        return done(ExecutionStatus.SUCCEEDED, "nothing executed: escalated to a human")
    try:
        outcome = _write(action, writer, code, key, context)
        if outcome.applied:
            status, detail = ExecutionStatus.SUCCEEDED, outcome.detail
        else:
            status, detail = ExecutionStatus.ALREADY_APPLIED, f"already applied: {outcome.detail}"
        if wait_rollout and action.kind in _ROLLOUT_KINDS:
            stuck = _wait_for_rollout(action, reader, clock, rollout_timeout_s, poll_s)
            if stuck is not None:
                return done(ExecutionStatus.FAILED, f"{detail}; {stuck}")
            detail += "; rollout complete"
    except PermanentError as e:
        return done(ExecutionStatus.FAILED, str(e))
    return done(status, detail)


def _write(
    action: Action,
    writer: ClusterWriter,
    code: CodeHost | None,
    key: str,
    context: RevertContext | None = None,
) -> _Outcome:
    ns, target = action.namespace, action.target
    kind = action.kind
    if kind is ActionKind.ROLLOUT_UNDO:
        revision = _int(action, "to_revision")
        result = writer.rollout_undo(ns, target, revision, key)
        what = f"rolled back deployment/{target} in {ns} to revision {revision}"
    elif kind is ActionKind.ROLLOUT_RESTART:
        result = writer.rollout_restart(ns, target, key)
        what = f"restarted deployment/{target} in {ns}"
    elif kind is ActionKind.SCALE_OUT:
        replicas = _int(action, "replicas")
        result = writer.scale(ns, target, replicas, key)
        what = f"scaled deployment/{target} in {ns} to {replicas} replicas"
    elif kind is ActionKind.RAISE_LIMITS:
        limit = _int(action, "limit_mb")
        result = writer.set_memory_limit(ns, target, limit, key)
        what = f"set the memory limit of deployment/{target} in {ns} to {limit}Mi"
    elif kind is ActionKind.REVERT_CONFIG:
        setting = _str(action, "key")
        result = writer.revert_config(ns, target, key, setting)
        what = f"reverted {setting} of deployment/{target} in {ns} to its previous value"
    elif kind is ActionKind.CORDON_NODE:
        result = writer.cordon_node(target, key)
        what = f"cordoned and drained node/{target}"
    elif kind is ActionKind.REVERT_PR:
        return _open_revert(action, code, key, context)
    else:
        raise PermanentError(
            f"medic cannot perform {kind.value} yet; a human can: {action.command or action.undo}"
        )
    return _Outcome(result.applied, f"{what} ({result.detail})" if result.detail else what)


def _open_revert(
    action: Action, code: CodeHost | None, key: str, context: RevertContext | None
) -> _Outcome:
    if code is None:
        raise PermanentError("no code host is configured to open the revert pull request")
    service = _str(action, "service")
    good, bad = _str(action, "good_version"), _str(action, "bad_version")
    title = str(action.params.get("title") or f"Revert {service} {bad} to {good}")
    pr = code.open_revert(service, good, bad, title, action.reason, key, context=context)
    # The code host is idempotent by key but does not say whether it was a repeat.
    return _Outcome(True, f"opened pull request {pr.url} (branch {pr.branch})")


@dataclass(frozen=True)
class RolloutCheck:
    done: bool  # the rollout finished
    failure: str | None  # why it is given up on (the timeout passed first)


def waits_for_rollout(execution: Execution) -> bool:
    """Whether `execution` wrote pods that must roll out before it is done."""
    return execution.action.kind in _ROLLOUT_KINDS and execution.status in (
        ExecutionStatus.SUCCEEDED,
        ExecutionStatus.ALREADY_APPLIED,
    )


def rollout_check(
    action: Action, reader: ClusterReader, elapsed_s: float, timeout_s: float
) -> RolloutCheck:
    """One look at the rollout `elapsed_s` after the write."""
    status = reader.rollout_status(action.namespace, action.target)
    if status.done:
        return RolloutCheck(True, None)
    if elapsed_s >= timeout_s:
        progress = f"{status.updated_replicas}/{status.desired_replicas} updated"
        extra = f", {status.detail}" if status.detail else ""
        return RolloutCheck(
            False,
            f"rollout of deployment/{action.target} not done after {timeout_s:g}s "
            f"({progress}{extra})",
        )
    return RolloutCheck(False, None)


def rollout_finished(execution: Execution, check: RolloutCheck, at: datetime) -> Execution:
    """`execution` once its rollout is done, or failed with why it is not."""
    if check.failure is not None:
        return replace(
            execution,
            status=ExecutionStatus.FAILED,
            finished_at=at,
            detail=f"{execution.detail}; {check.failure}",
        )
    return replace(execution, finished_at=at, detail=f"{execution.detail}; rollout complete")


def _wait_for_rollout(
    action: Action, reader: ClusterReader, clock: Clock, timeout_s: float, poll_s: float
) -> str | None:
    """None once the rollout is done; why it failed when the timeout passes first."""
    began = clock.now()
    while True:
        elapsed = (clock.now() - began).total_seconds()
        check = rollout_check(action, reader, elapsed, timeout_s)
        if check.done or check.failure is not None:
            return check.failure
        clock.sleep(max(min(poll_s, timeout_s - elapsed), 0.001))


def _int(action: Action, key: str) -> int:
    value = action.params.get(key)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    raise InvalidInputError(f"{action.kind.value} needs a whole-number param {key}, got {value!r}")


def _str(action: Action, key: str) -> str:
    value = action.params.get(key)
    if value is None or value == "":
        raise InvalidInputError(f"{action.kind.value} needs param {key}")
    return str(value)
