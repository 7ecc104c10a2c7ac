"""`Sandbox`: one simulated cluster running one scenario, wired to medic's ports."""

from __future__ import annotations

import logging
import math
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from medic.domain.cluster import MetricName
from medic.domain.errors import ConflictError
from medic.ports.clock import Clock
from medic.sandbox.changes import SimChanges
from medic.sandbox.clock import SimClock
from medic.sandbox.cluster import SimCluster
from medic.sandbox.events import SimEvents
from medic.sandbox.logs import SimLogs
from medic.sandbox.metrics import SimMetrics
from medic.sandbox.repos import ensure_repos
from medic.sandbox.scenario import Scenario, load_scenario
from medic.sandbox.simulation import Simulation
from medic.sandbox.state import JournalEntry, SandboxState, load_state, save_state

__all__ = ["Sandbox"]


class Sandbox:
    """A simulated cluster: `.metrics` (MetricsSource, PodMetricsSource), `.logs`,
    `.changes`, `.events` (EventSource) and `.cluster` (ClusterReader, PodReader,
    ClusterWriter) implement the ports.

    State (the clock's anchor and the journal of writes) lives in
    `state_dir/sandbox.json`; reopening the same directory continues the same world.
    """

    def __init__(self, simulation: Simulation, repos_dir: Path) -> None:
        self._sim = simulation
        self.repos_dir = repos_dir
        self.metrics = SimMetrics(simulation)
        self.logs = SimLogs(simulation)
        self.changes = SimChanges(simulation)
        self.cluster = SimCluster(simulation)
        self.events = SimEvents(simulation)

    @classmethod
    def open(
        cls,
        scenario: str,
        state_dir: Path,
        speed: float = 60.0,
        clock: Clock | None = None,
        hold: bool = False,
    ) -> Sandbox:
        """Open (or create) the sandbox of `scenario` (a packaged name or a file path).

        With no `clock`, simulated time runs `speed` times faster than real time from
        the persisted anchor. With `hold`, a new sandbox's time stays at "now = 0" until
        `start()`: the scenario begins when the loop watching it is ready, not while it
        starts up. Raises ConflictError when `state_dir` holds another scenario.
        """
        loaded = load_scenario(scenario)
        state_dir = Path(state_dir)
        state = load_state(state_dir)
        if state is not None and state.scenario != loaded.name:
            raise ConflictError(
                f"{state_dir} holds the state of scenario {state.scenario!r}, not "
                f"{loaded.name!r}: use another directory or delete it"
            )
        fresh = state is None
        state, sim_clock = _settle_clock(loaded, state, speed, clock)
        if hold and fresh and isinstance(sim_clock, SimClock):
            sim_clock.hold()
        save_state(state_dir, state)
        repos_dir = state_dir / "repos"
        ensure_repos(loaded, repos_dir)
        return cls(Simulation(loaded, state_dir, state, sim_clock), repos_dir)

    @property
    def scenario(self) -> Scenario:
        return self._sim.scenario

    @property
    def namespace(self) -> str:
        return self._sim.scenario.namespace

    @property
    def clock(self) -> Clock:
        return self._sim.clock

    @property
    def origin(self) -> datetime:
        """The simulated moment of the scenario's "now = 0"."""
        return self._sim.origin

    def start(self) -> None:
        """Let held time run (no effect when it was not held). The history's telemetry
        is computed first, while time stands still: a first look at a big scenario
        takes a few real seconds, which must not be simulated minutes of the scenario."""
        clock = self._sim.clock
        if isinstance(clock, SimClock) and clock.held:
            try:
                self._warm()
            except Exception:  # a failed warm-up only makes the first look slow
                logging.getLogger(__name__).warning("sandbox warm-up failed", exc_info=True)
        if isinstance(clock, SimClock):
            held = clock.release()
            if held > 0:
                self._sim.shift_anchor(held)

    def _warm(self) -> None:
        scenario = self._sim.scenario
        if not scenario.services:
            return
        now = self._sim.clock.now()
        self.metrics.query(
            scenario.namespace,
            scenario.services[0].name,
            MetricName.LATENCY_P99_SECONDS,
            now - timedelta(seconds=scenario.history),
            now,
            scenario.step,
        )

    def journal(self) -> list[JournalEntry]:
        """Every applied write, oldest first."""
        return list(self._sim.journal())


def _settle_clock(
    scenario: Scenario, state: SandboxState | None, speed: float, clock: Clock | None
) -> tuple[SandboxState, Clock]:
    wall = time.time()
    if state is None:
        start = clock.now() if clock is not None else datetime.now(UTC)
        # "now = 0" on a step boundary: metric points then fall on round Unix times.
        aligned = math.floor(start.timestamp() / scenario.step) * scenario.step
        origin = datetime.fromtimestamp(aligned, tz=UTC)
        state = SandboxState(scenario.name, origin, wall, origin, speed)
    if clock is not None:
        return state, clock
    sim = SimClock(state.anchor_sim, state.anchor_wall, state.speed)
    if state.speed != speed:
        # Keep the simulated present where it is and run on at the new speed.
        state = replace(state, anchor_sim=sim.now(), anchor_wall=wall, speed=speed)
        sim = SimClock(state.anchor_sim, state.anchor_wall, speed)
    return state, sim
