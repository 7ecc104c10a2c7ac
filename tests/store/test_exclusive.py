"""A lock every process sharing the database respects (two `medic serve` replicas)."""

from __future__ import annotations

import threading

from medic.store import Store


def test_a_second_process_waits_for_the_first_to_release_the_lock(postgres_url: str) -> None:
    first, second = Store(postgres_url), Store(postgres_url)  # two engines: two processes
    entered = threading.Event()

    def other() -> None:
        with second.exclusive("grouping"):
            entered.set()

    try:
        with first.exclusive("grouping"):
            thread = threading.Thread(target=other)
            thread.start()
            assert not entered.wait(0.5), "the second replica got in while the first held it"
        assert entered.wait(30)
        thread.join(30)
        with first.exclusive("another"), second.exclusive("grouping"):
            pass  # locks of other names do not wait for each other
    finally:
        first.close()
        second.close()


def test_on_sqlite_the_lock_is_free(sqlite_url: str) -> None:
    store = Store(sqlite_url)
    with store.exclusive("grouping"), store.exclusive("grouping"):
        pass  # one file, one host: SQLite serialises writers itself
    store.close()
