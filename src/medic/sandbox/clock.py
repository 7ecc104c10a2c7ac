"""Clocks for the sandbox: simulated time running `speed` times faster than real time,
or stepped by whoever drives the loop.

`SimClock` is anchored: at wall time `anchor_wall` (Unix seconds) the simulated time
was `anchor_sim`. Persisting the anchor lets a restarted process continue the same
timeline. Within one process it advances with the monotonic clock, so a wall-clock
jump does not make simulated time go backwards.

`SteppedClock` does not follow the wall at all: simulated time moves only when its
driver advances it, and a `sleep` blocks until it has. A driver that advances only
while every worker sleeps on the clock (the benchmark's) makes each run of a scenario
see the same instants, however loaded the machine is.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

__all__ = ["ManualClock", "SimClock", "SteppedClock"]


class SimClock:
    def __init__(
        self,
        anchor_sim: datetime,
        anchor_wall: float,
        speed: float = 60.0,
        *,
        wall: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
        sleeper: Callable[[float], None] = time.sleep,
    ) -> None:
        if speed <= 0:
            raise ValueError("speed must be > 0")
        if anchor_sim.tzinfo is None:
            raise ValueError("anchor_sim must be timezone-aware")
        self.anchor_sim = anchor_sim.astimezone(UTC)
        self.anchor_wall = anchor_wall
        self.speed = speed
        self._monotonic = monotonic
        self._sleeper = sleeper
        # Real seconds elapsed since the anchor at the moment this process started.
        self._offset = wall() - anchor_wall
        self._mono0 = monotonic()
        self._held_since: float | None = None
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            held = self._held_since
            at = held if held is not None else self._monotonic()
            real = self._offset + (at - self._mono0)
        return self.anchor_sim + timedelta(seconds=real * self.speed)

    def hold(self) -> None:
        """Stop simulated time where it is until `release` (e.g. while the loop that
        watches the sandbox starts up: its "now = 0" is when the loop is ready)."""
        with self._lock:
            if self._held_since is None:
                self._held_since = self._monotonic()

    @property
    def held(self) -> bool:
        return self._held_since is not None

    def release(self) -> float:
        """Run on from where time was held; returns the real seconds it was held (by
        which the anchor's wall time moved on)."""
        with self._lock:
            if self._held_since is None:
                return 0.0
            held = self._monotonic() - self._held_since
            self._mono0 += held
            self.anchor_wall += held
            self._held_since = None
            return held

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            self._sleeper(seconds / self.speed)


class ManualClock:
    """A clock that moves only when told to: `sleep` and `advance` move it forward."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("start must be timezone-aware")
        self._now = start.astimezone(UTC)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def sleep(self, seconds: float) -> None:
        self.advance(seconds)

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += timedelta(seconds=max(0.0, seconds))

    def set(self, when: datetime) -> None:
        with self._lock:
            self._now = when.astimezone(UTC)


class SteppedClock:
    """Simulated time that moves only by `advance_to`; `sleep` waits for it.

    A sleeper counts as sleeping from the moment it asks until the driver's advance
    passes its wake-up time (not until its thread runs again), so `sleeping` never
    counts a worker that is about to work.
    """

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("start must be timezone-aware")
        self._now = start.astimezone(UTC)
        self._cond = threading.Condition()
        self._wakes: dict[int, datetime] = {}
        self._next_token = 0

    def now(self) -> datetime:
        with self._cond:
            return self._now

    def sleep(self, seconds: float) -> None:
        with self._cond:
            if seconds <= 0:
                return
            token = self._next_token
            self._next_token += 1
            self._wakes[token] = self._now + timedelta(seconds=seconds)
            self._cond.notify_all()  # a driver waiting for the loop to settle
            while token in self._wakes:
                self._cond.wait()

    @property
    def sleeping(self) -> int:
        """How many threads wait in `sleep` for time to move on."""
        with self._cond:
            return len(self._wakes)

    def next_wake(self) -> datetime | None:
        """When the earliest sleeper wakes up (None: nobody sleeps)."""
        with self._cond:
            return min(self._wakes.values(), default=None)

    def advance_to(self, when: datetime) -> None:
        """Move time on to `when` (never back) and wake every sleeper due by then."""
        with self._cond:
            self._now = max(self._now, when.astimezone(UTC))
            for token, wake in list(self._wakes.items()):
                if wake <= self._now:
                    del self._wakes[token]
            self._cond.notify_all()

    def wait_for_change(self, timeout_s: float) -> None:
        """Block (real time) until a thread starts sleeping, or `timeout_s` passes."""
        with self._cond:
            self._cond.wait(timeout_s)
