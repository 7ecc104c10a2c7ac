"""The sandbox's mutable core: scenario, clock, journal of writes and the compiled world.

Everything else reads a consistent snapshot (`current()`) and computes from it
without holding the lock; writes hold the lock from the idempotency check until the
journal is on disk.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path

from medic.ports.clock import Clock
from medic.sandbox.scenario import Scenario
from medic.sandbox.state import JournalEntry, SandboxState, save_state
from medic.sandbox.telemetry import Telemetry
from medic.sandbox.world import World, compile_world

__all__ = ["Simulation", "Snapshot"]


@dataclass(frozen=True)
class Snapshot:
    world: World
    telemetry: Telemetry
    now: float  # seconds after the scenario's "now = 0"


class Simulation:
    def __init__(
        self, scenario: Scenario, state_dir: Path, state: SandboxState, clock: Clock
    ) -> None:
        self.scenario = scenario
        self.state_dir = state_dir
        self.clock = clock
        self.origin = state.origin
        self.lock = threading.RLock()
        self._state = state
        self._compiled: tuple[tuple[int, int], Telemetry, float] | None = None

    def offset(self, when: datetime) -> float:
        return (when - self.origin).total_seconds()

    def at(self, offset: float) -> datetime:
        return self.origin + timedelta(seconds=offset)

    def current(self) -> Snapshot:
        with self.lock:
            now = self.offset(self.clock.now())
            happened = sum(1 for e in self.scenario.timeline if e.at <= now)
            key = (len(self._state.journal), happened)
            if self._compiled is None or self._compiled[0] != key:
                world = compile_world(self.scenario, self._state.journal, now)
                telemetry = Telemetry(world, self.origin)
                if self._compiled is not None:
                    # The past does not change: keep what was computed before the news.
                    (known, _), previous, then = self._compiled
                    news = [e.offset for e in self._state.journal[known:]]
                    news += [e.at for e in self.scenario.timeline if then < e.at <= now]
                    telemetry.inherit(previous, min(news, default=now))
                self._compiled = (key, telemetry, now)
            telemetry = self._compiled[1]
            return Snapshot(telemetry.world, telemetry, now)

    def journal(self) -> tuple[JournalEntry, ...]:
        with self.lock:
            return self._state.journal

    def find(self, key: str) -> JournalEntry | None:
        with self.lock:
            return next((e for e in self._state.journal if e.key == key), None)

    def shift_anchor(self, real_seconds: float) -> None:
        """The clock was held `real_seconds`: persist its anchor's new wall time, so that
        another process opening this sandbox reads the same simulated time."""
        with self.lock:
            state = replace(self._state, anchor_wall=self._state.anchor_wall + real_seconds)
            save_state(self.state_dir, state)
            self._state = state

    def record(self, entry: JournalEntry) -> None:
        """Append a write to the journal, durably, before anyone sees its effects."""
        with self.lock:
            state = replace(self._state, journal=(*self._state.journal, entry))
            save_state(self.state_dir, state)
            self._state = state
