"""Bounded reads of an incident's many records (`Store.pages`): signals and timeline.

An alert storm can attach tens of thousands of signals (and as many "signal" timeline
entries) to one incident; a read of its detail must stay small whatever the storm, so
these reads take an offset and a limit, and counts are counted, not loaded.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from medic.domain.model import Signal, TimelineEntry
from medic.store import rows
from medic.store.codec import decode
from medic.store.models import IncidentSignalRow, SignalRow, TimelineRow

__all__ = ["IncidentPages"]

Sessions = Callable[[], AbstractContextManager[Session]]

SIGNAL_KIND = "signal"  # the timeline entry written when a signal joins an incident


class IncidentPages:
    def __init__(self, read: Sessions) -> None:
        self._read = read

    def signals(self, incident_id: str, offset: int, limit: int) -> list[Signal]:
        """The incident's signals in the order they were attached, one page of them."""
        query = (
            select(SignalRow.body)
            .join(IncidentSignalRow, IncidentSignalRow.signal_id == SignalRow.id)
            .where(IncidentSignalRow.incident_id == incident_id)
            .order_by(IncidentSignalRow.seq)
            .offset(offset)
            .limit(limit)
        )
        with self._read() as session:
            return [decode(Signal, body) for body in session.scalars(query)]

    def signal_count(self, incident_id: str) -> int:
        query = select(func.count()).where(IncidentSignalRow.incident_id == incident_id)
        with self._read() as session:
            return int(session.scalar(query) or 0)

    def timeline(self, incident_id: str, offset: int, limit: int) -> list[TimelineEntry]:
        """The incident's timeline by time and then by insertion, one page of it."""
        query = (
            select(TimelineRow)
            .where(TimelineRow.incident_id == incident_id)
            .order_by(TimelineRow.at, TimelineRow.seq)
            .offset(offset)
            .limit(limit)
        )
        with self._read() as session:
            return [rows.timeline_entry(r) for r in session.scalars(query)]

    def timeline_count(self, incident_id: str) -> int:
        query = select(func.count()).where(TimelineRow.incident_id == incident_id)
        with self._read() as session:
            return int(session.scalar(query) or 0)

    def timeline_digest(
        self, incident_id: str, signal_entries: int, limit: int
    ) -> list[TimelineEntry]:
        """At most `limit` entries: every entry of the loop's own steps (opened,
        diagnosis, plan, approval, action, ...) but only the first `signal_entries`
        of the signals joining, which a storm makes countless."""
        first_signals = (
            select(TimelineRow.seq)
            .where(TimelineRow.incident_id == incident_id, TimelineRow.kind == SIGNAL_KIND)
            .order_by(TimelineRow.at, TimelineRow.seq)
            .limit(signal_entries)
        )
        query = (
            select(TimelineRow)
            .where(
                TimelineRow.incident_id == incident_id,
                or_(TimelineRow.kind != SIGNAL_KIND, TimelineRow.seq.in_(first_signals)),
            )
            .order_by(TimelineRow.at, TimelineRow.seq)
            .limit(limit)
        )
        with self._read() as session:
            return [rows.timeline_entry(r) for r in session.scalars(query)]
