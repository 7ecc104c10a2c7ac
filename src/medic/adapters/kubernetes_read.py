"""Kubernetes objects (plain JSON) to medic's cluster types; pure functions, no I/O.

Conventions medic reads (all optional):

- `deployment.kubernetes.io/revision` (set by the Deployment controller on Deployments
  and ReplicaSets): the revision number, as `kubectl rollout history` shows it.
- `kubernetes.io/change-cause` (on the ReplicaSet, copied from the Deployment): why the
  revision was made.
- `medic.dev/calls: "payments,users"` on a Deployment: the services it calls, the call
  edges of the topology (comma-separated Deployment names of the same namespace).
- `medic.dev/kind: database` on a Deployment: its `ServiceKind` (service, database, cache,
  queue, external); `service` when absent or unknown.
- `medic.dev/commit: <sha>` on a ReplicaSet or its pod template: the commit the revision
  was built from.

Everything here is read from the watched system: names, messages and annotations are
untrusted data, kept as data.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from medic.adapters.kubernetes_api import Obj
from medic.domain.cluster import (
    ClusterEvent,
    EventType,
    PodInfo,
    Revision,
    RolloutStatus,
    ServiceInfo,
    ServiceKind,
)

__all__ = [
    "CALLS",
    "CHANGE_CAUSE",
    "COMMIT",
    "HASH_LABEL",
    "KIND",
    "REVISION",
    "annotations_of",
    "cluster_event",
    "image_version",
    "main_container",
    "name_of",
    "owned_by",
    "parse_time",
    "pod_info",
    "revision_number",
    "revision_of",
    "rollout_status",
    "selector_of",
    "service_info",
]

REVISION = "deployment.kubernetes.io/revision"
CHANGE_CAUSE = "kubernetes.io/change-cause"
HASH_LABEL = "pod-template-hash"
CALLS = "medic.dev/calls"
KIND = "medic.dev/kind"
COMMIT = "medic.dev/commit"

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _dict(value: Any) -> Obj:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Obj]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _int(value: Any, default: int = 0) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def name_of(obj: Obj) -> str:
    return str(_dict(obj.get("metadata")).get("name", ""))


def annotations_of(obj: Obj) -> dict[str, str]:
    raw = _dict(_dict(obj.get("metadata")).get("annotations"))
    return {str(k): str(v) for k, v in raw.items()}


def parse_time(value: Any) -> datetime | None:
    """An RFC 3339 timestamp of the API ("2024-05-01T10:00:00Z"), timezone-aware."""
    if not isinstance(value, str) or not value:
        return None
    try:
        at = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def image_version(image: str) -> str:
    """The tag of an image reference ("registry:5000/auth:v1.2.1" -> "v1.2.1")."""
    if "@" in image:
        return image.split("@", 1)[1][:19]  # "sha256:" and 12 hex digits
    last = image.rsplit("/", 1)[-1]
    return last.split(":", 1)[1] if ":" in last else "latest"


def main_container(template: Obj, deployment: str) -> Obj | None:
    """The container named like the Deployment, else the first one."""
    containers = _list(_dict(template.get("spec")).get("containers"))
    for container in containers:
        if container.get("name") == deployment:
            return container
    return containers[0] if containers else None


def revision_number(obj: Obj) -> int | None:
    value = annotations_of(obj).get(REVISION)
    return _int(value, -1) if value is not None and _int(value, -1) >= 0 else None


def selector_of(deployment: Obj) -> str | None:
    """The Deployment's `matchLabels` as a label selector ("app=auth,tier=web")."""
    labels = _dict(_dict(_dict(deployment.get("spec")).get("selector")).get("matchLabels"))
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items())) or None


def owned_by(obj: Obj, kind: str, names: set[str]) -> bool:
    """Whether `obj`'s controller is a `kind` named in `names` (as the controllers decide)."""
    for ref in _list(_dict(obj.get("metadata")).get("ownerReferences")):
        if ref.get("kind") == kind and ref.get("name") in names and ref.get("controller", True):
            return True
    return False


def service_info(deployment: Obj, nodes: tuple[str, ...]) -> ServiceInfo:
    meta = _dict(deployment.get("metadata"))
    notes = annotations_of(deployment)
    name = str(meta.get("name", ""))
    template = _dict(_dict(deployment.get("spec")).get("template"))
    container = main_container(template, name)
    calls = tuple(c.strip() for c in notes.get(CALLS, "").split(",") if c.strip())
    try:
        kind = ServiceKind(notes.get(KIND, "service").strip().lower())
    except ValueError:
        kind = ServiceKind.SERVICE
    return ServiceInfo(
        name=name,
        namespace=str(meta.get("namespace", "")),
        kind=kind,
        calls=calls,
        replicas=_int(_dict(deployment.get("spec")).get("replicas"), 1),
        version=image_version(str(container.get("image", ""))) if container else None,
        revision=revision_number(deployment),
        nodes=nodes,
    )


def revision_of(replicaset: Obj, deployment: str) -> Revision | None:
    number = revision_number(replicaset)
    if number is None:
        return None
    notes = annotations_of(replicaset)
    template = _dict(_dict(replicaset.get("spec")).get("template"))
    container = main_container(template, deployment)
    commit = notes.get(COMMIT) or annotations_of(template).get(COMMIT)
    created = parse_time(_dict(replicaset.get("metadata")).get("creationTimestamp"))
    return Revision(
        number=number,
        version=image_version(str(container.get("image", ""))) if container else "",
        at=created or _EPOCH,
        change_cause=notes.get(CHANGE_CAUSE, ""),
        commit_sha=commit or None,
    )


def rollout_status(deployment: Obj) -> RolloutStatus:
    """`kubectl rollout status deployment/NAME`, one look (kubectl's own conditions and words)."""
    name = name_of(deployment)
    meta, spec = _dict(deployment.get("metadata")), _dict(deployment.get("spec"))
    status = _dict(deployment.get("status"))
    desired = _int(spec.get("replicas"), 1)
    updated = _int(status.get("updatedReplicas"))
    current = _int(status.get("replicas"))
    available = _int(status.get("availableReplicas"))

    def waiting(detail: str) -> RolloutStatus:
        return RolloutStatus(False, updated, desired, detail)

    if _int(meta.get("generation")) > _int(status.get("observedGeneration")):
        return waiting("Waiting for deployment spec update to be observed...")
    for condition in _list(status.get("conditions")):
        if condition.get("type") == "Progressing" and (
            condition.get("reason") == "ProgressDeadlineExceeded"
        ):
            return waiting(f'deployment "{name}" exceeded its progress deadline')
    if updated < desired:
        return waiting(
            f'Waiting for deployment "{name}" rollout to finish: '
            f"{updated} out of {desired} new replicas have been updated..."
        )
    if current > updated:
        return waiting(
            f'Waiting for deployment "{name}" rollout to finish: '
            f"{current - updated} old replicas are pending termination..."
        )
    if available < updated:
        return waiting(
            f'Waiting for deployment "{name}" rollout to finish: '
            f"{available} of {updated} updated replicas are available..."
        )
    return RolloutStatus(True, updated, desired, f'deployment "{name}" successfully rolled out')


def _pod_status(pod: Obj) -> str:
    """The STATUS column of `kubectl get pods`, simplified."""
    if _dict(pod.get("metadata")).get("deletionTimestamp"):
        return "Terminating"
    status = _dict(pod.get("status"))
    reason = ""
    for container in _list(status.get("containerStatuses")):
        state = _dict(container.get("state"))
        waiting, terminated = _dict(state.get("waiting")), _dict(state.get("terminated"))
        if waiting.get("reason"):
            reason = str(waiting["reason"])
        elif terminated.get("reason"):
            reason = str(terminated["reason"])
        if reason:
            break
    return reason or str(status.get("reason") or status.get("phase") or "Unknown")


def pod_info(pod: Obj, service: str, revisions: dict[str, int]) -> PodInfo:
    """`revisions` maps a pod-template-hash to its ReplicaSet's revision."""
    meta, status = _dict(pod.get("metadata")), _dict(pod.get("status"))
    containers = _list(status.get("containerStatuses"))
    ready = any(
        c.get("type") == "Ready" and c.get("status") == "True"
        for c in _list(status.get("conditions"))
    )
    labels = _dict(meta.get("labels"))
    return PodInfo(
        name=str(meta.get("name", "")),
        service=service,
        namespace=str(meta.get("namespace", "")),
        node=str(_dict(pod.get("spec")).get("nodeName") or ""),
        ready=ready,
        restarts=sum(_int(c.get("restartCount")) for c in containers),
        status=_pod_status(pod),
        revision=revisions.get(str(labels.get(HASH_LABEL, ""))),
    )


def cluster_event(event: Obj) -> ClusterEvent | None:
    """A core/v1 Event; None when it carries no time at all."""
    meta = _dict(event.get("metadata"))
    series = _dict(event.get("series"))
    at = (
        parse_time(series.get("lastObservedTime"))
        or parse_time(event.get("lastTimestamp"))
        or parse_time(event.get("eventTime"))
        or parse_time(event.get("firstTimestamp"))
        or parse_time(meta.get("creationTimestamp"))
    )
    if at is None:
        return None
    involved = _dict(event.get("involvedObject") or event.get("regarding"))
    try:
        kind = EventType(str(event.get("type", "Normal")))
    except ValueError:
        kind = EventType.NORMAL
    return ClusterEvent(
        at=at,
        reason=str(event.get("reason", "")),
        object=f"{involved.get('kind', '')}/{involved.get('name', '')}",
        message=str(event.get("message") or event.get("note") or ""),
        type=kind,
        namespace=str(involved.get("namespace") or meta.get("namespace") or ""),
        count=max(1, _int(series.get("count") or event.get("count"), 1)),
    )
