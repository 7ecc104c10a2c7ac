"""KubernetesCluster against kmock: the official client over HTTP, as kubectl would talk."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from medic.adapters.kubernetes import KubernetesCluster
from medic.domain.cluster import EventType, ServiceKind
from medic.domain.errors import (
    ConflictError,
    NotFoundError,
    PermanentError,
    TransientError,
)
from medic.ports import ClusterReader, ClusterWriter, EventSource, PodReader
from tests.adapters.kube_fixtures import NS, FakeClock, KubeMock, background_loop, running_kmock

AUTH = "auth-service"


@pytest.fixture(scope="module")
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    loop, thread = background_loop()
    yield loop
    loop.call_soon_threadsafe(loop.stop)
    thread.join(timeout=5)


@pytest.fixture
def kube(loop: asyncio.AbstractEventLoop) -> Iterator[KubeMock]:
    with running_kmock(loop) as mock:
        yield mock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def cluster(kube: KubeMock, clock: FakeClock) -> KubernetesCluster:
    return KubernetesCluster(kube.api_client(), namespace=NS, clock=clock)


# -- reads -----------------------------------------------------------------------------


def test_services_are_the_deployments_with_versions_revisions_edges_and_nodes(
    cluster: KubernetesCluster,
) -> None:
    services = {s.name: s for s in cluster.services(NS)}
    assert set(services) == {AUTH, "users-db"}
    auth = services[AUTH]
    assert (auth.version, auth.revision, auth.replicas) == ("v1.2.1", 2, 2)
    assert auth.calls == ("users-db", "payments")
    assert auth.nodes == ("node-a", "node-b")
    assert services["users-db"].kind is ServiceKind.DATABASE
    assert services["users-db"].version == "16.2"


def test_rollout_history_lists_revisions_with_change_cause_image_and_commit(
    cluster: KubernetesCluster,
) -> None:
    history = cluster.rollout_history(NS, AUTH)
    assert [(r.number, r.version, r.change_cause) for r in history] == [
        (1, "v1.2.0", "deploy v1.2.0"),
        (2, "v1.2.1", "deploy v1.2.1"),
    ]
    assert history[0].commit_sha == "a1b2c3d"
    assert history[1].at == datetime(2024, 5, 1, 10, 0, tzinfo=UTC)


def test_rollout_status_reads_like_kubectl(cluster: KubernetesCluster) -> None:
    status = cluster.rollout_status(NS, AUTH)
    assert not status.done
    assert status.detail == (
        'Waiting for deployment "auth-service" rollout to finish: '
        "1 of 2 updated replicas are available..."
    )


def test_pods_carry_node_readiness_restarts_status_and_revision(
    cluster: KubernetesCluster,
) -> None:
    pods = cluster.pods(NS, AUTH)
    assert [(p.name, p.node, p.ready, p.restarts, p.status, p.revision) for p in pods] == [
        ("auth-service-7c9d4-abcde", "node-a", True, 2, "Running", 2),
        ("auth-service-7c9d4-fghij", "node-b", False, 7, "CrashLoopBackOff", 2),
    ]


def test_events_in_the_window_oldest_first(cluster: KubernetesCluster) -> None:
    start = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)
    events = cluster.events(NS, start, datetime(2024, 5, 1, 11, 0, tzinfo=UTC))
    assert [(e.reason, e.object) for e in events] == [
        ("ScalingReplicaSet", "Deployment/auth-service"),
        ("Unhealthy", "Pod/auth-service-7c9d4-fghij"),
        ("BackOff", "Pod/auth-service-7c9d4-fghij"),
    ]
    assert events[2].type is EventType.WARNING and events[2].count == 3


def test_health_names_the_server_version_and_the_namespace(cluster: KubernetesCluster) -> None:
    line = cluster.health()
    assert "v1.30.2" in line and "2 deployments" in line and NS in line


# -- writes ----------------------------------------------------------------------------


def test_rollout_undo_sends_kubectls_patch_once_per_key(
    cluster: KubernetesCluster, kube: KubeMock
) -> None:
    result = cluster.rollout_undo(NS, AUTH, 1, key="inc-1:undo")
    assert result.applied
    assert result.data["to_revision"] == 1 and result.data["version"] == "v1.2.0"
    [patch] = kube.writes()
    assert patch.url.path == f"/apis/apps/v1/namespaces/{NS}/deployments/{AUTH}"
    assert patch.headers["Content-Type"] == "application/json-patch+json"
    template, notes = patch.data
    assert template["op"] == "replace" and template["path"] == "/spec/template"
    # revision 1's template, without the pod-template-hash label
    assert template["value"]["metadata"]["labels"] == {"app": AUTH}
    image = template["value"]["spec"]["containers"][0]["image"]
    assert image == "registry.local:5000/auth-service:v1.2.0"
    assert notes["path"] == "/metadata/annotations"
    assert notes["value"]["kubernetes.io/change-cause"] == "deploy v1.2.0"
    assert notes["value"]["deployment.kubernetes.io/revision"] == "2"  # kept from the deployment
    assert json.loads(notes["value"]["medic.dev/action-keys"]) == ["inc-1:undo"]

    again = cluster.rollout_undo(NS, AUTH, 1, key="inc-1:undo")
    assert not again.applied
    assert len(kube.writes()) == 1


def test_rollout_undo_to_an_unknown_revision_is_not_found(cluster: KubernetesCluster) -> None:
    with pytest.raises(NotFoundError, match="no revision 7"):
        cluster.rollout_undo(NS, AUTH, 7, key="k")


def test_rollout_undo_to_the_running_template_is_a_conflict(
    cluster: KubernetesCluster, kube: KubeMock
) -> None:
    with pytest.raises(ConflictError, match="already runs the template of revision 2"):
        cluster.rollout_undo(NS, AUTH, 2, key="k")
    assert kube.writes() == []


def test_restart_patches_the_restarted_at_annotation(
    cluster: KubernetesCluster, kube: KubeMock
) -> None:
    assert cluster.rollout_restart(NS, AUTH, key="r1").applied
    [patch] = kube.writes()
    assert patch.headers["Content-Type"] == "application/strategic-merge-patch+json"
    annotations = patch.data["spec"]["template"]["metadata"]["annotations"]
    assert annotations == {"kubectl.kubernetes.io/restartedAt": "2024-05-01T11:00:00Z"}


def test_scale_patches_the_scale_subresource(cluster: KubernetesCluster, kube: KubeMock) -> None:
    result = cluster.scale(NS, AUTH, 5, key="s1")
    assert result.applied and result.data == {"replicas": 5, "previous": 2}
    scale, note = kube.writes()
    assert scale.url.path.endswith(f"/deployments/{AUTH}/scale")
    assert scale.headers["Content-Type"] == "application/merge-patch+json"
    assert scale.data == {"spec": {"replicas": 5}}
    assert json.loads(note.data["metadata"]["annotations"]["medic.dev/action-keys"]) == ["s1"]
    assert not cluster.scale(NS, AUTH, 5, key="s1").applied
    assert len(kube.writes()) == 2


def test_memory_limit_is_a_strategic_merge_of_the_container(
    cluster: KubernetesCluster, kube: KubeMock
) -> None:
    result = cluster.set_memory_limit(NS, AUTH, 512, key="m1")
    assert result.data["previous"] == 256.0
    [patch] = kube.writes()
    spec = patch.data["spec"]["template"]["spec"]
    assert spec["$setElementOrder/containers"] == [{"name": AUTH}]
    assert spec["containers"] == [{"name": AUTH, "resources": {"limits": {"memory": "512Mi"}}}]


def test_revert_config_sets_changed_env_back_to_the_previous_revision(
    cluster: KubernetesCluster, kube: KubeMock
) -> None:
    with pytest.raises(ConflictError, match="no config change of 'LOG_LEVEL'"):
        cluster.revert_config(NS, AUTH, key="c0", setting="LOG_LEVEL")
    result = cluster.revert_config(NS, AUTH, key="c1")
    assert result.data == {"setting": "CACHE_TTL", "from_revision": 1}
    [patch] = kube.writes()
    assert patch.headers["Content-Type"] == "application/strategic-merge-patch+json"
    [container] = patch.data["spec"]["template"]["spec"]["containers"]
    assert container["env"] == [{"name": "CACHE_TTL", "value": "300"}]
    assert container["$setElementOrder/env"] == [{"name": "LOG_LEVEL"}, {"name": "CACHE_TTL"}]


def test_cordon_marks_the_node_unschedulable_and_evicts_its_pods(
    cluster: KubernetesCluster, kube: KubeMock
) -> None:
    result = cluster.cordon_node("node-a", key="n1")
    assert result.applied
    cordon, *evictions = kube.writes()
    assert cordon.url.path == "/api/v1/nodes/node-a"
    assert cordon.data["spec"] == {"unschedulable": True}
    evicted = sorted(r.url.path for r in evictions)
    assert evicted == [
        f"/api/v1/namespaces/{NS}/pods/auth-service-7c9d4-abcde/eviction",
        f"/api/v1/namespaces/{NS}/pods/users-db-66b4c-klmno/eviction",
    ]  # not the DaemonSet's node-exporter


def test_a_node_medic_already_cordoned_for_another_incident_is_left_as_it_is(
    cluster: KubernetesCluster, kube: KubeMock
) -> None:
    assert cluster.cordon_node("node-a", key="incident-1").applied
    again = cluster.cordon_node("node-a", key="incident-2")
    assert not again.applied
    assert "already cordoned by medic (incident-1)" in again.detail


def test_a_human_s_cordon_after_medic_s_is_not_built_on(
    cluster: KubernetesCluster, kube: KubeMock
) -> None:
    assert cluster.cordon_node("node-a", key="incident-1").applied
    # a human uncordons, then cordons again for maintenance an hour later: the node keeps
    # medic's old annotations, but the cordon's taint is the human's
    cordoned = kube.obj("v1/nodes", None, "node-a")
    taint = {
        "key": "node.kubernetes.io/unschedulable",
        "effect": "NoSchedule",
        "timeAdded": (datetime.now(UTC) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    kube.put(
        "v1/nodes", None, "node-a", {**cordoned, "spec": {**cordoned["spec"], "taints": [taint]}}
    )
    with pytest.raises(ConflictError, match="already cordoned"):
        cluster.cordon_node("node-a", key="incident-2")


def test_dry_runs_carry_dry_run_all_and_change_nothing_reported(
    cluster: KubernetesCluster, kube: KubeMock
) -> None:
    results = [
        cluster.rollout_undo(NS, AUTH, 1, key="d1", dry_run=True),
        cluster.rollout_restart(NS, AUTH, key="d2", dry_run=True),
        cluster.scale(NS, AUTH, 4, key="d3", dry_run=True),
        cluster.set_memory_limit(NS, AUTH, 384, key="d4", dry_run=True),
        cluster.cordon_node("node-b", key="d5", dry_run=True),
    ]
    assert all(not r.applied and r.data["dry_run"] == 1 for r in results)
    assert all(r.detail.startswith("dry run accepted by the server") for r in results)
    writes = kube.writes()
    assert writes and all(w.params.get("dryRun") == "All" for w in writes)


# -- errors ----------------------------------------------------------------------------


def test_forbidden_names_the_missing_verb(cluster: KubernetesCluster, kube: KubeMock) -> None:
    kube.fail_next("patch", "apps/v1/deployments", 403)
    with pytest.raises(
        PermanentError,
        match=r"RBAC lacks the verb 'patch' on deployments.apps in namespace 'production'",
    ):
        cluster.rollout_restart(NS, AUTH, key="r1")


def test_a_503_is_retried_with_backoff(
    cluster: KubernetesCluster, kube: KubeMock, clock: FakeClock
) -> None:
    kube.fail_next("get", "apps/v1/deployments", 503)
    assert cluster.rollout_status(NS, AUTH).desired_replicas == 2
    assert clock.slept == [0.5]


def test_a_persistent_503_is_transient(
    cluster: KubernetesCluster, kube: KubeMock, clock: FakeClock
) -> None:
    kube.fail_next("get", "apps/v1/deployments", 503, times=10)
    with pytest.raises(TransientError, match="503"):
        cluster.rollout_status(NS, AUTH)
    assert clock.slept == [0.5, 1.0, 2.0]


def test_a_missing_deployment_is_not_found(cluster: KubernetesCluster) -> None:
    with pytest.raises(NotFoundError, match="deployment production/nope not found"):
        cluster.rollout_history(NS, "nope")


def test_an_unreachable_server_is_transient(clock: FakeClock) -> None:
    from kubernetes import client as k8s

    configuration = k8s.Configuration()
    configuration.host = "http://127.0.0.1:9"  # discard port: nothing listens
    cluster = KubernetesCluster(k8s.ApiClient(configuration), clock=clock, attempts=2)
    with pytest.raises(TransientError, match="did not answer"):
        cluster.services(NS)


def _implements_the_ports(cluster: KubernetesCluster) -> None:
    """Checked by mypy, not run: the adapter is a drop-in for the sandbox's ports."""
    reader: ClusterReader = cluster
    writer: ClusterWriter = cluster
    pods: PodReader = cluster
    events: EventSource = cluster
    del reader, writer, pods, events
