"""The bodies of the writes kubectl sends, built from the objects read; pure functions.

Each builder reproduces the request of a kubectl command (kubectl 1.2x sources,
`k8s.io/kubectl/pkg/...`), plus one annotation medic adds to the written object:

- `medic.dev/action-keys`: a JSON list of the idempotency keys of the last 20 medic
  writes to the object. A write whose key is listed there is not sent again. A list,
  not only the last key: a retry of write A after a later write B must still find A.
"""

from __future__ import annotations

import copy
import json
from datetime import datetime

from medic.adapters.kubernetes_api import Obj
from medic.adapters.kubernetes_read import HASH_LABEL, REVISION, annotations_of

__all__ = [
    "ACTION_KEYS",
    "RESTARTED_AT",
    "action_keys",
    "cordon_patch",
    "env_changes",
    "env_patch",
    "key_patch",
    "memory_mb",
    "memory_patch",
    "restart_patch",
    "same_template",
    "undo_patch",
]

ACTION_KEYS = "medic.dev/action-keys"
CORDONED_AT = "medic.dev/cordoned-at"
UNSCHEDULABLE_TAINT = "node.kubernetes.io/unschedulable"
RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"
_KEPT_KEYS = 20

# kubectl rollout undo keeps these Deployment annotations and does not copy them from the
# ReplicaSet (rollback.go: annotationsToSkip).
_ANNOTATIONS_TO_SKIP = frozenset(
    {
        "kubectl.kubernetes.io/last-applied-configuration",
        REVISION,
        "deployment.kubernetes.io/revision-history",
        "deployment.kubernetes.io/desired-replicas",
        "deployment.kubernetes.io/max-replicas",
        "deprecated.deployment.rollback.to",
    }
)


def action_keys(obj: Obj) -> list[str]:
    try:
        keys = json.loads(annotations_of(obj).get(ACTION_KEYS, "[]"))
    except ValueError:
        return []
    return [str(k) for k in keys] if isinstance(keys, list) else []


def _keys_with(obj: Obj, key: str) -> str:
    return json.dumps([*action_keys(obj), key][-_KEPT_KEYS:])


def key_patch(obj: Obj, key: str) -> Obj:
    """A strategic merge patch recording `key` on `obj`."""
    return {"metadata": {"annotations": {ACTION_KEYS: _keys_with(obj, key)}}}


def _template(obj: Obj) -> Obj:
    template = copy.deepcopy(obj.get("spec", {}).get("template", {}))
    labels = template.get("metadata", {}).get("labels")
    if isinstance(labels, dict):
        labels.pop(HASH_LABEL, None)
    return template if isinstance(template, dict) else {}


def same_template(a: Obj, b: Obj) -> bool:
    """kubectl's EqualIgnoreHash: the pod templates, ignoring the pod-template-hash label."""
    return _template(a) == _template(b)


def undo_patch(deployment: Obj, replicaset: Obj, key: str) -> list[Obj]:
    """`kubectl rollout undo --to-revision=N`: a JSON patch replacing the Deployment's
    pod template with the revision's (without its pod-template-hash label) and its
    annotations with the revision's (kubectl's getDeploymentPatch)."""
    kept = annotations_of(deployment)
    notes = {k: v for k, v in kept.items() if k in _ANNOTATIONS_TO_SKIP}
    notes |= {k: v for k, v in annotations_of(replicaset).items() if k not in _ANNOTATIONS_TO_SKIP}
    notes[ACTION_KEYS] = _keys_with(deployment, key)  # the ReplicaSet's copy may be stale
    return [
        {"op": "replace", "path": "/spec/template", "value": _template(replicaset)},
        {"op": "replace", "path": "/metadata/annotations", "value": notes},
    ]


def restart_patch(deployment: Obj, at: datetime, key: str) -> Obj:
    """`kubectl rollout restart`: a new restartedAt annotation on the pod template."""
    return {
        **key_patch(deployment, key),
        "spec": {
            "template": {
                "metadata": {"annotations": {RESTARTED_AT: at.strftime("%Y-%m-%dT%H:%M:%SZ")}}
            }
        },
    }


def _containers(deployment: Obj) -> list[Obj]:
    spec = deployment.get("spec", {}).get("template", {}).get("spec", {})
    return [c for c in spec.get("containers", []) if isinstance(c, dict)]


def _order(items: list[Obj]) -> list[Obj]:
    return [{"name": item.get("name")} for item in items]


def _container_patch(deployment: Obj, key: str, container: Obj) -> Obj:
    """A strategic merge patch of one container, with the `$setElementOrder` directive
    kubectl's two-way merge patch carries for the containers list."""
    return {
        **key_patch(deployment, key),
        "spec": {
            "template": {
                "spec": {
                    "$setElementOrder/containers": _order(_containers(deployment)),
                    "containers": [container],
                }
            }
        },
    }


def memory_patch(deployment: Obj, container: str, limit_mb: int, key: str) -> Obj:
    """`kubectl set resources deployment/D -c C --limits=memory=<N>Mi`."""
    change = {"name": container, "resources": {"limits": {"memory": f"{limit_mb}Mi"}}}
    return _container_patch(deployment, key, change)


_UNITS = {
    "Ki": 2**10,
    "Mi": 2**20,
    "Gi": 2**30,
    "Ti": 2**40,
    "k": 10**3,
    "M": 10**6,
    "G": 10**9,
    "T": 10**12,
}


def memory_mb(quantity: str) -> float | None:
    """A memory quantity ("256Mi", "1Gi", "500M", "268435456") in MiB."""
    text = quantity.strip()
    for suffix, factor in _UNITS.items():
        if text.endswith(suffix):
            number, scale = text[: -len(suffix)], factor
            break
    else:
        number, scale = text, 1
    try:
        return float(number) * scale / 2**20
    except ValueError:
        return None


def _env(container: Obj) -> dict[str, Obj]:
    return {str(e.get("name")): e for e in container.get("env", []) if isinstance(e, dict)}


def env_changes(current: Obj, previous: Obj) -> list[tuple[str, Obj | None, Obj | None]]:
    """The env vars that differ between two containers: (name, previous, current) entries,
    None where the variable is absent."""
    now, before = _env(current), _env(previous)
    names = [*now, *(n for n in before if n not in now)]
    return [(n, before.get(n), now.get(n)) for n in names if before.get(n) != now.get(n)]


def env_patch(
    deployment: Obj, container: Obj, restore: list[tuple[str, Obj | None]], key: str
) -> Obj:
    """`kubectl set env` setting each variable back to its previous entry (or removing
    it, `NAME-`, when it did not exist before)."""
    entries: list[Obj] = []
    removed = set()
    now = _env(container)
    for name, previous in restore:
        if previous is None:
            entries.append({"$patch": "delete", "name": name})
            removed.add(name)
        else:  # null deletes a field the current entry has and the previous had not
            stale: Obj = {f: None for f in ("value", "valueFrom") if f in now.get(name, {})}
            entries.append({**stale, **previous})
    current = list(now)
    order = [n for n in current if n not in removed]
    order += [n for n, prev in restore if prev is not None and n not in current]
    change = {
        "$setElementOrder/env": [{"name": n} for n in order],
        "env": entries,
        "name": container.get("name"),
    }
    return _container_patch(deployment, key, change)


def cordon_patch(node: Obj, key: str, at: datetime) -> Obj:
    """`kubectl cordon NODE`: spec.unschedulable=true (a strategic merge patch), with the
    action key and the time medic cordoned it."""
    patch = key_patch(node, key)
    patch["metadata"]["annotations"][CORDONED_AT] = at.isoformat()
    return {**patch, "spec": {"unschedulable": True}}


def medic_cordon(node: Obj, slack_s: float = 60.0) -> bool:
    """Whether the node's current cordon is medic's: medic recorded one, and the
    cordon's taint (when the server reports it) is not younger than that record — a
    human who uncordoned and cordoned again since owns this one."""
    cordoned = annotations_of(node).get(CORDONED_AT)
    if not cordoned or not action_keys(node):
        return False
    try:
        ours = datetime.fromisoformat(cordoned)
    except ValueError:
        return False
    for taint in node.get("spec", {}).get("taints") or []:
        if taint.get("key") == UNSCHEDULABLE_TAINT and taint.get("timeAdded"):
            try:
                added = datetime.fromisoformat(str(taint["timeAdded"]).replace("Z", "+00:00"))
            except ValueError:
                return False
            return (added - ours).total_seconds() <= slack_s
    return True
