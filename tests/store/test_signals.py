"""Signals are stored once however often they are delivered; bad webhooks are kept."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest

from medic.domain import NotFoundError, TimelineEntry
from medic.store import Store
from tests.store import builders
from tests.store.builders import T0


def test_a_redelivered_signal_returns_the_first_id_and_changes_nothing(store: Store) -> None:
    store.create_incident(builders.incident())
    first = builders.signal(summary="first delivery")
    signal_id, created = store.record_signal(first, raw='{"status": "firing"}')
    store.attach_signal("inc-1", signal_id)

    again_id, again_created = store.record_signal(builders.signal(summary="redelivered"))

    assert (again_id, again_created) == (signal_id, False)
    assert created is True
    assert store.signals_of("inc-1") == [first]


def test_the_same_alert_starting_again_later_is_a_new_signal(store: Store) -> None:
    first_id, _ = store.record_signal(builders.signal())
    later_id, created = store.record_signal(builders.signal(starts_at=T0 + timedelta(hours=2)))
    assert created is True and later_id != first_id


def test_concurrent_redeliveries_store_the_signal_once(store: Store) -> None:
    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(lambda _: store.record_signal(builders.signal()), range(12)))
    assert len({signal_id for signal_id, _ in results}) == 1
    assert sum(created for _, created in results) == 1


def test_a_rejected_webhook_is_kept_with_its_reason_and_body(store: Store) -> None:
    rejected_id = store.record_rejected("alertmanager", "not JSON", b"{oops", T0)
    [rejected] = store.rejected()
    assert rejected.id == rejected_id
    assert (rejected.source, rejected.reason, rejected.body, rejected.at) == (
        "alertmanager",
        "not JSON",
        "{oops",
        T0,
    )


def test_a_huge_or_binary_rejected_body_is_cut_and_made_text(store: Store) -> None:
    store.record_rejected("generic", "too big", b"\xff\xfe" + b"a" * 200_000, T0)
    [rejected] = store.rejected()
    assert rejected.body.startswith("\ufffd\ufffdaaa")
    assert len(rejected.body.encode()) <= 64 * 1024 + 4  # two replacement chars are wider


def test_rejected_webhooks_are_listed_newest_first_up_to_the_limit(store: Store) -> None:
    for minute in (1, 3, 2):
        store.record_rejected("grafana", f"bad {minute}", b"", T0 + timedelta(minutes=minute))
    assert [r.reason for r in store.rejected()] == ["bad 3", "bad 2", "bad 1"]
    assert [r.reason for r in store.rejected(limit=1)] == ["bad 3"]


def test_a_batch_stores_new_signals_once_and_reports_redeliveries(store: Store) -> None:
    store.create_incident(builders.incident())
    known_id, _ = store.record_signal(builders.signal("known"))
    fresh, repeated = builders.signal("fresh"), builders.signal("twice")
    items = [(builders.signal("known"), None), (fresh, "{}"), (repeated, None), (repeated, None)]
    ids = ["id-known-again", "id-fresh", "id-twice", "id-twice-again"]
    entry = TimelineEntry(at=T0, kind="signal", message="alertmanager firing")
    links = [("inc-1", signal_id, entry, f"signal:{signal_id}") for signal_id in ids]

    recorded = store.record_signals(items, links, ids)

    assert recorded == [
        (known_id, False),
        ("id-fresh", True),
        ("id-twice", True),
        ("id-twice", False),
    ]
    # Only what was stored now is attached: once each, with its timeline entry.
    assert store.signals_of("inc-1") == [fresh, repeated]
    assert store.incidents_of_signals(["id-fresh", "id-twice", known_id]) == {
        "id-fresh": "inc-1",
        "id-twice": "inc-1",
    }
    assert [e.message for e in store.timeline("inc-1")] == ["alertmanager firing"] * 2


def test_a_batch_naming_an_unknown_incident_stores_nothing(store: Store) -> None:
    entry = TimelineEntry(at=T0, kind="signal", message="m")
    with pytest.raises(NotFoundError):
        store.record_signals([(builders.signal(), None)], [("inc-x", "id-1", entry, "k")], ["id-1"])
    assert store.signal_ids([builders.signal().dedup_key]) == {}


def test_looking_up_nothing_finds_nothing(store: Store) -> None:
    assert store.signal_ids([]) == {}
    assert store.incidents_of_signals([]) == {}
    assert store.record_signals([]) == []


def test_a_sqlite_commit_is_synced_to_disk_before_it_returns(sqlite_url: str) -> None:
    # FULL, not NORMAL: a webhook acknowledged after its commit survives a power loss.
    with Store(sqlite_url) as store:
        store.migrate()
        store.record_signal(builders.signal())
        with store._engine.connect() as connection:  # one of the store's own connections
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
