"""Simulated time: faster than real time, anchored, and persisted across processes."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from medic.sandbox import ManualClock, Sandbox, SimClock
from tests.sandbox.helpers import SEED, START


class _FakeTime:
    def __init__(self) -> None:
        self.wall = 1_000_000.0
        self.mono = 50.0
        self.slept: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.wall += seconds
        self.mono += seconds


def test_simulated_time_runs_speed_times_faster() -> None:
    fake = _FakeTime()
    clock = SimClock(
        START,
        anchor_wall=fake.wall - 10.0,  # anchored 10 real seconds ago
        speed=60.0,
        wall=lambda: fake.wall,
        monotonic=lambda: fake.mono,
        sleeper=fake.sleep,
    )
    assert clock.now() == START + timedelta(minutes=10)
    clock.sleep(120.0)  # two simulated minutes = two real seconds
    assert fake.slept == [2.0]
    assert clock.now() == START + timedelta(minutes=12)


def test_manual_clock_moves_only_when_told() -> None:
    clock = ManualClock(START)
    assert clock.now() == START
    clock.sleep(90)
    assert clock.now() == START + timedelta(seconds=90)
    clock.set(START)
    assert clock.now() == START


def test_the_anchor_is_persisted_so_a_restart_continues_the_timeline(tmp_path: Path) -> None:
    first = Sandbox.open(SEED, tmp_path, speed=60.0)
    seen = first.clock.now()
    again = Sandbox.open(SEED, tmp_path, speed=60.0)
    assert again.origin == first.origin
    assert seen <= again.clock.now() < seen + timedelta(minutes=5)
    assert first.origin <= seen
    assert first.origin.second % 15 == 0 and first.origin.microsecond == 0


def test_a_new_speed_keeps_the_simulated_present(tmp_path: Path) -> None:
    first = Sandbox.open(SEED, tmp_path, speed=60.0)
    seen = first.clock.now()
    faster = Sandbox.open(SEED, tmp_path, speed=600.0)
    assert faster.origin == first.origin
    assert seen <= faster.clock.now() < seen + timedelta(minutes=10)
    assert isinstance(faster.clock, SimClock) and faster.clock.speed == 600.0
    assert datetime.now(UTC) - timedelta(minutes=1) < first.origin


def test_held_time_stands_still_and_runs_on_from_where_it_stood() -> None:
    fake = _FakeTime()
    clock = SimClock(
        START,
        anchor_wall=fake.wall,
        speed=60.0,
        wall=lambda: fake.wall,
        monotonic=lambda: fake.mono,
    )
    clock.hold()
    fake.mono += 30.0  # the loop takes 30 real seconds to start
    fake.wall += 30.0
    assert clock.now() == START
    assert clock.release() == 30.0
    assert clock.now() == START
    fake.mono += 1.0
    assert clock.now() == START + timedelta(minutes=1)
    assert clock.anchor_wall == 1_000_030.0


def test_a_held_sandbox_starts_at_its_origin_and_persists_the_new_anchor(
    tmp_path: Path,
) -> None:
    held = Sandbox.open(SEED, tmp_path, speed=600.0, hold=True)
    stood = held.clock.now()
    time.sleep(0.2)  # two simulated minutes, were time running
    assert held.clock.now() == stood < held.origin + timedelta(seconds=30)
    held.start()
    again = Sandbox.open(SEED, tmp_path, speed=600.0)
    # Another process reads the same timeline: it began at start(), not at open().
    assert held.origin <= again.clock.now() < held.origin + timedelta(minutes=2)
    # Reopening an existing sandbox never holds: its time is already running.
    reopened = Sandbox.open(SEED, tmp_path, speed=600.0, hold=True)
    assert reopened.clock.now() > held.origin
