"""The stepped clock: simulated time moves only when its driver advances it."""

from __future__ import annotations

import threading
from datetime import timedelta

from medic.sandbox import SteppedClock
from tests.sandbox.helpers import START


def _sleep_in_thread(clock: SteppedClock, seconds: float) -> tuple[threading.Thread, list[object]]:
    woke: list[object] = []

    def run() -> None:
        clock.sleep(seconds)
        woke.append(clock.now())

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    while clock.sleeping == 0:
        clock.wait_for_change(0.01)
    return thread, woke


def test_time_stands_still_until_the_driver_advances_it() -> None:
    clock = SteppedClock(START)

    assert clock.now() == START
    assert clock.now() == START
    clock.advance_to(START + timedelta(minutes=2))
    assert clock.now() == START + timedelta(minutes=2)


def test_time_never_goes_back() -> None:
    clock = SteppedClock(START)
    clock.advance_to(START + timedelta(minutes=2))

    clock.advance_to(START)

    assert clock.now() == START + timedelta(minutes=2)


def test_a_sleeper_wakes_only_once_time_reaches_its_wake_up() -> None:
    clock = SteppedClock(START)
    thread, woke = _sleep_in_thread(clock, 30)

    assert clock.next_wake() == START + timedelta(seconds=30)
    clock.advance_to(START + timedelta(seconds=29))
    thread.join(0.2)
    assert woke == [] and clock.sleeping == 1

    clock.advance_to(START + timedelta(seconds=30))
    # counted as awake at once, before its thread runs again: the driver must wait
    assert clock.sleeping == 0
    thread.join(5)
    assert woke == [START + timedelta(seconds=30)]


def test_sleepers_wake_in_the_order_of_their_wake_ups() -> None:
    clock = SteppedClock(START)
    _sleep_in_thread(clock, 90)
    _sleep_in_thread(clock, 15)

    assert clock.sleeping == 2
    assert clock.next_wake() == START + timedelta(seconds=15)
    clock.advance_to(START + timedelta(seconds=15))
    assert clock.sleeping == 1
    assert clock.next_wake() == START + timedelta(seconds=90)


def test_a_zero_sleep_does_not_wait() -> None:
    clock = SteppedClock(START)

    clock.sleep(0)

    assert clock.sleeping == 0 and clock.now() == START
