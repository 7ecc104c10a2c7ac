"""The store's ingestion side: signals (stored once by their identity, many in one
transaction, each refused row isolated under a savepoint) and rejected webhooks.

A mixin of `Store`: it uses the store's sessions and knows nothing else of it.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterator, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import cast

from sqlalchemy import URL, Table, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from medic.domain.errors import ConflictError, NotFoundError, PermanentError
from medic.domain.model import Signal, TimelineEntry
from medic.store import rows
from medic.store.engine import translate_errors
from medic.store.models import (
    IncidentRow,
    IncidentSignalRow,
    RejectedWebhookRow,
    SignalRow,
    TimelineRow,
)
from medic.store.records import RejectedWebhook
from medic.store.statements import insert_ignore

__all__ = ["MAX_REJECTED_REASON", "SignalRecords", "chunks", "new_id"]

MAX_REJECTED_REASON = 8000  # characters of a rejection's reason kept


def new_id() -> str:
    return uuid.uuid4().hex


class SignalRecords:
    _url: URL

    def _read(self) -> AbstractContextManager[Session]:
        raise NotImplementedError

    def _write(self) -> AbstractContextManager[Session]:
        raise NotImplementedError

    def record_signal(self, signal: Signal, raw: str | None = None) -> tuple[str, bool]:
        """Store `signal` once: (its id, True), or for a redelivery (the first id, False)."""
        signal_id = new_id()
        with self._write() as session:
            if insert_ignore(session, SignalRow, rows.signal_row(signal_id, signal, raw)):
                return signal_id, True
            existing = session.scalar(
                select(SignalRow.id).where(SignalRow.dedup_key == signal.dedup_key)
            )
        if existing is None:  # only if the row vanished, which nothing does
            raise ConflictError(f"signal {signal.dedup_key!r} conflicts but cannot be found")
        return existing, False

    def record_signals(
        self,
        items: Sequence[tuple[Signal, str | None]],
        links: Sequence[tuple[str, str, TimelineEntry, str] | None] | None = None,
        ids: Sequence[str] | None = None,
        refused: dict[int, str] | None = None,
    ) -> list[tuple[str, bool]]:
        """`record_signal` for many signals in one transaction and a few statements.

        Returns (id, created) per item, in order. A signal twice in `items` is stored
        once; the later one is reported as a redelivery of the first. With `links`
        (per item: incident id, signal id, timeline entry, key), each signal stored now
        is also attached to its incident in the same transaction (one commit for all);
        `ids` are then the ids to store the signals under (the links name them).

        With `refused`, a signal the database refuses does not fail the transaction:
        if the rows cannot be inserted together, each is inserted under a savepoint of
        its own; a refused one is skipped (its result is `("", False)`) and its index
        and the database's reason are put in `refused`. A transient failure (the
        database gone) still fails the whole transaction.
        """
        if not items:
            return []
        new_ids = list(ids) if ids is not None else [new_id() for _ in items]
        values = [
            rows.signal_row(signal_id, signal, raw)
            for signal_id, (signal, raw) in zip(new_ids, items, strict=True)
        ]
        with self._write() as session:
            inserted = _insert_signals(session, self._url, values, refused)
            missing = [
                str(v["dedup_key"])
                for index, v in enumerate(values)
                if v["id"] not in inserted and not (refused and index in refused)
            ]
            existing = _ids_of(session, missing)
            if links is not None:
                kept = [link for link in links if link is not None and link[1] in inserted]
                _attach(session, kept)
        results: list[tuple[str, bool]] = []
        for index, v in enumerate(values):
            if refused and index in refused:
                results.append(("", False))
                continue
            if v["id"] in inserted:
                results.append((str(v["id"]), True))
                continue
            prior = existing.get(str(v["dedup_key"]))
            if prior is None:  # only if the row vanished, which nothing does
                raise ConflictError(f"signal {v['dedup_key']!r} conflicts but cannot be found")
            results.append((prior, False))
        return results

    def signal_ids(self, dedup_keys: Collection[str]) -> dict[str, str]:
        """{dedup key: signal id} of the signals already stored among `dedup_keys`."""
        if not dedup_keys:
            return {}
        with self._read() as session:
            return _ids_of(session, sorted(set(dedup_keys)))

    def attach_signals(self, links: Sequence[tuple[str, str, TimelineEntry, str]]) -> None:
        """`attach_signal` plus `add_timeline` for many (incident id, signal id, entry,
        key) in one transaction; links and keyed entries already present change nothing."""
        if not links:
            return
        with self._write() as session:
            _attach(session, links)

    def record_rejected(self, source: str, reason: str, body: bytes, at: datetime) -> str:
        """Keep a webhook that could not be parsed (body cut to 64 KiB); returns its id."""
        rejected_id = new_id()
        with self._write() as session:
            session.add(
                RejectedWebhookRow(
                    id=rejected_id,
                    source=rows.storable_text(source, 64),
                    reason=rows.storable_text(reason, MAX_REJECTED_REASON),
                    body=rows.body_text(body),
                    at=at,
                )
            )
        return rejected_id

    def rejected(self, limit: int = 100) -> list[RejectedWebhook]:
        """The most recently rejected webhooks, newest first."""
        query = (
            select(RejectedWebhookRow)
            .order_by(RejectedWebhookRow.at.desc(), RejectedWebhookRow.seq.desc())
            .limit(limit)
        )
        with self._read() as session:
            return [rows.rejected_of(r) for r in session.scalars(query)]


def _ids_of(session: Session, dedup_keys: Sequence[str]) -> dict[str, str]:
    """{dedup key: signal id} of the stored signals among `dedup_keys`."""
    found: dict[str, str] = {}
    for chunk in chunks(dedup_keys, 500):
        query = select(SignalRow.dedup_key, SignalRow.id).where(SignalRow.dedup_key.in_(chunk))
        found.update({key: id_ for key, id_ in session.execute(query).all()})
    return found


def _attach(session: Session, links: Sequence[tuple[str, str, TimelineEntry, str]]) -> None:
    if not links:
        return
    wanted = {link[0] for link in links}
    found = set(session.scalars(select(IncidentRow.id).where(IncidentRow.id.in_(wanted))))
    if wanted - found:
        raise NotFoundError(f"no incident {sorted(wanted - found)[0]!r}")
    connection = session.connection()
    insert = postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
    for model, values in (
        (IncidentSignalRow, [{"incident_id": i, "signal_id": s} for i, s, _, _ in links]),
        (TimelineRow, [rows.timeline_row(i, e, k) for i, _, e, k in links]),
    ):
        connection.execute(insert(cast(Table, model.__table__)).on_conflict_do_nothing(), values)


def _insert_signals(
    session: Session, url: URL, values: list[dict[str, object]], refused: dict[int, str] | None
) -> set[str]:
    """Insert signal rows (a conflict is a redelivery: skipped); the ids inserted. With
    `refused`, rows the database refuses are skipped one by one, each under its own
    savepoint, and named in `refused` (index: reason)."""
    connection = session.connection()
    table = cast(Table, SignalRow.__table__)
    insert = postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
    statement = insert(table).on_conflict_do_nothing().returning(table.c.id)
    if refused is None:
        return {row[0] for row in connection.execute(statement, values).all()}
    try:
        with translate_errors(url), connection.begin_nested():
            return {row[0] for row in connection.execute(statement, values).all()}
    except (PermanentError, ConflictError):
        pass  # one (or more) of them: find which, row by row
    inserted: set[str] = set()
    for index, row in enumerate(values):
        try:
            with translate_errors(url), connection.begin_nested():
                inserted.update(r[0] for r in connection.execute(statement, [row]).all())
        except (PermanentError, ConflictError) as e:
            refused[index] = str(e)
    return inserted


def chunks(items: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
