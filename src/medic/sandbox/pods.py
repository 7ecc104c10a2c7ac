"""Pods at an instant: which exist, which are ready, their memory and restarts.

A rollout replaces pods one slot at a time (`STAGGER` apart); a new pod is ready
`READY_DELAY` after it starts and its predecessor in that slot then terminates. A
revision whose containers cannot start (a crashloop) replaces only `maxUnavailable`
(25%, at least one) of the pods and stalls there, as a RollingUpdate does; its
containers restart with the kubelet's back-off (10s doubling to 5 minutes). A
leaking container grows from its start until it reaches the limit, is OOMKilled, is
down for `RESTART_DOWN` seconds and starts again from its baseline: a sawtooth that
is computed in closed form, so any instant can be evaluated on its own.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from medic.sandbox.faults import DependencyOutage, Fault
from medic.sandbox.nodes import DEFAULT_NODES
from medic.sandbox.noise import signed, token
from medic.sandbox.world import DeploymentTimeline, Generation, World, place

__all__ = [
    "DEFAULT_NODES",
    "READY_DELAY",
    "RESTART_DOWN",
    "STAGGER",
    "PodState",
    "faults_at",
    "pods_at",
    "rollout_progress",
    "self_down",
]

STAGGER = 20.0
READY_DELAY = 15.0
RESTART_DOWN = 20.0
_LONG_AGO = 86400.0  # pods of the initial generation started a day before the history
_CRASH_RUN = 4.0  # seconds a crashing container lives before it exits
_BACKOFF_CAP = 300.0


@dataclass(frozen=True)
class PodState:
    name: str
    node: str
    slot: int
    generation: Generation
    created: float
    running: bool  # False while an OOMKilled container waits to restart
    ready: bool
    memory_mb: float  # the working set; 0 while not running
    limit_mb: float
    restarts: int
    container_started: float  # the current container's start (after the last restart)
    waiting: str = ""  # "CrashLoopBackOff", "ImagePullBackOff": why it is not running
    crash_reason: str | None = None

    def faults(self, timeline: DeploymentTimeline, t: float) -> list[Fault]:
        """Every fault acting on this pod at t: its revision's and the service's."""
        return faults_at(timeline, self.generation, t)


def faults_at(timeline: DeploymentTimeline, generation: Generation, t: float) -> list[Fault]:
    return [*generation.template.faults, *(f.fault for f in timeline.faults if f.at <= t)]


def self_down(timeline: DeploymentTimeline, generation: Generation, t: float) -> bool:
    """An outage of the service itself: its pods run but fail their readiness probes."""
    name = timeline.service.name
    return any(
        isinstance(f, DependencyOutage) and f.target in (None, name)
        for f in faults_at(timeline, generation, t)
    )


def pods_at(world: World, service: str, t: float) -> list[PodState]:
    timeline = world.deployments[service]
    if not timeline.has_pods:
        return []
    slots = max(count for _, count in timeline.replica_steps)
    pods = []
    generations = [g for g in timeline.generations if g.at <= t]
    for position, generation in enumerate(generations):
        for slot in range(slots):
            if not _covers(timeline, generation, slot):
                continue
            successor = next(
                (g for g in generations[position + 1 :] if _covers(timeline, g, slot)), None
            )
            pod = _pod(world, timeline, generation, successor, slot, t)
            if pod is not None:
                pods.append(pod)
    return pods


def _covers(timeline: DeploymentTimeline, generation: Generation, slot: int) -> bool:
    """Whether the generation gets a pod in `slot` (a stalled rollout does not)."""
    if not any(f.crash_reason() for f in generation.template.faults):
        return True
    return slot < max(1, timeline.replicas_at(generation.at) // 4)


def rollout_progress(world: World, service: str, t: float) -> tuple[int, int, bool]:
    """(updated ready replicas, desired replicas, done) of the newest generation at t."""
    timeline = world.deployments[service]
    desired = timeline.replicas_at(t)
    current = timeline.generation_at(t)
    pods = pods_at(world, service, t)
    updated = sum(1 for p in pods if p.generation.index == current.index and p.ready)
    old = sum(1 for p in pods if p.generation.index != current.index)
    return updated, desired, updated >= desired and old == 0


def _pod(
    world: World,
    timeline: DeploymentTimeline,
    generation: Generation,
    successor: Generation | None,
    slot: int,
    t: float,
) -> PodState | None:
    if timeline.replicas_at(t) <= slot:
        return None
    first = generation.index == 0
    created = generation.at - _LONG_AGO if first else generation.at + slot * STAGGER
    created = max(created, _scaled_up_since(timeline, slot, t))
    if t < created or (successor is not None and t >= _replaced_at(timeline, successor, slot)):
        return None
    seed = world.scenario.seed
    name = "-".join(
        (
            timeline.service.name,
            generation.template_hash,
            token(seed, 5, "pod", timeline.service.name, generation.index, slot, created),
        )
    )
    node = place(world.scenario, timeline.service.name, generation, slot)
    crash = _crash(timeline, generation, created, t)
    if crash is not None:
        return crash(name, node, slot, generation, created)
    memory, restarts, running, started = _memory(world, timeline, generation, slot, created, t)
    ready = running and t >= max(created + READY_DELAY, started)
    return PodState(
        name=name,
        node=node,
        slot=slot,
        generation=generation,
        created=created,
        running=running,
        ready=ready and not self_down(timeline, generation, t),
        memory_mb=memory if running else 0.0,
        limit_mb=generation.template.limit_mb,
        restarts=restarts,
        container_started=started,
    )


class _Crashing:
    """A pod whose containers exit at start, restarted with the kubelet's back-off."""

    def __init__(self, reason: str, origin: float, t: float, base_mb: float, limit: float):
        self.reason, self.origin, self.t = reason, origin, t
        self.base_mb, self.limit = base_mb, limit

    def __call__(
        self, name: str, node: str, slot: int, generation: Generation, created: float
    ) -> PodState:
        attempt, started = _attempt(self.t - self.origin)
        started += self.origin
        pulls = self.reason == "bad_image"  # never starts: no restarts, ImagePullBackOff
        running = not pulls and self.t < started + _CRASH_RUN
        return PodState(
            name=name,
            node=node,
            slot=slot,
            generation=generation,
            created=created,
            running=running,
            ready=False,
            memory_mb=self.base_mb if running else 0.0,
            limit_mb=self.limit,
            restarts=0 if pulls else attempt,
            container_started=started,
            waiting="" if running else ("ImagePullBackOff" if pulls else "CrashLoopBackOff"),
            crash_reason=self.reason,
        )


def _crash(
    timeline: DeploymentTimeline, generation: Generation, created: float, t: float
) -> _Crashing | None:
    origins = [(created, f.crash_reason()) for f in generation.template.faults]
    origins += [(max(created, f.at), f.fault.crash_reason()) for f in timeline.faults]
    active = [(o, r) for o, r in origins if r is not None and o <= t]
    if not active:
        return None
    origin, reason = min(active, key=lambda x: x[0])
    assert reason is not None
    return _Crashing(
        reason, origin, t, timeline.service.memory_mb * 0.3, generation.template.limit_mb
    )


def _attempt(elapsed: float) -> tuple[int, float]:
    """(restarts so far, start of the current attempt) `elapsed` after the first start."""
    start, attempt, backoff = 0.0, 0, 10.0
    while backoff < _BACKOFF_CAP:
        following = start + _CRASH_RUN + backoff
        if elapsed < following:
            return attempt, start
        start, attempt, backoff = following, attempt + 1, backoff * 2
    period = _CRASH_RUN + _BACKOFF_CAP
    more = math.floor((elapsed - start) / period)
    return attempt + more, start + more * period


def _replaced_at(timeline: DeploymentTimeline, successor: Generation, slot: int) -> float:
    """When the successor's pod for this slot is ready (or the rollout is done)."""
    count = timeline.replicas_at(successor.at)
    if count == 0:
        return successor.at
    return successor.at + min(slot, count - 1) * STAGGER + READY_DELAY


def _scaled_up_since(timeline: DeploymentTimeline, slot: int, t: float) -> float:
    """The last time before t the replica count rose above `slot` (-inf if never below)."""
    since = -math.inf
    below = False
    for at, count in timeline.replica_steps:
        if at > t:
            break
        if count <= slot:
            below = True
        elif below:
            since, below = at, False
    return since


def _memory(
    world: World,
    timeline: DeploymentTimeline,
    generation: Generation,
    slot: int,
    created: float,
    t: float,
) -> tuple[float, int, bool, float]:
    """(working set MB, restarts, running, container start) of one pod at t."""
    seed, name = world.scenario.seed, timeline.service.name
    # Slot-stable jitter: a healthy redeploy must not look like a level shift.
    base = timeline.service.memory_mb * (1.0 + 0.02 * signed(seed, "base", name, slot))
    origin, rate = _leak(timeline, generation, created, t)
    if rate <= 0.0 or t < origin:
        return base, 0, True, created
    rate *= 1.0 + 0.03 * signed(seed, "rate", name, slot)
    limit = generation.template.limit_mb
    grow = max((limit - base) / rate, 30.0)  # seconds from a container start to its OOM
    cycle = grow + RESTART_DOWN
    elapsed = t - origin
    kills = math.floor(elapsed / cycle)
    phase = elapsed - kills * cycle
    if phase < grow:
        started = origin + kills * cycle if kills else created
        return base + rate * phase, kills, True, started
    return 0.0, kills + 1, False, origin + (kills + 1) * cycle


def _leak(
    timeline: DeploymentTimeline, generation: Generation, created: float, t: float
) -> tuple[float, float]:
    """(origin, MB per second) of the pod's leaks; several leaks add up."""
    leaks = [(created, f.leak_mb_per_second()) for f in generation.template.faults]
    leaks += [(max(created, tf.at), tf.fault.leak_mb_per_second()) for tf in timeline.faults]
    leaks = [(o, r) for o, r in leaks if r > 0.0 and o <= t]
    if not leaks:
        return math.inf, 0.0
    return min(o for o, _ in leaks), sum(r for _, r in leaks)
