"""Pods at an instant: which exist, which are ready, their memory and restarts.

A rollout replaces pods one slot at a time (`STAGGER` apart); a new pod is ready
`READY_DELAY` after it starts and its predecessor in that slot then terminates. A
leaking container grows from its start until it reaches the limit, is OOMKilled, is
down for `RESTART_DOWN` seconds and starts again from its baseline: a sawtooth that
is computed in closed form, so any instant can be evaluated on its own.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from medic.sandbox.noise import signed, token
from medic.sandbox.world import DeploymentTimeline, Generation, World

__all__ = ["READY_DELAY", "RESTART_DOWN", "STAGGER", "PodState", "pods_at", "rollout_progress"]

STAGGER = 20.0
READY_DELAY = 15.0
RESTART_DOWN = 20.0
_LONG_AGO = 86400.0  # pods of the initial generation started a day before the history
DEFAULT_NODES = ("node-a", "node-b", "node-c")


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


def pods_at(world: World, service: str, t: float) -> list[PodState]:
    timeline = world.deployments[service]
    if not timeline.has_pods:
        return []
    slots = max(count for _, count in timeline.replica_steps)
    pods = []
    generations = [g for g in timeline.generations if g.at <= t]
    for position, generation in enumerate(generations):
        successor = generations[position + 1] if position + 1 < len(generations) else None
        for slot in range(slots):
            pod = _pod(world, timeline, generation, successor, slot, t)
            if pod is not None:
                pods.append(pod)
    return pods


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
    nodes = tuple(n.name for n in world.scenario.nodes) or DEFAULT_NODES
    node = nodes[int((signed(seed, "node", name) + 1) / 2 * len(nodes)) % len(nodes)]
    memory, restarts, running, started = _memory(world, timeline, generation, slot, created, t)
    return PodState(
        name=name,
        node=node,
        slot=slot,
        generation=generation,
        created=created,
        running=running,
        ready=running and t >= max(created + READY_DELAY, started),
        memory_mb=memory if running else 0.0,
        limit_mb=generation.template.limit_mb,
        restarts=restarts,
        container_started=started,
    )


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
