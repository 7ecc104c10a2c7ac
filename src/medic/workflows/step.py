"""What every incident step shares: the DBOS step wrapper and the timeline note.

Steps log `step.start`/`step.done` with their name, so a restarted server's log shows
that no finished step ran again.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from dbos import DBOS

from medic.domain import ConflictError, Plan, TimelineEntry, TransientError
from medic.log import get_logger
from medic.workflows.context import deps

__all__ = ["current_plan", "note", "step"]

log = get_logger(__name__)

P = ParamSpec("P")
R = TypeVar("R")

TRANSIENT_ATTEMPTS = 3


def step(fn: Callable[P, R]) -> Callable[P, R]:
    """A DBOS step that logs its runs and retries TransientErrors with backoff."""

    @functools.wraps(fn)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        incident_id = str(args[0]) if args else ""
        log.info("step.start", step=fn.__name__, incident_id=incident_id)
        for attempt in range(1, TRANSIENT_ATTEMPTS + 1):
            try:
                result = fn(*args, **kwargs)
            except TransientError as exc:
                if attempt == TRANSIENT_ATTEMPTS:
                    raise
                log.warning("step.retry", step=fn.__name__, attempt=attempt, error=str(exc))
                deps().clock.sleep(2.0**attempt)
            else:
                log.info("step.done", step=fn.__name__, incident_id=incident_id)
                return result
        raise AssertionError("unreachable")

    return DBOS.step(name=fn.__name__)(run)


def note(incident_id: str, kind: str, message: str, key: str, **data: str | float | None) -> None:
    """A timeline entry, once per `key` (a re-run step does not repeat it)."""
    d = deps()
    d.store.add_timeline(
        incident_id,
        TimelineEntry(at=d.clock.now(), kind=kind, message=message, data=data),
        key=key,
    )


def current_plan(incident_id: str, plan_hash: str) -> Plan:
    plan = deps().store.plan(incident_id)
    if plan is None or plan.hash != plan_hash:
        raise ConflictError(f"incident {incident_id}: plan {plan_hash[:12]} is no longer current")
    return plan
