"""Read and write ports for the cluster (Kubernetes, or the sandbox)."""

from typing import Protocol

from medic.domain.cluster import Revision, RolloutStatus, ServiceInfo, WriteResult

__all__ = ["ClusterReader", "ClusterWriter"]


class ClusterReader(Protocol):
    def services(self, namespace: str) -> list[ServiceInfo]:
        """Every service of the namespace with its call edges (the topology)."""
        ...

    def rollout_history(self, namespace: str, deployment: str) -> list[Revision]:
        """The Deployment's revisions, oldest first."""
        ...

    def rollout_status(self, namespace: str, deployment: str) -> RolloutStatus: ...


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
