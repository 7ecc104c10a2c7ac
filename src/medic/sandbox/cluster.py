"""`ClusterReader` and `ClusterWriter` over the simulated Deployments.

Writes take effect at the current simulated time and behave like their `kubectl`
counterparts: `rollout undo` makes the old revision the newest one, a restart or a
new memory limit rolls out new pods, and every write is journaled under its
idempotency key before it is visible.
"""

from __future__ import annotations

from collections.abc import Callable

from medic.domain.cluster import PodInfo, Revision, RolloutStatus, ServiceInfo, WriteResult
from medic.domain.errors import ConflictError, InvalidInputError, NotFoundError
from medic.sandbox.pods import pods_at, rollout_progress
from medic.sandbox.simulation import Simulation
from medic.sandbox.state import JournalEntry, Param
from medic.sandbox.world import DeploymentTimeline, World, node_names

__all__ = ["SimCluster"]

_MAX_REPLICAS = 50

# Checks a write against the current world; returns its params and a human detail.
Check = Callable[[DeploymentTimeline], tuple[dict[str, Param], str]]


class SimCluster:
    def __init__(self, simulation: Simulation) -> None:
        self._sim = simulation

    # -- reads ---------------------------------------------------------------

    def services(self, namespace: str) -> list[ServiceInfo]:
        if namespace != self._sim.scenario.namespace:
            return []
        snap = self._sim.current()
        return [self._info(snap.world, name, snap.now) for name in snap.world.deployments]

    def _info(self, world: World, name: str, now: float) -> ServiceInfo:
        timeline = world.deployments[name]
        service = timeline.service
        nodes = tuple(sorted({p.node for p in pods_at(world, name, now)}))
        current = timeline.generation_at(now)
        return ServiceInfo(
            name=name,
            namespace=world.scenario.namespace,
            kind=service.kind,
            calls=service.calls,
            replicas=timeline.replicas_at(now),
            version=current.template.version if timeline.has_pods else None,
            revision=current.revision if timeline.has_pods else None,
            nodes=nodes,
        )

    def pods(self, namespace: str, service: str) -> list[PodInfo]:
        """Like `kubectl get pods -l app=SERVICE -o wide`, by pod name."""
        snap = self._sim.current()
        self._deployment(snap.world, namespace, service)
        out = []
        for pod in pods_at(snap.world, service, snap.now):
            status = pod.waiting or ("Running" if pod.running else "OOMKilled")
            out.append(
                PodInfo(
                    name=pod.name,
                    service=service,
                    namespace=namespace,
                    node=pod.node,
                    ready=pod.ready,
                    restarts=pod.restarts,
                    status=status,
                    revision=pod.generation.revision,
                )
            )
        return sorted(out, key=lambda p: p.name)

    def rollout_history(self, namespace: str, deployment: str) -> list[Revision]:
        snap = self._sim.current()
        timeline = self._deployment(snap.world, namespace, deployment)
        return [
            Revision(
                number=r.number,
                version=r.template.version,
                at=self._sim.at(r.at),
                change_cause=r.template.change_cause,
                commit_sha=r.template.commit.sha if r.template.commit else None,
            )
            for r in sorted(timeline.revisions, key=lambda r: r.number)
        ]

    def rollout_status(self, namespace: str, deployment: str) -> RolloutStatus:
        snap = self._sim.current()
        self._deployment(snap.world, namespace, deployment)
        updated, desired, done = rollout_progress(snap.world, deployment, snap.now)
        if done:
            detail = f'deployment "{deployment}" successfully rolled out'
        else:
            detail = (
                f'Waiting for deployment "{deployment}" rollout to finish: '
                f"{updated} of {desired} updated replicas are available..."
            )
        return RolloutStatus(
            done=done, updated_replicas=updated, desired_replicas=desired, detail=detail
        )

    # -- writes --------------------------------------------------------------

    def rollout_undo(
        self, namespace: str, deployment: str, to_revision: int, key: str
    ) -> WriteResult:
        def check(timeline: DeploymentTimeline) -> tuple[dict[str, Param], str]:
            current = timeline.current.revision
            numbers = sorted(r.number for r in timeline.revisions)
            if to_revision == 0:  # like `kubectl rollout undo` without --to-revision
                older = [n for n in numbers if n != current]
                if not older:
                    raise ConflictError(
                        f"deployment {namespace}/{deployment} has no previous revision"
                    )
                target = older[-1]
            else:
                target = to_revision
            record = timeline.revision(target)
            if record is None:
                raise NotFoundError(
                    f"deployment {namespace}/{deployment} has no revision {target} "
                    f"(revisions: {', '.join(map(str, numbers))})"
                )
            if target == current:
                raise ConflictError(
                    f"deployment {namespace}/{deployment} already runs revision {target}"
                )
            version = record.template.version
            detail = f"rolled back {deployment} to revision {target} ({version})"
            return {"to_revision": target, "version": version}, detail

        return self._write("rollout_undo", namespace, deployment, key, check)

    def rollout_restart(self, namespace: str, deployment: str, key: str) -> WriteResult:
        def check(timeline: DeploymentTimeline) -> tuple[dict[str, Param], str]:
            return {}, f"restarted {deployment}"

        return self._write("rollout_restart", namespace, deployment, key, check)

    def scale(self, namespace: str, deployment: str, replicas: int, key: str) -> WriteResult:
        def check(timeline: DeploymentTimeline) -> tuple[dict[str, Param], str]:
            if not 0 <= replicas <= _MAX_REPLICAS:
                raise InvalidInputError(
                    f"replicas must be within 0..{_MAX_REPLICAS}, got {replicas}"
                )
            before = timeline.replica_steps[-1][1]
            return {"replicas": replicas, "previous": before}, (
                f"scaled {deployment} from {before} to {replicas} replicas"
            )

        return self._write("scale", namespace, deployment, key, check)

    def set_memory_limit(
        self, namespace: str, deployment: str, limit_mb: int, key: str
    ) -> WriteResult:
        def check(timeline: DeploymentTimeline) -> tuple[dict[str, Param], str]:
            if limit_mb <= 0:
                raise InvalidInputError(f"limit_mb must be > 0, got {limit_mb}")
            before = timeline.current.template.limit_mb
            return {"limit_mb": limit_mb, "previous": before}, (
                f"set the memory limit of {deployment} from {before:g}Mi to {limit_mb}Mi"
            )

        return self._write("set_memory_limit", namespace, deployment, key, check)

    def revert_config(
        self, namespace: str, deployment: str, key: str, setting: str | None = None
    ) -> WriteResult:
        def check(timeline: DeploymentTimeline) -> tuple[dict[str, Param], str]:
            changes = [c for c in timeline.config_changes if setting in (None, c.key)]
            if not changes:
                what = f"of {setting!r} " if setting else ""
                raise ConflictError(
                    f"deployment {namespace}/{deployment} has no config change {what}to revert"
                )
            last = changes[-1]
            params: dict[str, Param] = {"setting": last.key, "from_value": last.value}
            if last.previous is None:
                return params, f"unset {last.key} on {deployment} (it was {last.value!r})"
            params["value"] = last.previous
            return params, (
                f"set {last.key} on {deployment} back from {last.value!r} to {last.previous!r}"
            )

        return self._write("revert_config", namespace, deployment, key, check)

    def cordon_node(self, node: str, key: str) -> WriteResult:
        """`kubectl cordon NODE && kubectl drain NODE`: its pods move to other nodes."""
        if not key:
            raise InvalidInputError("a write needs a non-empty idempotency key")
        namespace = self._sim.scenario.namespace
        with self._sim.lock:
            done = self._sim.find(key)
            if done is not None:
                return _repeat(key, done)
            snap = self._sim.current()
            nodes = node_names(snap.world.scenario)
            if node not in nodes:
                raise NotFoundError(f"no node {node!r} in the sandbox (nodes: {', '.join(nodes)})")
            if any(n == node for _, n in snap.world.cordons):
                # Every cordon here is one of medic's own writes (another incident's):
                # what this write asks for already holds.
                return WriteResult(
                    applied=False,
                    detail=f"node {node} was already cordoned and drained by medic",
                    data={"moved": ""},
                )
            if len({n for _, n in snap.world.cordons} | {node}) >= len(nodes):
                raise ConflictError(f"cordoning {node} would leave no schedulable node")
            moved = sorted(
                name
                for name in snap.world.deployments
                if any(p.node == node for p in pods_at(snap.world, name, snap.now))
            )
            entry = JournalEntry(
                key=key,
                operation="cordon_node",
                namespace=namespace,
                target=node,
                at=self._sim.at(snap.now),
                offset=snap.now,
                params={"moved": ",".join(moved)},
            )
            self._sim.record(entry)
        detail = f"cordoned and drained {node}" + (
            f": rescheduling pods of {', '.join(moved)}" if moved else ": no pods to move"
        )
        return WriteResult(
            applied=True, detail=detail, data={"moved": ",".join(moved), "at": entry.at.isoformat()}
        )

    def _write(
        self, operation: str, namespace: str, deployment: str, key: str, check: Check
    ) -> WriteResult:
        if not key:
            raise InvalidInputError("a write needs a non-empty idempotency key")
        with self._sim.lock:
            done = self._sim.find(key)
            if done is not None:
                return _repeat(key, done)
            snap = self._sim.current()
            timeline = self._deployment(snap.world, namespace, deployment)
            params, detail = check(timeline)
            entry = JournalEntry(
                key=key,
                operation=operation,
                namespace=namespace,
                target=deployment,
                at=self._sim.at(snap.now),
                offset=snap.now,
                params=params,
            )
            self._sim.record(entry)
            after = self._sim.current().world.deployments[deployment].current
        data: dict[str, str | int | float] = {**params, "revision": after.revision}
        data["at"] = entry.at.isoformat()
        return WriteResult(applied=True, detail=detail, data=data)

    def _deployment(self, world: World, namespace: str, deployment: str) -> DeploymentTimeline:
        if namespace != world.scenario.namespace:
            raise NotFoundError(
                f"no namespace {namespace!r} in the sandbox (it has {world.scenario.namespace!r})"
            )
        timeline = world.deployment(deployment)
        if timeline is None:
            known = ", ".join(n for n, t in world.deployments.items() if t.has_pods)
            raise NotFoundError(
                f"no deployment {namespace}/{deployment} in the sandbox (deployments: {known})"
            )
        if not timeline.has_pods:
            raise NotFoundError(f"{namespace}/{deployment} is an external service: no deployment")
        return timeline


def _repeat(key: str, done: JournalEntry) -> WriteResult:
    return WriteResult(
        applied=False,
        detail=(
            f"key {key!r} was already applied: {done.operation} "
            f"{done.namespace}/{done.target} at {done.at.isoformat()}"
        ),
        data={**done.params, "operation": done.operation, "at": done.at.isoformat()},
    )
