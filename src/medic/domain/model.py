"""The loop's data: frozen dataclasses and enums, nothing that does I/O.

Times are timezone-aware UTC datetimes; series points carry Unix seconds so that
statistics stay cheap. Mappings are treated as read-only by convention.
"""

from __future__ import annotations

import hashlib
import json
import statistics
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from enum import StrEnum

from medic.domain.agent import AgentReview

__all__ = [
    "Action",
    "ActionKind",
    "Approval",
    "ApprovalDecision",
    "Change",
    "ChangeKind",
    "Criterion",
    "Diagnosis",
    "Evidence",
    "Execution",
    "ExecutionStatus",
    "Hypothesis",
    "Incident",
    "IncidentState",
    "Plan",
    "Point",
    "Postmortem",
    "Risk",
    "RootCause",
    "RootCauseCategory",
    "Series",
    "Severity",
    "Signal",
    "SignalSource",
    "TimelineEntry",
    "Verification",
    "VerificationOutcome",
]

Scalar = str | int | float | bool | None


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


class SignalSource(StrEnum):
    ALERTMANAGER = "alertmanager"
    WATCHDOG = "watchdog"
    GRAFANA = "grafana"
    DATADOG = "datadog"
    GENERIC = "generic"


@dataclass(frozen=True)
class Point:
    t: float  # Unix seconds
    v: float


@dataclass(frozen=True)
class Series:
    """One time series: a metric of one service (optionally one pod)."""

    metric: str
    service: str
    points: tuple[Point, ...]
    labels: Mapping[str, str] = field(default_factory=dict)
    unit: str = ""

    def values(self) -> list[float]:
        return [p.v for p in self.points]

    def times(self) -> list[float]:
        return [p.t for p in self.points]

    def medians_around(self, t: float, recent: int) -> tuple[float, float] | None:
        """The median before `t` and the median of the last `recent` points from `t` on,
        NaNs left out; None when either side is empty."""
        before = [p.v for p in self.points if p.t < t and p.v == p.v]
        after = [p.v for p in self.points if p.t >= t and p.v == p.v][-recent:]
        if not before or not after:
            return None
        return statistics.median(before), statistics.median(after)


@dataclass(frozen=True)
class Evidence:
    """One observation, citable by id: what was asked, of whom, and what came back."""

    id: str
    source: str  # "metrics", "changes", "logs", "cluster", "alert", ...
    query: str
    summary: str
    data: Mapping[str, Scalar] = field(default_factory=dict)
    series: tuple[Series, ...] = ()


@dataclass(frozen=True)
class Signal:
    """Something noticed: an alert from a webhook or a watchdog finding."""

    source: SignalSource
    fingerprint: str
    name: str
    starts_at: datetime
    service: str | None = None
    namespace: str | None = None
    severity: Severity = Severity.WARNING
    firing: bool = True
    ends_at: datetime | None = None
    summary: str = ""
    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)
    evidence: tuple[Evidence, ...] = ()
    generator_url: str = ""  # the alert rule's graph link (Prometheus: ?g0.expr=...)

    @property
    def dedup_key(self) -> str:
        """Redeliveries of the same alert share this key (source, fingerprint, start).

        An alert's resolution is a delivery of its own (same fingerprint and start), so
        it gets its own key; redeliveries of the resolution share that one.
        """
        key = f"{self.source}:{self.fingerprint}:{self.starts_at.isoformat()}"
        return key if self.firing else f"{key}:resolved"


class IncidentState(StrEnum):
    OPEN = "open"
    DIAGNOSING = "diagnosing"
    AWAITING_APPROVAL = "awaiting_approval"
    EXECUTING = "executing"
    VERIFYING = "verifying"
    RESOLVED = "resolved"
    ESCALATED = "escalated"
    REJECTED = "rejected"
    SELF_RESOLVED = "self_resolved"
    CLOSED = "closed"  # escalated, then its alerts resolved (or a human closed it)

    @property
    def terminal(self) -> bool:
        return self in _TERMINAL


_TERMINAL = frozenset(
    {
        IncidentState.RESOLVED,
        IncidentState.ESCALATED,
        IncidentState.REJECTED,
        IncidentState.SELF_RESOLVED,
        IncidentState.CLOSED,
    }
)


@dataclass(frozen=True)
class Incident:
    id: str
    title: str
    state: IncidentState
    opened_at: datetime
    updated_at: datetime
    group_key: str
    service: str | None = None
    namespace: str | None = None
    severity: Severity = Severity.WARNING


class ChangeKind(StrEnum):
    DEPLOY = "deploy"
    CONFIG_CHANGE = "config_change"
    SCALE = "scale"


@dataclass(frozen=True)
class Change:
    """A change to the watched system: a rollout, a config edit, a scaling event."""

    kind: ChangeKind
    service: str
    namespace: str
    at: datetime
    version: str | None = None
    previous_version: str | None = None
    revision: int | None = None
    commit_sha: str | None = None
    commit_message: str | None = None  # untrusted text from the watched system
    author: str | None = None
    description: str = ""


class RootCauseCategory(StrEnum):
    BAD_DEPLOY = "bad_deploy"
    CONFIG_CHANGE = "config_change"
    RESOURCE_EXHAUSTION = "resource_exhaustion"
    DEPENDENCY_FAILURE = "dependency_failure"
    TRAFFIC_SURGE = "traffic_surge"
    INFRASTRUCTURE = "infrastructure"
    CAPACITY = "capacity"


@dataclass(frozen=True)
class RootCause:
    service: str
    category: RootCauseCategory
    change: str | None = None  # the version or config key that introduced it


@dataclass(frozen=True)
class Hypothesis:
    root_cause: RootCause
    score: float  # 0..1, comparable across hypotheses of one diagnosis
    explanation: str
    evidence_ids: tuple[str, ...] = ()
    fault: str | None = None  # e.g. "memory_leak"


@dataclass(frozen=True)
class Diagnosis:
    """Ranked hypotheses (best first), how sure we are, and what we saw."""

    incident_id: str
    hypotheses: tuple[Hypothesis, ...]
    confidence: float
    conclusive: bool
    summary: str
    evidence: tuple[Evidence, ...] = ()
    onset: datetime | None = None
    missing: tuple[str, ...] = ()  # sources that could not be read, and why
    rejected: tuple[str, ...] = ()  # why runner-up hypotheses lost
    agent: AgentReview | None = None  # what the optional LLM agent did, when it ran

    @property
    def top(self) -> Hypothesis | None:
        return self.hypotheses[0] if self.hypotheses else None


class ActionKind(StrEnum):
    ROLLOUT_UNDO = "rollout_undo"
    ROLLOUT_RESTART = "rollout_restart"
    SCALE_OUT = "scale_out"
    RAISE_LIMITS = "raise_limits"
    REVERT_CONFIG = "revert_config"
    CORDON_NODE = "cordon_node"
    REVERT_PR = "revert_pr"
    ESCALATE = "escalate"


class Risk(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


@dataclass(frozen=True)
class Criterion:
    """Verification: `metric` of `service` must come back within `upper` (and `lower`)."""

    metric: str
    service: str
    upper: float | None
    lower: float | None = None
    window_seconds: float = 600.0
    description: str = ""


@dataclass(frozen=True)
class Action:
    """One typed catalog action on one target inside the incident's scope."""

    kind: ActionKind
    target: str
    namespace: str
    risk: Risk
    reason: str
    command: str = ""  # the exact command a human would type (rendered, never executed)
    params: Mapping[str, Scalar] = field(default_factory=dict)
    verification: tuple[Criterion, ...] = ()
    undo: str = ""  # how to undo it, for humans and for the executor

    def to_dict(self) -> dict[str, object]:
        return _canonical(asdict(self))  # type: ignore[return-value]


@dataclass(frozen=True)
class Plan:
    """What to do now (immediate) and later (long_term). Approvals bind to `hash`."""

    incident_id: str
    immediate: tuple[Action, ...]
    long_term: tuple[Action, ...]
    rationale: str

    @property
    def hash(self) -> str:
        body = json.dumps(_canonical(asdict(self)), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(body.encode()).hexdigest()

    @property
    def acts(self) -> bool:
        """True when the plan would change the system (anything but escalation)."""
        return any(a.kind is not ActionKind.ESCALATE for a in self.immediate)


class ApprovalDecision(StrEnum):
    APPROVED = "approved"
    REJECTED = "rejected"
    EXPIRED = "expired"
    PENDING = "pending"  # the first of two approvals a high-risk plan needs


@dataclass(frozen=True)
class Approval:
    incident_id: str
    plan_hash: str
    decision: ApprovalDecision
    actor: str
    at: datetime
    channel: str = "api"  # "api", "cli", "web", "slack", "policy"
    reason: str = ""


class ExecutionStatus(StrEnum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    ALREADY_APPLIED = "already_applied"  # an idempotent retry found it done
    REFUSED = "refused"  # the executor's guard stopped it: nothing was executed


@dataclass(frozen=True)
class Execution:
    action: Action
    idempotency_key: str
    status: ExecutionStatus
    started_at: datetime
    finished_at: datetime
    detail: str = ""


class VerificationOutcome(StrEnum):
    RECOVERED = "recovered"
    NOT_RECOVERED = "not_recovered"
    INCONCLUSIVE = "inconclusive"  # missing data is never success


@dataclass(frozen=True)
class Verification:
    outcome: VerificationOutcome
    checked_at: datetime
    detail: str
    observations: Mapping[str, Scalar] = field(default_factory=dict)


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    kind: str  # "signal", "incident", "diagnosis", "plan", "approval", "execution", ...
    message: str
    actor: str = "medic"
    data: Mapping[str, Scalar] = field(default_factory=dict)


@dataclass(frozen=True)
class Postmortem:
    incident_id: str
    title: str
    markdown: str
    path: str | None = None
    charts: Mapping[str, str] = field(default_factory=dict)  # file name -> SVG
    links: Mapping[str, str] = field(default_factory=dict)  # publisher -> page URL


def _canonical(value: object) -> object:
    """JSON-ready form: enums as values, datetimes as ISO strings, tuples as lists."""
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_canonical(v) for v in value]
    return value
