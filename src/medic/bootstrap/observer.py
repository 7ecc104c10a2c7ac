"""Stand-ins for what a diagnose-and-propose mode does not have: changes and an executor.

Each says what is missing (`absent_reason`) so the diagnosis and the plan can say it,
and refuses every write: without a cluster medic proposes and a human acts.
"""

from __future__ import annotations

from datetime import datetime

from medic.domain import Change, PermanentError
from medic.domain.cluster import WriteResult

__all__ = ["NoChanges", "NoExecutor"]


class NoChanges:
    """`ChangeSource` of a mode without deploy history: there are none to read."""

    absent_reason = "no change source (no Kubernetes rollout history): deploys are not seen"

    def changes(self, namespace: str, start: datetime, end: datetime) -> list[Change]:
        return []


class NoExecutor:
    """`ClusterWriter` of a mode without a cluster: every write is refused."""

    absent_reason = (
        "no executor is configured (no Kubernetes): medic proposes, a human runs the commands"
    )

    def _refuse(self, what: str) -> WriteResult:
        raise PermanentError(f"{what}: {self.absent_reason}")

    def rollout_undo(
        self, namespace: str, deployment: str, to_revision: int, key: str
    ) -> WriteResult:
        return self._refuse(f"rollout undo of {deployment}")

    def rollout_restart(self, namespace: str, deployment: str, key: str) -> WriteResult:
        return self._refuse(f"rollout restart of {deployment}")

    def scale(self, namespace: str, deployment: str, replicas: int, key: str) -> WriteResult:
        return self._refuse(f"scale of {deployment}")

    def set_memory_limit(
        self, namespace: str, deployment: str, limit_mb: int, key: str
    ) -> WriteResult:
        return self._refuse(f"memory limit of {deployment}")

    def revert_config(
        self, namespace: str, deployment: str, key: str, setting: str | None = None
    ) -> WriteResult:
        return self._refuse(f"config revert of {deployment}")

    def cordon_node(self, node: str, key: str) -> WriteResult:
        return self._refuse(f"cordon of {node}")
