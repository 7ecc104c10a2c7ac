"""What the workflows need, wired once by the composition root (medic.bootstrap).

DBOS workflows and steps are module-level functions whose arguments must be
serialisable, so the ports they use are looked up here instead of being passed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from medic.action import Policy
from medic.domain import Diagnosis, Incident
from medic.ports import (
    ChangeSource,
    Clock,
    ClusterReader,
    ClusterWriter,
    CodeHost,
    DocStore,
    EventSource,
    LogSource,
    MetricsSource,
)
from medic.ports.chatops import ChatOps
from medic.ports.paging import Pager
from medic.scribe.record import Slo
from medic.signals.grouping import GroupingRules
from medic.store import Store

__all__ = ["Deps", "Refiner", "deps", "install", "uninstall"]


class Refiner(Protocol):
    """Refines a deterministic diagnosis (the LLM agent); must never raise."""

    def __call__(self, diagnosis: Diagnosis, incident: Incident) -> Diagnosis:
        """The refined diagnosis, its `agent` saying what the LLM did and spent."""
        ...


@dataclass(frozen=True)
class Deps:
    store: Store
    clock: Clock
    metrics: MetricsSource
    changes: ChangeSource
    cluster: ClusterReader
    writer: ClusterWriter
    namespace: str
    postmortem_dir: Path
    policy: Policy
    logs: LogSource | None = None
    code: CodeHost | None = None
    chatops: ChatOps | None = None
    events: EventSource | None = None
    refiner: Refiner | None = None  # the optional LLM agent
    pagers: tuple[Pager, ...] = ()  # who is paged when an incident is escalated
    base_url: str = "http://127.0.0.1:8700"
    approval_timeout_s: float = 3600.0
    verification_window_s: float = 600.0
    verification_poll_s: float = 30.0
    rollout_timeout_s: float = 300.0  # a rollout not done by then failed
    rollout_poll_s: float = 5.0  # how often a rollout is looked at
    watchdog_lookback_s: float = 3600.0
    grouping: GroupingRules = field(default_factory=GroupingRules)
    extras: dict[str, str] = field(default_factory=dict)
    docstores: tuple[DocStore, ...] = ()  # where post-mortems are published
    slos: dict[str, Slo] = field(default_factory=dict)  # service -> its SLO
    time_scale: float = 1.0  # record-clock seconds per wall second (the sandbox's speed)
    can_act: bool = True  # False without an executor: plans are handed to a human
    targets: str = "kubernetes"  # or "hosts": hand-overs carry host (ssh) commands


_current: Deps | None = None


def install(d: Deps) -> None:
    global _current
    _current = d


def uninstall() -> None:
    global _current
    _current = None


def deps() -> Deps:
    if _current is None:
        raise RuntimeError("medic workflows used before bootstrap installed their dependencies")
    return _current
