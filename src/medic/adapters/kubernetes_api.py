"""The one seam to the Kubernetes API: the official client, JSON in and out, medic's errors.

Every call goes through `KubeApi._call`, which asks the typed client for the raw
response (`_preload_content=False`: the adapter reads plain JSON, so a field the
generated models do not know, or a partial object, never breaks a read), translates
the client's and urllib3's errors into medic's error tree, and retries transient
failures (429, 5xx, timeouts, refused connections) with exponential backoff on the
injected clock. Writes are retried too: every write medic sends sets absolute values
(a replica count, a template, an annotation), so sending it twice changes nothing more.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import urllib3
from kubernetes import client as k8s
from kubernetes.client.exceptions import ApiException, ApiValueError

from medic.domain.errors import (
    ConflictError,
    InvalidInputError,
    MedicError,
    NotFoundError,
    PermanentError,
    TransientError,
)
from medic.ports.clock import Clock

__all__ = ["JSON_PATCH", "MERGE_PATCH", "STRATEGIC_MERGE_PATCH", "KubeApi", "Obj", "Target"]

Obj = dict[str, Any]  # a Kubernetes object as the API serves it (JSON)

JSON_PATCH = "application/json-patch+json"
MERGE_PATCH = "application/merge-patch+json"
STRATEGIC_MERGE_PATCH = "application/strategic-merge-patch+json"

_MAX_MESSAGE = 300  # characters of the server's message kept in an error


@dataclass(frozen=True)
class Target:
    """What a call touches, for error messages: `patch deployments.apps prod/auth`."""

    verb: str  # the RBAC verb: get, list, patch, create
    resource: str  # the RBAC resource: "deployments.apps", "pods/eviction", "nodes"
    namespace: str | None = None  # None: cluster-scoped, or every namespace
    name: str | None = None

    def describe(self) -> str:
        if self.resource.startswith("/"):  # a non-resource URL such as /version
            return self.resource
        kind = self.resource.split(".")[0].split("/")[0].removesuffix("s")
        where = f"{self.namespace}/" if self.namespace else ""
        return f"{kind} {where}{self.name}" if self.name else f"{self.resource} in {where or '*/'}"


class KubeApi:
    def __init__(
        self,
        api_client: k8s.ApiClient,
        clock: Clock,
        *,
        timeout_s: float = 10.0,
        attempts: int = 4,
        backoff_s: float = 0.5,
    ) -> None:
        self.api_client = api_client
        self.apps = k8s.AppsV1Api(api_client)
        self.core = k8s.CoreV1Api(api_client)
        self.version_api = k8s.VersionApi(api_client)
        self._clock = clock
        self._timeout = (min(timeout_s, 5.0), timeout_s)  # (connect, read)
        self._attempts = max(1, attempts)
        self._backoff_s = backoff_s

    @property
    def host(self) -> str:
        return str(self.api_client.configuration.host)

    # -- reads -------------------------------------------------------------

    def version(self) -> Obj:
        return self._call(Target("get", "/version"), lambda o: self.version_api.get_code(**o))

    def deployment(self, namespace: str, name: str) -> Obj:
        t = Target("get", "deployments.apps", namespace, name)
        return self._call(t, lambda o: self.apps.read_namespaced_deployment(name, namespace, **o))

    def deployments(self, namespace: str) -> list[Obj]:
        t = Target("list", "deployments.apps", namespace)
        return _items(self._call(t, lambda o: self.apps.list_namespaced_deployment(namespace, **o)))

    def replicasets(self, namespace: str, selector: str | None = None) -> list[Obj]:
        t = Target("list", "replicasets.apps", namespace)
        return _items(
            self._call(
                t,
                lambda o: self.apps.list_namespaced_replica_set(
                    namespace, label_selector=selector, **o
                ),
            )
        )

    def pods(self, namespace: str, selector: str | None = None) -> list[Obj]:
        t = Target("list", "pods", namespace)
        return _items(
            self._call(
                t, lambda o: self.core.list_namespaced_pod(namespace, label_selector=selector, **o)
            )
        )

    def pods_on_node(self, node: str) -> list[Obj]:
        t = Target("list", "pods")
        selector = f"spec.nodeName={node}"
        return _items(
            self._call(
                t, lambda o: self.core.list_pod_for_all_namespaces(field_selector=selector, **o)
            )
        )

    def events(self, namespace: str) -> list[Obj]:
        t = Target("list", "events", namespace)
        return _items(self._call(t, lambda o: self.core.list_namespaced_event(namespace, **o)))

    def nodes(self) -> list[Obj]:
        return _items(self._call(Target("list", "nodes"), lambda o: self.core.list_node(**o)))

    def node(self, name: str) -> Obj:
        t = Target("get", "nodes", None, name)
        return self._call(t, lambda o: self.core.read_node(name, **o))

    # -- writes ------------------------------------------------------------

    def patch_deployment(
        self, namespace: str, name: str, body: Obj | list[Obj], patch_type: str, dry_run: bool
    ) -> Obj:
        t = Target("patch", "deployments.apps", namespace, name)
        return self._call(
            t,
            lambda o: self.apps.patch_namespaced_deployment(
                name, namespace, body, dry_run=_dry(dry_run), _content_type=patch_type, **o
            ),
        )

    def patch_scale(self, namespace: str, name: str, replicas: int, dry_run: bool) -> Obj:
        """`kubectl scale`: a merge patch of the scale subresource."""
        t = Target("patch", "deployments.apps/scale", namespace, name)
        body = {"spec": {"replicas": replicas}}
        return self._call(
            t,
            lambda o: self.apps.patch_namespaced_deployment_scale(
                name, namespace, body, dry_run=_dry(dry_run), _content_type=MERGE_PATCH, **o
            ),
        )

    def patch_node(self, name: str, body: Obj, dry_run: bool) -> Obj:
        t = Target("patch", "nodes", None, name)
        return self._call(
            t,
            lambda o: self.core.patch_node(
                name, body, dry_run=_dry(dry_run), _content_type=STRATEGIC_MERGE_PATCH, **o
            ),
        )

    def evict(self, namespace: str, pod: str, dry_run: bool) -> None:
        """`kubectl drain`'s eviction of one pod (honours PodDisruptionBudgets)."""
        t = Target("create", "pods/eviction", namespace, pod)
        body: Any = {
            "apiVersion": "policy/v1",
            "kind": "Eviction",
            "metadata": {"name": pod, "namespace": namespace},
        }
        if dry_run:
            body["deleteOptions"] = {"dryRun": ["All"]}
        self._call(
            t,
            lambda o: self.core.create_namespaced_pod_eviction(
                pod, namespace, body, dry_run=_dry(dry_run), **o
            ),
        )

    # -- the seam ----------------------------------------------------------

    def _call(self, target: Target, request: Callable[[dict[str, Any]], Any]) -> Obj:
        options: dict[str, Any] = {"_preload_content": False, "_request_timeout": self._timeout}
        for attempt in range(self._attempts):
            try:
                response = request(options)
                data = response.data
                return json.loads(data) if data else {}
            except ApiException as e:
                error: MedicError = _translate(e, target)
                retry_after = _retry_after(e)
            except urllib3.exceptions.HTTPError as e:
                error = TransientError(
                    f"Kubernetes API at {self.host} did not answer {target.verb} "
                    f"{target.describe()}: {type(e).__name__}: {e}"
                )
                error.__cause__ = e
                retry_after = None
            except (ApiValueError, ValueError) as e:  # a malformed request or response
                raise PermanentError(
                    f"{target.verb} {target.describe()}: invalid request or response: {e}"
                ) from e
            if not isinstance(error, TransientError) or attempt == self._attempts - 1:
                raise error
            delay = self._backoff_s * 2**attempt
            self._clock.sleep(min(retry_after, 30.0) if retry_after is not None else delay)
        raise AssertionError("unreachable: the last attempt raises")  # pragma: no cover


def _dry(dry_run: bool) -> str | None:
    return "All" if dry_run else None


def _items(listing: Obj) -> list[Obj]:
    items = listing.get("items") or []
    return [item for item in items if isinstance(item, dict)]


def _message(e: ApiException) -> str:
    """The server's own explanation (the `message` of its Status), shortened."""
    body = e.body
    text = body.decode(errors="replace") if isinstance(body, bytes) else str(body or "")
    try:
        status = json.loads(text)
    except ValueError:
        status = None
    if isinstance(status, dict) and status.get("message"):
        text = str(status["message"])
    text = " ".join(text.split()) or str(e.reason or "")
    return text[:_MAX_MESSAGE] + ("..." if len(text) > _MAX_MESSAGE else "")


def _retry_after(e: ApiException) -> float | None:
    headers = e.headers or {}
    value = headers.get("Retry-After") if hasattr(headers, "get") else None
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _translate(e: ApiException, t: Target) -> MedicError:
    status = int(e.status or 0)
    said = _message(e)
    what = t.describe()
    scope = f"in namespace {t.namespace!r}" if t.namespace else "cluster-wide"
    error: MedicError
    if status == 404:
        error = NotFoundError(f"{what} not found ({t.verb}: {said})")
    elif status == 409:
        error = ConflictError(f"{t.verb} {what} conflicts with its current state: {said}")
    elif status == 401:
        error = PermanentError(
            f"the Kubernetes API refused medic's credentials (401) on {t.verb} {what}: {said}"
        )
    elif status == 403:
        error = PermanentError(
            f"medic's RBAC lacks the verb {t.verb!r} on {t.resource} {scope} "
            f"(needed to {t.verb} {what}): {said}"
        )
    elif status == 429 or status >= 500 or status == 0:
        error = TransientError(f"Kubernetes API {status or 'error'} on {t.verb} {what}: {said}")
    elif status in (400, 422):
        error = InvalidInputError(f"Kubernetes rejected {t.verb} {what} ({status}): {said}")
    else:
        error = PermanentError(f"Kubernetes API {status} on {t.verb} {what}: {said}")
    error.__cause__ = e
    return error
