"""The audit log's repository: append (sealed into the hash chain), read, nothing else.

There is deliberately no update or delete. Appenders take turns on the head row
(`SELECT ... FOR UPDATE` on PostgreSQL; SQLite's `BEGIN IMMEDIATE` already admits one
writer at a time), so concurrent appends from threads or processes extend one chain
instead of forking it; unique `prev_hash` and `hash` columns back that up.

An append may carry an idempotency `key` (e.g. `execution:<action key>`): a workflow
step that runs again after a crash or a retry names its entry by the same key, and the
entry already in the chain is returned instead of a second one. The key is checked
while the head is locked (so two appenders of one key cannot both miss it) and is
unique in the table; it is not part of the entry's hash.

With an `AuditSeal` (the key kept outside the database, see `medic.store.audit_seal`)
every entry is sealed with an HMAC as it is appended, and once the append is committed
the new head is written to the checkpoint file.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import cast

from sqlalchemy import Table, inspect, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from medic.domain.audit import GENESIS_HASH, AuditDraft, AuditEntry, AuditKind, seal
from medic.store.audit_seal import AuditSeal
from medic.store.models import AuditHeadRow, AuditRow

__all__ = ["AuditLog", "append_in"]

Sessions = Callable[[], AbstractContextManager[Session]]

_HEAD_ID = 1
_PAGE = 1000


def append_in(
    session: Session, draft: AuditDraft, key: str | None = None, seal_key: bytes | None = None
) -> AuditEntry:
    """Append inside the caller's write transaction (e.g. with the change it records),
    sealed with `seal_key` if given.

    With a `key` already in the log, nothing is appended and that entry is returned."""
    head = _locked_head(session)
    if key is not None:
        earlier = session.scalar(select(AuditRow).where(AuditRow.idempotency_key == key))
        if earlier is not None:
            return _entry(earlier)
    entry = seal(draft, head.seq + 1, head.hash, seal_key)
    session.add(
        AuditRow(
            seq=entry.seq,
            at=entry.at,
            actor=entry.actor,
            kind=entry.kind.value,
            outcome=entry.outcome,
            incident_id=entry.incident_id,
            plan_hash=entry.plan_hash,
            data=dict(entry.data),
            prev_hash=entry.prev_hash,
            hash=entry.hash,
            idempotency_key=key,
            mac=entry.mac,
        )
    )
    head.seq, head.hash = entry.seq, entry.hash
    session.flush()
    return entry


def _locked_head(session: Session) -> AuditHeadRow:
    query = select(AuditHeadRow).where(AuditHeadRow.id == _HEAD_ID).with_for_update()
    head = session.scalar(query)
    if head is None:  # the migration seeds it; recreate only if someone removed it
        dialect = session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        table = cast(Table, AuditHeadRow.__table__)
        values = {"id": _HEAD_ID, "seq": 0, "hash": GENESIS_HASH}
        session.execute(insert(table).values(values).on_conflict_do_nothing())
        head = session.scalars(query).one()
    return head


def _entry(row: AuditRow) -> AuditEntry:
    data = row.data if isinstance(row.data, dict) else {}
    return AuditEntry(
        seq=row.seq,
        at=row.at,
        actor=row.actor,
        kind=AuditKind(row.kind),
        outcome=row.outcome,
        incident_id=row.incident_id,
        plan_hash=row.plan_hash,
        data={str(k): v for k, v in data.items()},
        prev_hash=row.prev_hash,
        hash=row.hash,
        mac=row.mac,
    )


class AuditLog:
    """`Store.audit`: the append-only, hash-chained audit log."""

    def __init__(self, read: Sessions, write: Sessions, seal: AuditSeal | None = None) -> None:
        self._read = read
        self._write = write
        self._seal = seal

    @property
    def sealed(self) -> bool:
        """Whether appends are sealed with the audit key."""
        return self._seal is not None

    def append_in(self, session: Session, draft: AuditDraft, key: str | None = None) -> AuditEntry:
        """`append` inside the caller's write transaction (with the change it records);
        call `checkpoint(entry)` once that transaction has committed."""
        return append_in(session, draft, key, self._seal.key if self._seal else None)

    def checkpoint(self, entry: AuditEntry) -> None:
        """Write the head after the committed `entry` outside the database."""
        if self._seal is not None:
            self._seal.checkpoint(entry)

    def present(self) -> bool:
        """Whether the audit log's tables exist (the store was ever migrated)."""
        with self._read() as session:
            return inspect(session.connection()).has_table(AuditRow.__tablename__)

    def append(self, draft: AuditDraft, key: str | None = None) -> AuditEntry:
        """Seal `draft` as the next entry of the chain and store it; returns the entry.

        `key` makes the append idempotent: if an entry was appended with the same key
        (a step running again), that entry is returned and nothing is appended."""
        with self._write() as session:
            entry = self.append_in(session, draft, key)
        self.checkpoint(entry)
        return entry

    def head(self) -> tuple[int, str] | None:
        """(seq, hash) of the last entry as recorded by the appenders; None if missing."""
        with self._read() as session:
            row = session.get(AuditHeadRow, _HEAD_ID)
            return (row.seq, row.hash) if row is not None else None

    def entries(self, after: int = 0) -> Iterator[AuditEntry]:
        """Every entry after seq `after`, oldest first, read a page at a time."""
        while True:
            query = select(AuditRow).where(AuditRow.seq > after).order_by(AuditRow.seq)
            with self._read() as session:
                page = [_entry(r) for r in session.scalars(query.limit(_PAGE))]
            yield from page
            if len(page) < _PAGE:
                return
            after = page[-1].seq

    def recent(self, limit: int = 100, incident_id: str | None = None) -> list[AuditEntry]:
        """The newest entries first (of one incident, if given)."""
        query = select(AuditRow).order_by(AuditRow.seq.desc()).limit(limit)
        if incident_id is not None:
            query = query.where(AuditRow.incident_id == incident_id)
        with self._read() as session:
            return [_entry(r) for r in session.scalars(query)]

    def approvers(self, incident_id: str, plan_hash: str, outcome: str) -> list[str]:
        """Who recorded an approval entry with `outcome` (e.g. "first-approval") for the
        plan, in order: the record a second approver is checked against."""
        query = (
            select(AuditRow.actor)
            .where(
                AuditRow.incident_id == incident_id,
                AuditRow.plan_hash == plan_hash,
                AuditRow.kind == AuditKind.APPROVAL.value,
                AuditRow.outcome == outcome,
            )
            .order_by(AuditRow.seq)
        )
        with self._read() as session:
            return list(session.scalars(query))
