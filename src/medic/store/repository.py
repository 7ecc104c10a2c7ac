"""`Store`: medic's durable state, in domain objects.

One `Store` is shared by every thread of a process; each method is one short
transaction. Writes that may be repeated (a redelivered webhook, a retried workflow
step) are idempotent where the domain says so, enforced by unique constraints rather
than by checks that two processes could race past.

Reads of an incident's records (timeline, signals, approvals, ...) return an empty
list for an unknown incident; writes to an unknown incident raise NotFoundError.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from datetime import datetime

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from medic.domain.audit import AuditDraft
from medic.domain.errors import ConflictError, NotFoundError, TransientError
from medic.domain.model import (
    Approval,
    Diagnosis,
    Execution,
    Incident,
    IncidentState,
    Plan,
    Postmortem,
    Signal,
    TimelineEntry,
    Verification,
)
from medic.store import approvals as approval_records
from medic.store import rows
from medic.store.audit import AuditLog
from medic.store.audit_seal import AuditSeal
from medic.store.codec import decode, encode
from medic.store.control import Control
from medic.store.engine import WRITE, make_engine, parse_url, redact, translate_errors
from medic.store.migrate import upgrade
from medic.store.models import (
    ApprovalRow,
    DiagnosisRow,
    ExecutionRow,
    IncidentRow,
    IncidentSignalRow,
    PlanRow,
    PostmortemRow,
    SignalRow,
    TimelineRow,
    VerificationRow,
)
from medic.store.paging import IncidentPages
from medic.store.signal_records import SignalRecords, chunks
from medic.store.statements import insert_ignore
from medic.store.users import Users

__all__ = ["Store"]

_TERMINAL = [s.value for s in IncidentState if s.terminal]

_Document = type[DiagnosisRow] | type[PlanRow] | type[VerificationRow] | type[PostmortemRow]


class Store(SignalRecords):
    """The repository of signals, incidents and everything recorded about them.

    `url` is a SQLAlchemy URL: ``sqlite:////abs/path/medic.sqlite`` (the parent
    directory is created) or ``postgresql+psycopg://user:pw@host:5432/db``. Nothing
    connects until the first call; call `migrate()` once at start-up. Database
    failures raise TransientError (may succeed later: unreachable server, lock
    timeout) or PermanentError, with the URL (password hidden) in the message.
    """

    def __init__(self, url: str, audit_seal: AuditSeal | None = None) -> None:
        self._url = parse_url(url)
        with translate_errors(self._url):
            self._engine = make_engine(self._url)
        # Append-only and hash-chained; sealed with the key outside the database if given.
        self.audit = AuditLog(self._read, self._write, audit_seal)
        self.control = Control(self._read, self._write, self.audit)  # the kill switch
        self.users = Users(self._read, self._write)  # people who sign in with a password
        self.pages = IncidentPages(self._read)  # bounded reads of big incidents

    @property
    def url(self) -> str:
        """The database URL with its password hidden."""
        return redact(self._url)

    def __repr__(self) -> str:
        return f"Store({self.url!r})"

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def migrate(self, attempts: int = 5) -> None:
        """Bring the schema to the newest revision. Idempotent and safe to race.

        Processes starting together on a new SQLite file can find it locked while
        another one switches it to WAL (that pragma does not wait): retry a few times.
        """
        for attempt in range(1, attempts + 1):
            try:
                with translate_errors(self._url):
                    upgrade(self._engine)
                return
            except TransientError:
                if attempt == attempts:
                    raise
                time.sleep(0.25 * 2**attempt)

    def ping(self) -> None:
        """Raise TransientError or PermanentError unless the database answers."""
        with self._read() as session:
            session.execute(text("SELECT 1"))

    def close(self) -> None:
        self._engine.dispose()

    # -- incidents ----------------------------------------------------------------------

    def create_incident(self, incident: Incident) -> Incident:
        """Store a new incident; ConflictError if its id is taken."""
        with self._write() as session:
            if not insert_ignore(session, IncidentRow, rows.incident_row(incident)):
                raise ConflictError(f"incident {incident.id!r} already exists")
            return rows.to_incident(_incident_row(session, incident.id))

    def get_incident(self, incident_id: str) -> Incident:
        with self._read() as session:
            return rows.to_incident(_incident_row(session, incident_id))

    def open_incident_for(self, group_key: str) -> Incident | None:
        """The newest incident with `group_key` that is not in a terminal state."""
        query = (
            select(IncidentRow)
            .where(IncidentRow.group_key == group_key, IncidentRow.state.not_in(_TERMINAL))
            .order_by(IncidentRow.opened_at.desc(), IncidentRow.seq.desc())
            .limit(1)
        )
        with self._read() as session:
            row = session.scalar(query)
            return rows.to_incident(row) if row is not None else None

    def list_incidents(self, limit: int = 100) -> list[Incident]:
        """The most recently opened incidents, newest first."""
        query = (
            select(IncidentRow)
            .order_by(IncidentRow.opened_at.desc(), IncidentRow.seq.desc())
            .limit(limit)
        )
        with self._read() as session:
            return [rows.to_incident(r) for r in session.scalars(query)]

    def incidents_in(self, states: Collection[IncidentState]) -> list[Incident]:
        """Every incident in one of `states`, newest first."""
        query = (
            select(IncidentRow)
            .where(IncidentRow.state.in_([s.value for s in states]))
            .order_by(IncidentRow.opened_at.desc(), IncidentRow.seq.desc())
        )
        with self._read() as session:
            return [rows.to_incident(r) for r in session.scalars(query)]

    def set_state(self, incident_id: str, state: IncidentState, at: datetime) -> Incident:
        with self._write() as session:
            row = _incident_row(session, incident_id)
            row.state = state.value
            row.updated_at = at
            session.flush()
            return rows.to_incident(row)

    def attach_signal(self, incident_id: str, signal_id: str) -> None:
        """Link a signal to an incident; linking it again changes nothing."""
        with self._write() as session:
            _incident_row(session, incident_id)
            if session.scalar(select(SignalRow.seq).where(SignalRow.id == signal_id)) is None:
                raise NotFoundError(f"no signal {signal_id!r}")
            link = {"incident_id": incident_id, "signal_id": signal_id}
            insert_ignore(session, IncidentSignalRow, link)

    def signals_of(self, incident_id: str) -> list[Signal]:
        """The incident's signals in the order they were attached."""
        query = (
            select(SignalRow.body)
            .join(IncidentSignalRow, IncidentSignalRow.signal_id == SignalRow.id)
            .where(IncidentSignalRow.incident_id == incident_id)
            .order_by(IncidentSignalRow.seq)
        )
        with self._read() as session:
            return [decode(Signal, body) for body in session.scalars(query)]

    def incident_of_alert(self, source: str, fingerprint: str) -> str | None:
        """The incident the newest delivery of an alert (source and fingerprint) was
        attached to, if any: where its resolution belongs."""
        query = (
            select(IncidentSignalRow.incident_id)
            .join(SignalRow, IncidentSignalRow.signal_id == SignalRow.id)
            .where(SignalRow.source == source, SignalRow.fingerprint == fingerprint)
            .order_by(IncidentSignalRow.seq.desc())
            .limit(1)
        )
        with self._read() as session:
            return session.scalar(query)

    def alerts_of(self, incident_ids: Collection[str]) -> dict[str, set[tuple[str, str]]]:
        """Per incident, the (source, fingerprint) of every alert attached to it."""
        found: dict[str, set[tuple[str, str]]] = {i: set() for i in incident_ids}
        if not found:
            return found
        query = (
            select(IncidentSignalRow.incident_id, SignalRow.source, SignalRow.fingerprint)
            .join(SignalRow, IncidentSignalRow.signal_id == SignalRow.id)
            .where(IncidentSignalRow.incident_id.in_(sorted(found)))
        )
        with self._read() as session:
            for incident_id, source, fingerprint in session.execute(query):
                found[incident_id].add((str(source), str(fingerprint)))
        return found

    def services_of(self, incident_ids: Collection[str]) -> dict[str, set[str]]:
        """Per incident, the services its signals are about."""
        found: dict[str, set[str]] = {i: set() for i in incident_ids}
        if not found:
            return found
        query = (
            select(IncidentSignalRow.incident_id, SignalRow.service)
            .join(SignalRow, IncidentSignalRow.signal_id == SignalRow.id)
            .where(IncidentSignalRow.incident_id.in_(sorted(found)), SignalRow.service.is_not(None))
            .distinct()
        )
        with self._read() as session:
            for incident_id, service in session.execute(query):
                found[incident_id].add(str(service))
        return found

    def incident_of_signal(self, signal_id: str) -> str | None:
        """The incident the signal was first attached to, if any."""
        query = (
            select(IncidentSignalRow.incident_id)
            .where(IncidentSignalRow.signal_id == signal_id)
            .order_by(IncidentSignalRow.seq)
            .limit(1)
        )
        with self._read() as session:
            return session.scalar(query)

    def incidents_of_signals(self, signal_ids: Collection[str]) -> dict[str, str]:
        """`incident_of_signal` for many signals in one query: {signal id: incident id}."""
        found: dict[str, str] = {}
        ids = sorted(set(signal_ids))
        if not ids:  # a batch without redeliveries: no transaction at all
            return found
        with self._read() as session:
            for chunk in chunks(ids, 500):
                query = (
                    select(IncidentSignalRow.signal_id, IncidentSignalRow.incident_id)
                    .where(IncidentSignalRow.signal_id.in_(chunk))
                    .order_by(IncidentSignalRow.seq.desc())
                )
                # Newest first, so the first attachment is the one that stays.
                found.update(
                    {
                        signal_id: incident_id
                        for signal_id, incident_id in session.execute(query).all()
                    }
                )
        return found

    # -- timeline -----------------------------------------------------------------------

    def add_timeline(self, incident_id: str, entry: TimelineEntry, key: str | None = None) -> bool:
        """Append an entry; with a `key` already used for this incident, do nothing.

        Returns whether the entry was added. Keys make retried steps write once.
        """
        with self._write() as session:
            _incident_row(session, incident_id)
            return insert_ignore(session, TimelineRow, rows.timeline_row(incident_id, entry, key))

    def timeline(self, incident_id: str) -> list[TimelineEntry]:
        """The incident's timeline, by time and then by insertion."""
        query = (
            select(TimelineRow)
            .where(TimelineRow.incident_id == incident_id)
            .order_by(TimelineRow.at, TimelineRow.seq)
        )
        with self._read() as session:
            return [rows.timeline_entry(r) for r in session.scalars(query)]

    # -- diagnosis and plans ------------------------------------------------------------

    def save_diagnosis(self, diagnosis: Diagnosis) -> None:
        """Keep a diagnosis; the latest saved is the incident's current one."""
        with self._write() as session:
            _incident_row(session, diagnosis.incident_id)
            session.add(DiagnosisRow(incident_id=diagnosis.incident_id, body=encode(diagnosis)))

    def diagnosis(self, incident_id: str) -> Diagnosis | None:
        body = self._latest(DiagnosisRow, incident_id)
        return decode(Diagnosis, body) if body is not None else None

    def save_plan(self, plan: Plan) -> None:
        """Keep a plan version; the latest saved is the current plan."""
        with self._write() as session:
            _incident_row(session, plan.incident_id)
            session.add(rows.plan_row(plan))

    def plan(self, incident_id: str) -> Plan | None:
        """The current (latest saved) plan of the incident."""
        body = self._latest(PlanRow, incident_id)
        return decode(Plan, body) if body is not None else None

    def plans(self, incident_id: str) -> list[Plan]:
        """Every plan version of the incident, oldest first."""
        query = select(PlanRow.body).where(PlanRow.incident_id == incident_id).order_by(PlanRow.seq)
        with self._read() as session:
            return [decode(Plan, body) for body in session.scalars(query)]

    # -- approvals, executions, verification, post-mortem -------------------------------

    def record_approval(self, approval: Approval) -> Approval:
        """Record the one decision on a plan (by hash).

        Recording the very same approval again returns it (a retried step); any
        other second decision on that plan raises ConflictError naming the first.
        """
        with self._write() as session:
            _incident_row(session, approval.incident_id)
            return approval_records.record_one(session, approval)

    def record_approval_of_two(
        self, approval: Approval, first_entry: AuditDraft, final_entry: AuditDraft, key: str
    ) -> Approval:
        """Record an approval of a plan that needs two different approvers.

        In one transaction: the first approver of the plan is held as its first
        approval (returned as PENDING); a second, different one becomes the plan's one
        decision (returned as recorded). Its audit entry (`first_entry` or
        `final_entry`) is appended in the same transaction, under `key` + ":first" or
        `key`. Unique constraints decide a race: of two approvers at the same instant
        one is first and the other final, never both first. ConflictError: the same
        person approving again, or the plan already decided. Recording the very same
        approval again returns it.
        """
        with self._write() as session:
            _incident_row(session, approval.incident_id)
            entry, recorded = approval_records.record_one_of_two(
                session, self.audit, approval, first_entry, final_entry, key
            )
        if entry is not None:
            self.audit.checkpoint(entry)
        return recorded

    def first_approval(self, incident_id: str, plan_hash: str) -> Approval | None:
        """The first of two approvals of the plan (decision PENDING), if one was made."""
        with self._read() as session:
            return approval_records.first_of_two(session, incident_id, plan_hash)

    def approvals(self, incident_id: str) -> list[Approval]:
        """The incident's approval decisions, in the order they were made."""
        query = (
            select(ApprovalRow)
            .where(ApprovalRow.incident_id == incident_id)
            .order_by(ApprovalRow.seq)
        )
        with self._read() as session:
            return [rows.to_approval(r) for r in session.scalars(query)]

    def record_execution(self, incident_id: str, execution: Execution) -> None:
        """Record an action's execution once per idempotency key; repeats change nothing."""
        with self._write() as session:
            _incident_row(session, incident_id)
            insert_ignore(session, ExecutionRow, rows.execution_row(incident_id, execution))

    def executions(self, incident_id: str) -> list[Execution]:
        """The incident's executions, in the order they were recorded."""
        query = (
            select(ExecutionRow.body)
            .where(ExecutionRow.incident_id == incident_id)
            .order_by(ExecutionRow.seq)
        )
        with self._read() as session:
            return [decode(Execution, body) for body in session.scalars(query)]

    def save_verification(self, incident_id: str, verification: Verification) -> None:
        """Keep a verification outcome; the latest saved is the current one."""
        with self._write() as session:
            _incident_row(session, incident_id)
            session.add(rows.verification_row(incident_id, verification))

    def verification(self, incident_id: str) -> Verification | None:
        body = self._latest(VerificationRow, incident_id)
        return decode(Verification, body) if body is not None else None

    def save_postmortem(self, postmortem: Postmortem) -> None:
        """Keep a post-mortem; the latest saved is the current one."""
        with self._write() as session:
            _incident_row(session, postmortem.incident_id)
            session.add(PostmortemRow(incident_id=postmortem.incident_id, body=encode(postmortem)))

    def postmortem(self, incident_id: str) -> Postmortem | None:
        body = self._latest(PostmortemRow, incident_id)
        return decode(Postmortem, body) if body is not None else None

    # -- plumbing -----------------------------------------------------------------------

    def _latest(self, model: _Document, incident_id: str) -> object:
        query = (
            select(model.body)
            .where(model.incident_id == incident_id)
            .order_by(model.seq.desc())
            .limit(1)
        )
        with self._read() as session:
            return session.scalar(query)

    @contextmanager
    def exclusive(self, name: str) -> Iterator[None]:
        """Hold a lock named `name` shared by every process using this database: on
        PostgreSQL a session advisory lock (so two `medic serve` replicas never group
        the same alerts at once); SQLite serialises writers itself and one file has
        one host, so there it holds nothing more."""
        if self._engine.dialect.name != "postgresql":
            yield
            return
        key = _lock_key(name)
        with translate_errors(self._url), self._engine.connect() as connection:
            connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": key})
            connection.commit()
            try:
                yield
            finally:
                connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
                connection.commit()

    @contextmanager
    def _read(self) -> Iterator[Session]:
        with self._session(write=False) as session:
            yield session

    @contextmanager
    def _write(self) -> Iterator[Session]:
        with self._session(write=True) as session:
            yield session

    @contextmanager
    def _session(self, *, write: bool) -> Iterator[Session]:
        with translate_errors(self._url), self._engine.connect() as connection:
            if write:
                connection.execution_options(**{WRITE: True})
            with Session(connection, expire_on_commit=False) as session, session.begin():
                yield session


def _lock_key(name: str) -> int:
    """A stable signed 64-bit key for an advisory lock name."""
    digest = hashlib.sha256(f"medic:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _incident_row(session: Session, incident_id: str) -> IncidentRow:
    row = session.scalar(select(IncidentRow).where(IncidentRow.id == incident_id))
    if row is None:
        raise NotFoundError(f"no incident {incident_id!r}")
    return row
