"""`ChangeSource` over the world's changes: the scenario's deploys, config changes and
scaling, and every write applied to the sandbox (as a real cluster's history shows)."""

from __future__ import annotations

from datetime import datetime

from medic.domain.model import Change
from medic.sandbox.simulation import Simulation

__all__ = ["SimChanges"]


class SimChanges:
    def __init__(self, simulation: Simulation) -> None:
        self._sim = simulation

    def changes(self, namespace: str, start: datetime, end: datetime) -> list[Change]:
        if namespace != self._sim.scenario.namespace:
            return []
        snap = self._sim.current()
        out = []
        for record in snap.world.changes:
            at = self._sim.at(record.at)
            if not start <= at <= end or record.at > snap.now:
                continue
            commit = record.commit
            out.append(
                Change(
                    kind=record.kind,
                    service=record.service,
                    namespace=namespace,
                    at=at,
                    version=record.version,
                    previous_version=record.previous_version,
                    revision=record.revision,
                    commit_sha=commit.sha if commit else None,
                    commit_message=commit.message if commit else None,
                    author=(commit.author or None) if commit else None,
                    description=record.description,
                )
            )
        return out
