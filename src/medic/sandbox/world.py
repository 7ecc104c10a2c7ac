"""The world's shape over time: deployments, revisions, pod generations, faults, changes.

`compile_world` replays the scenario's timeline and the journal of applied writes, in
time order, up to a cutoff (the simulated "now"). The result is immutable: the
telemetry reads it as a pure function of time. Events after the cutoff do not exist
yet; writes are always applied at the cutoff, so replaying later never changes the past.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace

from medic.domain.cluster import ServiceKind
from medic.domain.errors import PermanentError
from medic.domain.model import ChangeKind
from medic.sandbox.faults import Fault, NodePressure, build_fault
from medic.sandbox.nodes import node_names
from medic.sandbox.noise import token, uniform
from medic.sandbox.scenario import Commit, FaultSpec, Scenario, Service, TimelineEvent
from medic.sandbox.state import JournalEntry

__all__ = [
    "BlipWindow",
    "ChangeRecord",
    "ConfigRecord",
    "DeploymentTimeline",
    "Generation",
    "NodeFault",
    "RevisionRecord",
    "Template",
    "TimedFault",
    "World",
    "compile_world",
    "fault_of",
    "host_of",
    "node_names",
    "place",
]


@dataclass(frozen=True)
class Template:
    """What a revision runs (the pod template): code version, limits, config, faults."""

    version: str
    limit_mb: float
    code_faults: tuple[Fault, ...] = ()
    config: tuple[tuple[str, str], ...] = ()
    config_faults: tuple[tuple[str, Fault], ...] = ()
    commit: Commit | None = None
    change_cause: str = ""
    restart_nonce: int = 0  # `kubectl rollout restart` changes an annotation only

    @property
    def faults(self) -> tuple[Fault, ...]:
        return self.code_faults + tuple(f for _, f in self.config_faults)


@dataclass(frozen=True)
class RevisionRecord:
    number: int
    template: Template
    at: float  # seconds after "now = 0"


@dataclass(frozen=True)
class Generation:
    """The pods of one rollout (a ReplicaSet), started together from `at`."""

    index: int
    at: float
    revision: int
    template: Template
    template_hash: str
    reason: str = "rollout"  # "evicted": the same ReplicaSet's pods moved off a node
    cordoned: tuple[str, ...] = ()  # nodes its pods may not be placed on


@dataclass(frozen=True)
class TimedFault:
    at: float
    fault: Fault


@dataclass(frozen=True)
class NodeFault:
    at: float
    node: str
    cpu_steal: float


@dataclass(frozen=True)
class ConfigRecord:
    """One change of a configuration key (what `revert_config` undoes)."""

    at: float
    key: str
    previous: str | None  # None: the key was not set before
    value: str


@dataclass(frozen=True)
class BlipWindow:
    start: float
    end: float
    factor: float


@dataclass(frozen=True)
class ChangeRecord:
    at: float
    kind: ChangeKind
    service: str
    version: str | None = None
    previous_version: str | None = None
    revision: int | None = None
    commit: Commit | None = None
    description: str = ""


@dataclass(frozen=True)
class DeploymentTimeline:
    service: Service
    generations: tuple[Generation, ...]  # oldest first; index 0 runs since before history
    replica_steps: tuple[tuple[float, int], ...]  # (from, replicas), oldest first
    revisions: tuple[RevisionRecord, ...]  # as `kubectl rollout history` lists them
    faults: tuple[TimedFault, ...] = ()
    blips: tuple[BlipWindow, ...] = ()
    config_changes: tuple[ConfigRecord, ...] = ()

    @property
    def has_pods(self) -> bool:
        return self.service.kind is not ServiceKind.EXTERNAL

    @property
    def current(self) -> Generation:
        return self.generations[-1]

    def replicas_at(self, t: float) -> int:
        replicas = self.replica_steps[0][1]
        for since, count in self.replica_steps:
            if since > t:
                break
            replicas = count
        return replicas

    def generation_at(self, t: float) -> Generation:
        found = self.generations[0]
        for generation in self.generations:
            if generation.at > t:
                break
            found = generation
        return found

    def revision(self, number: int) -> RevisionRecord | None:
        return next((r for r in self.revisions if r.number == number), None)


@dataclass(frozen=True)
class World:
    scenario: Scenario
    cutoff: float
    deployments: Mapping[str, DeploymentTimeline]
    changes: tuple[ChangeRecord, ...] = field(default=())
    node_faults: tuple[NodeFault, ...] = ()
    cordons: tuple[tuple[float, str], ...] = ()  # (when, node)

    def steal_at(self, node: str, t: float) -> float:
        """The share of `node`'s CPU stolen at t (0 when healthy)."""
        return max(
            (f.cpu_steal for f in self.node_faults if f.node == node and f.at <= t), default=0.0
        )

    def deployment(self, name: str) -> DeploymentTimeline | None:
        return self.deployments.get(name)


def compile_world(scenario: Scenario, journal: Iterable[JournalEntry], cutoff: float) -> World:
    builders = {s.name: _Builder(scenario, s) for s in scenario.services}
    changes: list[ChangeRecord] = []
    node_faults: list[NodeFault] = []
    cordons: list[tuple[float, str]] = []
    items: list[tuple[float, int, int, TimelineEvent | JournalEntry]] = [
        (e.at, 0, i, e) for i, e in enumerate(scenario.timeline) if e.at <= cutoff
    ]
    items += [(j.offset, 1, i, j) for i, j in enumerate(journal)]
    for _, _, _, item in sorted(items, key=lambda x: (x[0], x[1], x[2])):
        if isinstance(item, TimelineEvent):
            if item.fault is not None and item.fault.type == "node_pressure":
                fault = fault_of(item.fault)
                assert isinstance(fault, NodePressure)
                node_faults.append(NodeFault(item.at, fault.node, fault.cpu_steal))
                continue
            change = _apply_event(builders, item)
        elif item.operation == "cordon_node":
            cordons.append((item.offset, item.target))
            for builder in builders.values():
                builder.evict(item.offset, item.target, tuple(n for _, n in cordons))
            continue
        else:
            change = _apply_write(builders[item.target], item)
        if change is not None:
            changes.append(change)
    return World(
        scenario=scenario,
        cutoff=cutoff,
        deployments={name: b.build() for name, b in builders.items()},
        changes=tuple(changes),
        node_faults=tuple(node_faults),
        cordons=tuple(cordons),
    )


def place(scenario: Scenario, service: str, generation: Generation, slot: int) -> str:
    """The node of a generation's pod in `slot`: replicas spread over the schedulable
    nodes as the scheduler's topology spreading does, from a per-ReplicaSet offset."""
    nodes = node_names(scenario)
    allowed = [n for n in nodes if n not in generation.cordoned] or list(nodes)
    offset = int(uniform(scenario.seed, "place", service, generation.index) * len(allowed))
    return allowed[(offset + slot) % len(allowed)]


_DEPENDENCY_FAULTS = ("dependency_outage", "dependency_latency")


def fault_of(spec: FaultSpec, host: str | None = None) -> Fault:
    """The fault a spec describes. For faults about a dependency, the spec's `target`
    names the dependency when the params do not (a deploy's `fault.target`, or the
    down service of a `fault` event)."""
    params = dict(spec.params)
    if spec.type in _DEPENDENCY_FAULTS and "target" not in params and spec.target is not None:
        params["target"] = spec.target
    del host  # the host does not change what the fault is
    return build_fault(spec.type, params)  # validated at load: cannot fail here


def host_of(spec: FaultSpec) -> str | None:
    """The service a `fault` event sits on: its target, else its dependency."""
    if spec.target is not None:
        return spec.target
    target = spec.params.get("target")
    return target if isinstance(target, str) else None


def _apply_event(builders: Mapping[str, _Builder], event: TimelineEvent) -> ChangeRecord | None:
    at = event.at
    if event.deploy is not None:
        d = event.deploy
        return builders[d.service].deploy(
            at, d.version, d.commit, (fault_of(d.fault),) if d.fault else ()
        )
    if event.config_change is not None:
        c = event.config_change
        fault = fault_of(c.fault) if c.fault else None
        return builders[c.service].configure(at, c.key, c.value, fault)
    if event.scale is not None:
        return builders[event.scale.service].scale(at, event.scale.replicas, "scaled")
    if event.fault is not None:
        host = host_of(event.fault)
        if host is not None:
            builders[host].faults.append(TimedFault(at, fault_of(event.fault)))
    if event.blip is not None:
        b = event.blip
        builders[b.service].blips.append(BlipWindow(at, at + b.duration, b.factor))
    return None


def _apply_write(builder: _Builder, entry: JournalEntry) -> ChangeRecord | None:
    at, params = entry.offset, entry.params
    if entry.operation == "rollout_undo":
        return builder.undo(at, int(params["to_revision"]))
    if entry.operation == "rollout_restart":
        return builder.restart(at)
    if entry.operation == "scale":
        return builder.scale(at, int(params["replicas"]), "scaled by a write")
    if entry.operation == "set_memory_limit":
        return builder.set_limit(at, float(params["limit_mb"]))
    if entry.operation == "revert_config":
        previous = params.get("value")
        return builder.revert_config(
            at, str(params["setting"]), None if previous is None else str(previous)
        )
    raise PermanentError(f"the sandbox journal holds an unknown operation {entry.operation!r}")


class _Builder:
    """Accumulates one Deployment's history while the timeline is replayed."""

    def __init__(self, scenario: Scenario, service: Service) -> None:
        self.scenario = scenario
        self.service = service
        start = -scenario.history
        first = Template(
            version=service.version,
            limit_mb=service.memory_limit_mb,
            change_cause=f"initial version {service.version}",
        )
        self.revisions = [RevisionRecord(1, first, start)]
        self.generations = [Generation(0, start, 1, first, self._hash(first))]
        self.replica_steps = [(start, service.replicas)]
        self.faults: list[TimedFault] = []
        self.blips: list[BlipWindow] = []
        self.config_changes: list[ConfigRecord] = []
        self.cordoned: tuple[str, ...] = ()

    @property
    def template(self) -> Template:
        return self.generations[-1].template

    def build(self) -> DeploymentTimeline:
        return DeploymentTimeline(
            service=self.service,
            generations=tuple(self.generations),
            replica_steps=tuple(self.replica_steps),
            revisions=tuple(self.revisions),
            faults=tuple(self.faults),
            blips=tuple(self.blips),
            config_changes=tuple(self.config_changes),
        )

    def _hash(self, template: Template) -> str:
        # Like pod-template-hash: equal templates share it (an undo reuses the old one).
        return token(
            self.scenario.seed,
            10,
            "template",
            self.service.name,
            template.version,
            template.limit_mb,
            template.config,
            template.restart_nonce,
        )

    def _rollout(self, at: float, template: Template) -> int:
        number = max(r.number for r in self.revisions) + 1
        self.revisions.append(RevisionRecord(number, template, at))
        index = len(self.generations)
        self.generations.append(
            Generation(index, at, number, template, self._hash(template), cordoned=self.cordoned)
        )
        return number

    def evict(self, at: float, node: str, cordoned: tuple[str, ...]) -> None:
        """Cordon and drain `node`: the ReplicaSet replaces its pods there elsewhere."""
        self.cordoned = cordoned
        if self.service.kind is ServiceKind.EXTERNAL:
            return
        current = self.generations[-1]
        replicas = self.replica_steps[-1][1]
        if any(
            place(self.scenario, self.service.name, current, s) == node for s in range(replicas)
        ):
            index = len(self.generations)
            self.generations.append(
                replace(current, index=index, at=at, reason="evicted", cordoned=cordoned)
            )

    def deploy(
        self, at: float, version: str, commit: Commit | None, faults: tuple[Fault, ...]
    ) -> ChangeRecord:
        previous = self.template.version
        cause = f"deploy {version}" + (f" ({commit.sha}: {commit.message})" if commit else "")
        template = replace(
            self.template, version=version, code_faults=faults, commit=commit, change_cause=cause
        )
        number = self._rollout(at, template)
        return ChangeRecord(
            at, ChangeKind.DEPLOY, self.service.name, version, previous, number, commit, cause
        )

    def configure(self, at: float, key: str, value: str, fault: Fault | None) -> ChangeRecord:
        previous = dict(self.template.config).get(key)
        self.config_changes.append(ConfigRecord(at, key, previous, value))
        config = (*((k, v) for k, v in self.template.config if k != key), (key, value))
        faults = tuple((k, f) for k, f in self.template.config_faults if k != key)
        if fault is not None:
            faults += ((key, fault),)
        cause = f"config {key}={value}"
        template = replace(self.template, config=config, config_faults=faults, change_cause=cause)
        number = self._rollout(at, template)
        version = template.version
        return ChangeRecord(
            at, ChangeKind.CONFIG_CHANGE, self.service.name, version, version, number, None, cause
        )

    def scale(self, at: float, replicas: int, how: str) -> ChangeRecord:
        before = self.replica_steps[-1][1]
        self.replica_steps.append((at, replicas))
        return ChangeRecord(
            at,
            ChangeKind.SCALE,
            self.service.name,
            self.template.version,
            self.template.version,
            None,
            None,
            f"{how} from {before} to {replicas} replicas",
        )

    def undo(self, at: float, to_revision: int) -> ChangeRecord:
        target = next((r for r in self.revisions if r.number == to_revision), None)
        if target is None:
            raise PermanentError(
                f"the sandbox journal undoes {self.service.name} to unknown revision {to_revision}"
            )
        previous = self.template.version
        # As Kubernetes does: the old ReplicaSet becomes the newest revision.
        self.revisions.remove(target)
        cause = f"rollout undo to revision {to_revision} ({target.template.version})"
        template = replace(target.template, change_cause=cause)
        number = self._rollout(at, template)
        return ChangeRecord(
            at,
            ChangeKind.DEPLOY,
            self.service.name,
            template.version,
            previous,
            number,
            None,
            cause,
        )

    def restart(self, at: float) -> ChangeRecord:
        version = self.template.version
        template = replace(
            self.template,
            restart_nonce=self.template.restart_nonce + 1,
            change_cause="rollout restart",
        )
        number = self._rollout(at, template)
        return ChangeRecord(
            at,
            ChangeKind.DEPLOY,
            self.service.name,
            version,
            version,
            number,
            None,
            "rollout restart",
        )

    def revert_config(self, at: float, key: str, previous: str | None) -> ChangeRecord:
        if previous is not None:
            return self.configure(at, key, previous, None)
        self.config_changes.append(ConfigRecord(at, key, None, ""))
        config = tuple((k, v) for k, v in self.template.config if k != key)
        faults = tuple((k, f) for k, f in self.template.config_faults if k != key)
        cause = f"config {key} unset"
        template = replace(self.template, config=config, config_faults=faults, change_cause=cause)
        number = self._rollout(at, template)
        version = template.version
        return ChangeRecord(
            at, ChangeKind.CONFIG_CHANGE, self.service.name, version, version, number, None, cause
        )

    def set_limit(self, at: float, limit_mb: float) -> ChangeRecord:
        version = self.template.version
        cause = f"set memory limit to {limit_mb:g}Mi"
        template = replace(self.template, limit_mb=limit_mb, change_cause=cause)
        number = self._rollout(at, template)
        return ChangeRecord(
            at, ChangeKind.DEPLOY, self.service.name, version, version, number, None, cause
        )
