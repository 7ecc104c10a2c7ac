"""Read and write ports for the cluster (Kubernetes, or the sandbox)."""

from typing import Protocol

from medic.domain.cluster import PodInfo, Revision, RolloutStatus, ServiceInfo, WriteResult

__all__ = ["ClusterReader", "ClusterWriter", "PodReader"]


class ClusterReader(Protocol):
    def services(self, namespace: str) -> list[ServiceInfo]:
        """Every service of the namespace with its call edges (the topology)."""
        ...

    def rollout_history(self, namespace: str, deployment: str) -> list[Revision]:
        """The Deployment's revisions, oldest first."""
        ...

    def rollout_status(self, namespace: str, deployment: str) -> RolloutStatus: ...


class PodReader(Protocol):
    """Per-pod visibility, kept apart from ClusterReader so that readers without it
    (and their fakes) stay valid; the sandbox and a Kubernetes adapter provide both."""

    def pods(self, namespace: str, service: str) -> list[PodInfo]:
        """The service's pods now, with their node, readiness and restarts."""
        ...


class ClusterWriter(Protocol):
    """Every write carries an idempotency key: a key already applied is not applied again."""

    def rollout_undo(
        self, namespace: str, deployment: str, to_revision: int, key: str
    ) -> WriteResult: ...

    def rollout_restart(self, namespace: str, deployment: str, key: str) -> WriteResult: ...

    def scale(self, namespace: str, deployment: str, replicas: int, key: str) -> WriteResult: ...

    def set_memory_limit(
        self, namespace: str, deployment: str, limit_mb: int, key: str
    ) -> WriteResult: ...

    def revert_config(
        self, namespace: str, deployment: str, key: str, setting: str | None = None
    ) -> WriteResult:
        """Set `setting` (the newest config change when None) back to its previous value."""
        ...

    def cordon_node(self, node: str, key: str) -> WriteResult:
        """Cordon and drain `node`: its pods are rescheduled on other nodes."""
        ...
