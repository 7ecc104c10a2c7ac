"""Control switches every `medic serve` process shares: the global kill switch.

Kept in the database, not in a process, so that `medic pause` stops every replica.
Flipping it appends a `control` entry to the audit log in the same transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from medic.domain.audit import AuditDraft, AuditKind
from medic.domain.model import Execution, ExecutionStatus
from medic.store.audit import AuditLog
from medic.store.codec import decode
from medic.store.models import ControlRow, ExecutionRow

__all__ = ["Control", "PauseState"]

Sessions = Callable[[], AbstractContextManager[Session]]

_PAUSE = "pause"


@dataclass(frozen=True)
class PauseState:
    """The kill switch: while `paused`, medic executes nothing anywhere."""

    paused: bool
    actor: str = ""
    reason: str = ""
    at: datetime | None = None


class Control:
    """`Store.control`: the kill switch, and the recent executions rate limits count."""

    def __init__(self, read: Sessions, write: Sessions, audit: AuditLog) -> None:
        self._read = read
        self._write = write
        self._audit = audit

    def pause_state(self) -> PauseState:
        with self._read() as session:
            row = session.scalar(select(ControlRow).where(ControlRow.name == _PAUSE))
            if row is None:
                return PauseState(False)
            return PauseState(row.active, row.actor, row.reason, row.at)

    def set_paused(self, paused: bool, actor: str, reason: str, at: datetime) -> PauseState:
        """Flip the kill switch (setting it to what it is changes nothing but the audit)."""
        with self._write() as session:
            row = session.scalar(select(ControlRow).where(ControlRow.name == _PAUSE))
            if row is None:
                row = ControlRow(name=_PAUSE, active=paused, reason=reason, actor=actor, at=at)
                session.add(row)
            else:
                row.active, row.reason, row.actor, row.at = paused, reason, actor, at
            entry = self._audit.append_in(
                session,
                AuditDraft(
                    at=at,
                    actor=actor,
                    kind=AuditKind.CONTROL,
                    outcome="paused" if paused else "resumed",
                    data={"reason": reason[:500]},
                ),
            )
        self._audit.checkpoint(entry)
        return PauseState(paused, actor, reason, at)

    def executions_since(self, since: datetime) -> list[Execution]:
        """Every execution (of any incident) that started at or after `since`."""
        query = (
            select(ExecutionRow.body)
            .where(
                ExecutionRow.started_at >= since,
                ExecutionRow.status != ExecutionStatus.ALREADY_APPLIED.value,
            )
            .order_by(ExecutionRow.seq)
        )
        with self._read() as session:
            return [decode(Execution, body) for body in session.scalars(query)]
