"""A Kubernetes API for the adapter's tests: kmock's emulator served over real HTTP.

kmock (the `nolar/kmock` Kubernetes mock server) keeps objects in memory and serves
them as the API does (get, list, patch with merge or JSON patches); it runs on its own
event loop in a background thread so that the synchronous official client can talk to
it. It records every request, for assertions on what medic sent.

The seeded world: namespace `production` with `auth-service` (revision 1: v1.2.0,
revision 2: v1.2.1, the current one, with a changed env var) calling `users-db`, their
pods on `node-a` and `node-b`, events, and a DaemonSet pod that a drain must skip.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any, TypeVar

import kmock
from kubernetes import client as k8s

__all__ = ["NS", "FakeClock", "KubeMock", "background_loop", "running_kmock"]

T = TypeVar("T")
NS = "production"


class FakeClock:
    """A clock whose sleeps only count (no wall-clock waiting in tests)."""

    def __init__(self) -> None:
        self.at = datetime(2024, 5, 1, 11, 0, tzinfo=UTC)
        self.slept: list[float] = []

    def now(self) -> datetime:
        return self.at

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)


class KubeMock:
    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self.emulator = kmock.KubernetesEmulator()
        self._server = kmock.Server(self.emulator)

    def start(self) -> None:
        async def enter() -> None:
            await self.emulator.__aenter__()
            await self._server.__aenter__()

        asyncio.run_coroutine_threadsafe(enter(), self._loop).result(timeout=10)

    def stop(self) -> None:
        async def leave() -> None:
            await self._server.__aexit__(None, None, None)
            await self.emulator.__aexit__(None, None, None)

        asyncio.run_coroutine_threadsafe(leave(), self._loop).result(timeout=10)

    def run(self, fn: Callable[[], T]) -> T:
        """Run `fn` on the server's loop (reactions and objects are not thread-safe)."""

        async def call() -> T:
            return fn()

        return asyncio.run_coroutine_threadsafe(call(), self._loop).result(timeout=10)

    @property
    def url(self) -> str:
        return str(self._server.url).rstrip("/")

    def api_client(self) -> k8s.ApiClient:
        configuration = k8s.Configuration()
        configuration.host = self.url
        return k8s.ApiClient(configuration)

    def requests(self, method: str | None = None) -> list[Any]:
        """The requests served so far (kmock's Request: method, url, params, headers, data)."""
        served = self.run(lambda: list(self.emulator))
        return [r for r in served if method is None or str(r.method.value) == method.upper()]

    def writes(self) -> list[Any]:
        return [r for r in self.requests() if str(r.method.value) in ("PATCH", "POST", "PUT")]

    def obj(self, resource: str, namespace: str | None, name: str) -> dict[str, Any]:
        return dict(self.run(lambda: self.emulator.objects[resource, namespace, name].raw))

    def put(self, resource: str, namespace: str | None, name: str, body: dict[str, Any]) -> None:
        def assign() -> None:
            self.emulator.objects[resource, namespace, name] = body

        self.run(assign)

    def fail_next(self, method: str, resource: str, status: int, times: int = 1) -> None:
        """Answer the next `times` matching requests with `status` (then serve normally)."""

        def react() -> None:
            view = self.emulator[method.lower(), kmock.resource(resource)]
            seen = len(list(view))
            view[seen : seen + times] << status

        self.run(react)


@contextlib.contextmanager
def running_kmock(loop: asyncio.AbstractEventLoop) -> Iterator[KubeMock]:
    mock = KubeMock(loop)
    mock.start()
    try:
        seed(mock)
        yield mock
    finally:
        mock.stop()


def background_loop() -> tuple[asyncio.AbstractEventLoop, threading.Thread]:
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="kmock", daemon=True)
    thread.start()
    return loop, thread


# -- the seeded world ------------------------------------------------------------------


def _container(name: str, image: str, ttl: str | None) -> dict[str, Any]:
    container: dict[str, Any] = {
        "name": name,
        "image": image,
        "resources": {"limits": {"memory": "256Mi"}, "requests": {"memory": "128Mi"}},
    }
    if ttl is not None:
        container["env"] = [
            {"name": "LOG_LEVEL", "value": "info"},
            {"name": "CACHE_TTL", "value": ttl},
        ]
    return container


def _template(app: str, image: str, hash_: str | None, ttl: str | None) -> dict[str, Any]:
    labels = {"app": app} | ({"pod-template-hash": hash_} if hash_ else {})
    return {
        "metadata": {"labels": labels},
        "spec": {"containers": [_container(app, image, ttl)]},
    }


def deployment(
    name: str, image: str, revision: int, annotations: dict[str, str], ttl: str | None = None
) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": name,
            "namespace": NS,
            "uid": f"uid-{name}",
            "generation": 4,
            "annotations": {"deployment.kubernetes.io/revision": str(revision), **annotations},
        },
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": name}},
            "template": _template(name, image, None, ttl),
        },
        "status": {
            "observedGeneration": 4,
            "replicas": 2,
            "updatedReplicas": 2,
            "readyReplicas": 1,
            "availableReplicas": 1,
        },
    }


def replicaset(
    app: str,
    hash_: str,
    image: str,
    revision: int,
    created: str,
    ttl: str | None = None,
    **notes: str,
) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {
            "name": f"{app}-{hash_}",
            "namespace": NS,
            "creationTimestamp": created,
            "labels": {"app": app, "pod-template-hash": hash_},
            "annotations": {"deployment.kubernetes.io/revision": str(revision), **notes},
            "ownerReferences": [
                {
                    "apiVersion": "apps/v1",
                    "kind": "Deployment",
                    "name": app,
                    "uid": f"uid-{app}",
                    "controller": True,
                }
            ],
        },
        "spec": {"replicas": 2, "template": _template(app, image, hash_, ttl)},
    }


def pod(
    name: str,
    owner: tuple[str, str],
    node: str,
    ready: bool,
    restarts: int,
    state: dict[str, Any],
    hash_: str = "",
) -> dict[str, Any]:
    kind, owner_name = owner
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": NS if kind != "DaemonSet" else "monitoring",
            "labels": {"app": owner_name.rsplit("-", 1)[0], "pod-template-hash": hash_},
            "ownerReferences": [{"kind": kind, "name": owner_name, "controller": True}],
        },
        "spec": {"nodeName": node},
        "status": {
            "phase": "Running",
            "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
            "containerStatuses": [{"name": "main", "restartCount": restarts, "state": state}],
        },
    }


def event(
    name: str, kind: str, obj: str, reason: str, at: str, message: str, warning: bool
) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": name, "namespace": NS},
        "involvedObject": {"kind": kind, "name": obj, "namespace": NS},
        "reason": reason,
        "message": message,
        "type": "Warning" if warning else "Normal",
        "count": 3 if warning else 1,
        "firstTimestamp": at,
        "lastTimestamp": at,
    }


def node(name: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name}, "spec": {}}


def seed(mock: KubeMock) -> None:
    def fill() -> None:
        objects = mock.emulator.objects
        auth = deployment(
            "auth-service",
            "registry.local:5000/auth-service:v1.2.1",
            2,
            {
                "medic.dev/calls": "users-db, payments",
                "kubernetes.io/change-cause": "deploy v1.2.1",
            },
            ttl="30",
        )
        objects["apps/v1/deployments", NS, "auth-service"] = auth
        db = deployment("users-db", "postgres:16.2", 1, {"medic.dev/kind": "database"})
        objects["apps/v1/deployments", NS, "users-db"] = db
        rs1 = replicaset(
            "auth-service",
            "5d8f7",
            "registry.local:5000/auth-service:v1.2.0",
            1,
            "2024-05-01T09:00:00Z",
            ttl="300",
            **{"kubernetes.io/change-cause": "deploy v1.2.0", "medic.dev/commit": "a1b2c3d"},
        )
        rs2 = replicaset(
            "auth-service",
            "7c9d4",
            "registry.local:5000/auth-service:v1.2.1",
            2,
            "2024-05-01T10:00:00Z",
            ttl="30",
            **{"kubernetes.io/change-cause": "deploy v1.2.1"},
        )
        rs_db = replicaset("users-db", "66b4c", "postgres:16.2", 1, "2024-04-01T00:00:00Z")
        for rs in (rs1, rs2, rs_db):
            objects["apps/v1/replicasets", NS, rs["metadata"]["name"]] = rs
        running = {"running": {"startedAt": "2024-05-01T10:01:00Z"}}
        crashing = {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 5m0s"}}
        pods = [
            pod(
                "auth-service-7c9d4-abcde",
                ("ReplicaSet", "auth-service-7c9d4"),
                "node-a",
                True,
                2,
                running,
                "7c9d4",
            ),
            pod(
                "auth-service-7c9d4-fghij",
                ("ReplicaSet", "auth-service-7c9d4"),
                "node-b",
                False,
                7,
                crashing,
                "7c9d4",
            ),
            pod(
                "users-db-66b4c-klmno",
                ("ReplicaSet", "users-db-66b4c"),
                "node-a",
                True,
                0,
                running,
                "66b4c",
            ),
        ]
        for p in pods:
            objects["v1/pods", NS, p["metadata"]["name"]] = p
        exporter = pod(
            "node-exporter-x1", ("DaemonSet", "node-exporter"), "node-a", True, 0, running
        )
        objects["v1/pods", "monitoring", "node-exporter-x1"] = exporter
        events = [
            event(
                "e0",
                "Pod",
                "auth-service-5d8f7-old",
                "Killing",
                "2024-05-01T08:00:00Z",
                "old",
                False,
            ),
            event(
                "e1",
                "Deployment",
                "auth-service",
                "ScalingReplicaSet",
                "2024-05-01T10:00:00Z",
                "Scaled up replica set auth-service-7c9d4 to 2",
                False,
            ),
            event(
                "e2",
                "Pod",
                "auth-service-7c9d4-fghij",
                "BackOff",
                "2024-05-01T10:31:00Z",
                "Back-off restarting failed container auth-service",
                True,
            ),
            event(
                "e3",
                "Pod",
                "auth-service-7c9d4-fghij",
                "Unhealthy",
                "2024-05-01T10:30:00Z",
                "Liveness probe failed: connection refused",
                True,
            ),
        ]
        for e in events:
            objects["v1/events", NS, e["metadata"]["name"]] = e
        for name in ("node-a", "node-b"):
            objects["v1/nodes", None, name] = node(name)
        # The client asks for "/version/"; kmock serves only "/version" by itself.
        mock.emulator["get /version/"] << {"major": "1", "minor": "30", "gitVersion": "v1.30.2"}

    mock.run(fill)
