"""Changes read from rollout history: every Deployment revision is a deploy.

Works over any `ClusterReader` (Kubernetes in production), so medic sees deploys even
where no CI system reports them.
"""

from __future__ import annotations

from datetime import datetime

from medic.domain import Change, ChangeKind, ServiceKind
from medic.ports import ClusterReader

__all__ = ["RolloutChanges"]


class RolloutChanges:
    """`ChangeSource` over a cluster's rollout history."""

    def __init__(self, cluster: ClusterReader) -> None:
        self._cluster = cluster

    def changes(self, namespace: str, start: datetime, end: datetime) -> list[Change]:
        found: list[Change] = []
        for service in self._cluster.services(namespace):
            if service.kind is ServiceKind.EXTERNAL:
                continue
            history = self._cluster.rollout_history(namespace, service.name)
            for previous, revision in zip([None, *history], history, strict=False):
                if not start <= revision.at <= end or previous is None:
                    continue
                found.append(
                    Change(
                        kind=ChangeKind.DEPLOY,
                        service=service.name,
                        namespace=namespace,
                        at=revision.at,
                        version=revision.version,
                        previous_version=previous.version,
                        revision=revision.number,
                        commit_sha=revision.commit_sha,
                        description=revision.change_cause,
                    )
                )
        return sorted(found, key=lambda c: c.at)
