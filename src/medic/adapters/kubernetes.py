"""`KubernetesCluster`: ClusterReader, PodReader, EventSource and ClusterWriter on a real
Kubernetes API, through the official client.

Reads: Deployments are the services (annotations: see `kubernetes_read`), their
ReplicaSets the revisions, pods and events as `kubectl get` shows them. Writes make the
requests kubectl makes (see `kubernetes_write`) and take `dry_run=True` for a server-side
dry run (`?dryRun=All`): the API server validates and admits the write, persists
nothing, and medic reports what would change. Each write reads its object first: a key
already recorded on it (`medic.dev/action-keys`) makes the call a no-op
(`WriteResult(applied=False)`).

`revert_config` treats a Deployment's configuration as its main container's
environment (what `kubectl set env` changes): it compares the current pod template
with the previous revision's ReplicaSet and sets the variables that changed back.
ConfigMaps generated with a name hash (kustomize's `name-<hash>`) change the pod
template too, so `rollout_undo` reverts them; a ConfigMap edited in place keeps no
previous version in the cluster and is not revertible here.
"""

from __future__ import annotations

from datetime import datetime

from kubernetes import client as k8s
from kubernetes import config as k8s_config
from kubernetes.config.config_exception import ConfigException

from medic.adapters import kubernetes_read as read
from medic.adapters import kubernetes_write as write
from medic.adapters.http import WallClock
from medic.adapters.kubernetes_api import (
    JSON_PATCH,
    STRATEGIC_MERGE_PATCH,
    KubeApi,
    Obj,
)
from medic.domain.cluster import (
    ClusterEvent,
    PodInfo,
    Revision,
    RolloutStatus,
    ServiceInfo,
    WriteResult,
)
from medic.domain.errors import ConflictError, InvalidInputError, NotFoundError, PermanentError
from medic.ports.clock import Clock

__all__ = ["KubernetesCluster"]

Param = str | int | float


class KubernetesCluster:
    def __init__(
        self,
        api_client: k8s.ApiClient,
        *,
        namespace: str = "default",
        clock: Clock | None = None,
        timeout_s: float = 10.0,
        attempts: int = 4,
        backoff_s: float = 0.5,
    ) -> None:
        """`namespace` is the one `health()` checks; every other call names its own."""
        self._clock: Clock = clock or WallClock()
        self._api = KubeApi(
            api_client, self._clock, timeout_s=timeout_s, attempts=attempts, backoff_s=backoff_s
        )
        self.namespace = namespace

    @classmethod
    def from_kubeconfig(
        cls,
        path: str | None = None,
        context: str | None = None,
        *,
        namespace: str = "default",
        clock: Clock | None = None,
    ) -> KubernetesCluster:
        """From a kubeconfig file (default: $KUBECONFIG or ~/.kube/config) and context."""
        configuration = k8s.Configuration()
        try:
            k8s_config.load_kube_config(  # type: ignore[no-untyped-call]
                config_file=path, context=context, client_configuration=configuration
            )
        except (ConfigException, OSError) as e:
            raise PermanentError(f"cannot load kubeconfig {path or '(default)'}: {e}") from e
        return cls(k8s.ApiClient(configuration), namespace=namespace, clock=clock)

    @classmethod
    def in_cluster(
        cls, *, namespace: str = "default", clock: Clock | None = None
    ) -> KubernetesCluster:
        """From the pod's service account (medic running inside the cluster)."""
        configuration = k8s.Configuration()
        try:
            k8s_config.load_incluster_config(  # type: ignore[no-untyped-call]
                client_configuration=configuration
            )
        except ConfigException as e:
            raise PermanentError(f"not running in a Kubernetes pod: {e}") from e
        return cls(k8s.ApiClient(configuration), namespace=namespace, clock=clock)

    def health(self) -> str:
        """One line: the server's version and what medic can see; raises when it cannot."""
        version = self._api.version().get("gitVersion", "unknown version")
        deployments = self._api.deployments(self.namespace)
        return (
            f"Kubernetes {version} at {self._api.host}: "
            f"{len(deployments)} deployments readable in namespace {self.namespace!r}"
        )

    # -- reads ---------------------------------------------------------------

    def services(self, namespace: str) -> list[ServiceInfo]:
        deployments = self._api.deployments(namespace)
        replicasets = self._api.replicasets(namespace)
        pods = self._api.pods(namespace)
        out = []
        for deployment in deployments:
            name = read.name_of(deployment)
            owned = {
                read.name_of(rs) for rs in replicasets if read.owned_by(rs, "Deployment", {name})
            }
            nodes = sorted(
                {
                    str(p.get("spec", {}).get("nodeName"))
                    for p in pods
                    if read.owned_by(p, "ReplicaSet", owned) and p.get("spec", {}).get("nodeName")
                }
            )
            out.append(read.service_info(deployment, tuple(nodes)))
        return sorted(out, key=lambda s: s.name)

    def rollout_history(self, namespace: str, deployment: str) -> list[Revision]:
        obj = self._api.deployment(namespace, deployment)
        revisions = [read.revision_of(rs, deployment) for rs in self._owned(namespace, obj)]
        return sorted((r for r in revisions if r is not None), key=lambda r: r.number)

    def rollout_status(self, namespace: str, deployment: str) -> RolloutStatus:
        return read.rollout_status(self._api.deployment(namespace, deployment))

    def pods(self, namespace: str, service: str) -> list[PodInfo]:
        """Like `kubectl get pods -l <the Deployment's selector> -o wide`, by pod name."""
        obj = self._api.deployment(namespace, service)
        owned = self._owned(namespace, obj)
        hashes = {
            str(rs.get("metadata", {}).get("labels", {}).get(read.HASH_LABEL)): n
            for rs in owned
            if (n := read.revision_number(rs)) is not None
        }
        names = {read.name_of(rs) for rs in owned}
        pods = self._api.pods(namespace, read.selector_of(obj))
        infos = [
            read.pod_info(p, service, hashes) for p in pods if read.owned_by(p, "ReplicaSet", names)
        ]
        return sorted(infos, key=lambda p: p.name)

    def events(self, namespace: str, start: datetime, end: datetime) -> list[ClusterEvent]:
        """The namespace's events whose last occurrence is in [start, end], oldest first."""
        events = (read.cluster_event(e) for e in self._api.events(namespace))
        return sorted(
            (e for e in events if e is not None and start <= e.at <= end), key=lambda e: e.at
        )

    def _owned(self, namespace: str, deployment: Obj) -> list[Obj]:
        name = read.name_of(deployment)
        replicasets = self._api.replicasets(namespace, read.selector_of(deployment))
        return [rs for rs in replicasets if read.owned_by(rs, "Deployment", {name})]

    # -- writes --------------------------------------------------------------

    def rollout_undo(
        self, namespace: str, deployment: str, to_revision: int, key: str, *, dry_run: bool = False
    ) -> WriteResult:
        """`kubectl rollout undo deployment/D --to-revision=N` (N=0: the previous revision)."""
        obj, repeat = self._read_deployment(namespace, deployment, key)
        if repeat is not None:
            return repeat
        ref = f"deployment {namespace}/{deployment}"
        if obj.get("spec", {}).get("paused"):
            raise ConflictError(f"you cannot roll back the paused {ref}; resume it first")
        current = read.revision_number(obj)
        target = self._revision(namespace, obj, to_revision)
        number = read.revision_number(target)
        if write.same_template(obj, target):
            raise ConflictError(f"{ref} already runs the template of revision {number}")
        self._api.patch_deployment(
            namespace, deployment, write.undo_patch(obj, target, key), JSON_PATCH, dry_run
        )
        before, after = (_version(o, deployment) for o in (obj, target))
        data: dict[str, Param] = {"to_revision": number or 0, "version": after}
        if current is not None:
            data["from_revision"] = current
        detail = f"rollback of {ref} to revision {number} ({after}, replacing {before})"
        return self._result(detail, data, dry_run)

    def rollout_restart(
        self, namespace: str, deployment: str, key: str, *, dry_run: bool = False
    ) -> WriteResult:
        obj, repeat = self._read_deployment(namespace, deployment, key)
        if repeat is not None:
            return repeat
        if obj.get("spec", {}).get("paused"):
            raise ConflictError(
                f"cannot restart the paused deployment {namespace}/{deployment}; resume it first"
            )
        at = self._clock.now()
        patch = write.restart_patch(obj, at, key)
        self._api.patch_deployment(namespace, deployment, patch, STRATEGIC_MERGE_PATCH, dry_run)
        detail = f"restart of deployment {namespace}/{deployment} (restartedAt {at.isoformat()})"
        return self._result(detail, {"at": at.isoformat()}, dry_run)

    def scale(
        self, namespace: str, deployment: str, replicas: int, key: str, *, dry_run: bool = False
    ) -> WriteResult:
        """`kubectl scale` (the scale subresource), then the key on the Deployment: a
        retry between the two sets the same absolute count again, which changes nothing."""
        if replicas < 0:
            raise InvalidInputError(f"replicas must be >= 0, got {replicas}")
        obj, repeat = self._read_deployment(namespace, deployment, key)
        if repeat is not None:
            return repeat
        previous = int(obj.get("spec", {}).get("replicas", 1))
        self._api.patch_scale(namespace, deployment, replicas, dry_run)
        if not dry_run:
            patch = write.key_patch(obj, key)
            self._api.patch_deployment(namespace, deployment, patch, STRATEGIC_MERGE_PATCH, False)
        detail = f"scale of deployment {namespace}/{deployment} from {previous} to {replicas}"
        return self._result(detail, {"replicas": replicas, "previous": previous}, dry_run)

    def set_memory_limit(
        self, namespace: str, deployment: str, limit_mb: int, key: str, *, dry_run: bool = False
    ) -> WriteResult:
        """`kubectl set resources deployment/D -c C --limits=memory=<N>Mi` on the main
        container (named like the Deployment, else the first)."""
        if limit_mb <= 0:
            raise InvalidInputError(f"limit_mb must be > 0, got {limit_mb}")
        obj, repeat = self._read_deployment(namespace, deployment, key)
        if repeat is not None:
            return repeat
        container = _main(obj, deployment)
        name = str(container.get("name"))
        before = str(container.get("resources", {}).get("limits", {}).get("memory", "none"))
        patch = write.memory_patch(obj, name, limit_mb, key)
        self._api.patch_deployment(namespace, deployment, patch, STRATEGIC_MERGE_PATCH, dry_run)
        data: dict[str, Param] = {"limit_mb": limit_mb, "container": name}
        previous_mb = write.memory_mb(before)
        data["previous"] = previous_mb if previous_mb is not None else before
        detail = (
            f"memory limit of container {name} of deployment {namespace}/{deployment} "
            f"from {before} to {limit_mb}Mi"
        )
        return self._result(detail, data, dry_run)

    def revert_config(
        self,
        namespace: str,
        deployment: str,
        key: str,
        setting: str | None = None,
        *,
        dry_run: bool = False,
    ) -> WriteResult:
        """Set the env vars changed by the current revision (only `setting`, when given)
        back to their values in the previous revision (`kubectl set env`)."""
        obj, repeat = self._read_deployment(namespace, deployment, key)
        if repeat is not None:
            return repeat
        ref = f"deployment {namespace}/{deployment}"
        current = read.revision_number(obj) or 0
        older = [
            (n, rs)
            for rs in self._owned(namespace, obj)
            if (n := read.revision_number(rs)) is not None and n < current
        ]
        if not older:
            raise ConflictError(f"{ref} has no previous revision to take its config from")
        number, previous = max(older, key=lambda pair: pair[0])
        container = _main(obj, deployment)
        changes = [
            c
            for c in write.env_changes(container, _main(previous, deployment))
            if setting in (None, c[0])
        ]
        if not changes:
            what = f"of {setting!r} " if setting else ""
            raise ConflictError(
                f"{ref} has no config change {what}since revision {number} to revert"
            )
        restore = [(name, before) for name, before, _ in changes]
        patch = write.env_patch(obj, container, restore, key)
        self._api.patch_deployment(namespace, deployment, patch, STRATEGIC_MERGE_PATCH, dry_run)
        names = ",".join(name for name, _ in restore)
        detail = f"config of {ref}: {names} set back to revision {number}'s values"
        return self._result(detail, {"setting": names, "from_revision": number}, dry_run)

    def cordon_node(self, node: str, key: str, *, dry_run: bool = False) -> WriteResult:
        """`kubectl cordon NODE` then `kubectl drain NODE --ignore-daemonsets`: evicts
        its pods (honouring PodDisruptionBudgets). A repeat with the same key sends no
        new cordon and only evicts pods an interrupted drain left behind."""
        if not key:
            raise InvalidInputError("a write needs a non-empty idempotency key")
        obj = self._api.node(node)
        repeat = key in write.action_keys(obj)
        if not repeat and obj.get("spec", {}).get("unschedulable"):
            if not write.medic_cordon(obj):
                # Someone else's cordon: not ours to build on (nor, later, to undo).
                raise ConflictError(f"node {node} is already cordoned")
            # medic cordoned it for another incident: what this write asks for holds;
            # finish any drain that was left behind.
            evicted = self._drain(node, dry_run)
            detail = f"node {node} was already cordoned by medic ({write.action_keys(obj)[-1]})"
            return WriteResult(False, detail, {"evicted": ",".join(evicted)})
        if not repeat:
            others = [n for n in self._api.nodes() if read.name_of(n) != node]
            if not any(not n.get("spec", {}).get("unschedulable") for n in others):
                raise ConflictError(f"cordoning {node} would leave no schedulable node")
            self._api.patch_node(node, write.cordon_patch(obj, key, self._clock.now()), dry_run)
        evicted = self._drain(node, dry_run)
        data: dict[str, Param] = {"evicted": ",".join(evicted)}
        if repeat:
            detail = f"key {key!r} was already applied to node {node}"
            return WriteResult(False, f"{detail}; evicted {len(evicted)} remaining pods", data)
        detail = f"cordon of node {node} and eviction of {len(evicted)} pods"
        return self._result(detail, data, dry_run)

    def _drain(self, node: str, dry_run: bool) -> list[str]:
        evicted = []
        for pod in self._api.pods_on_node(node):
            meta = pod.get("metadata", {})
            if (
                pod.get("spec", {}).get("nodeName") != node  # a server ignoring the selector
                or pod.get("status", {}).get("phase") in ("Succeeded", "Failed")
                or "kubernetes.io/config.mirror" in read.annotations_of(pod)  # static pods
                or any(r.get("kind") == "DaemonSet" for r in meta.get("ownerReferences", []))
            ):
                continue
            namespace, name = str(meta.get("namespace", "")), read.name_of(pod)
            try:
                self._api.evict(namespace, name, dry_run)
            except NotFoundError:
                continue  # gone already
            evicted.append(f"{namespace}/{name}")
        return evicted

    # -- helpers -------------------------------------------------------------

    def _read_deployment(
        self, namespace: str, deployment: str, key: str
    ) -> tuple[Obj, WriteResult | None]:
        if not key:
            raise InvalidInputError("a write needs a non-empty idempotency key")
        obj = self._api.deployment(namespace, deployment)
        if key in write.action_keys(obj):
            detail = f"key {key!r} was already applied to deployment {namespace}/{deployment}"
            return obj, WriteResult(False, detail, {"key": key})
        return obj, None

    def _revision(self, namespace: str, deployment: Obj, to_revision: int) -> Obj:
        """kubectl's choice: revision N, or the newest below the newest (N=0)."""
        name = read.name_of(deployment)
        numbered = sorted(
            (
                (n, rs)
                for rs in self._owned(namespace, deployment)
                if (n := read.revision_number(rs)) is not None
            ),
            key=lambda pair: pair[0],
        )
        if to_revision == 0:
            if len(numbered) < 2:
                raise ConflictError(f"no rollout history found for deployment {namespace}/{name}")
            return numbered[-2][1]
        for number, rs in numbered:
            if number == to_revision:
                return rs
        known = ", ".join(str(n) for n, _ in numbered) or "none"
        raise NotFoundError(
            f"deployment {namespace}/{name} has no revision {to_revision} (revisions: {known})"
        )

    @staticmethod
    def _result(detail: str, data: dict[str, Param], dry_run: bool) -> WriteResult:
        if dry_run:
            return WriteResult(
                False,
                f"dry run accepted by the server, nothing changed: {detail}",
                {**data, "dry_run": 1},
            )
        return WriteResult(True, detail, data)


def _main(obj: Obj, deployment: str) -> Obj:
    container = read.main_container(obj.get("spec", {}).get("template", {}), deployment)
    if container is None:
        raise PermanentError(f"deployment {deployment} has no containers")
    return container


def _version(obj: Obj, deployment: str) -> str:
    container = read.main_container(obj.get("spec", {}).get("template", {}), deployment)
    return read.image_version(str(container.get("image", ""))) if container else "unknown"
