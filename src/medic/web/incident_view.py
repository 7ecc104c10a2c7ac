"""Everything the incident page shows, loaded from the store (and the watched system).

`load_view` reads the records; `chart_specs` picks the series worth charting, continues
them past the diagnosis (so the recovery shows) and puts the moments that matter on them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from medic.domain import (
    Approval,
    ApprovalDecision,
    Diagnosis,
    Evidence,
    Execution,
    Incident,
    Plan,
    Postmortem,
    Series,
    TimelineEntry,
    Verification,
    VerificationOutcome,
)
from medic.domain.audit import FIRST_APPROVAL
from medic.store import Store
from medic.web.charts import Marker
from medic.web.telemetry import Telemetry, deploy_markers

__all__ = ["ChartSpec", "IncidentView", "chart_specs", "load_view"]

FEATURED_CHARTS = 4
# How long after an incident ended its charts keep going (the recovery, settled).
_AFTER_END = timedelta(minutes=30)
_ESCALATED = "escalated: "


@dataclass(frozen=True)
class IncidentView:
    incident: Incident
    diagnosis: Diagnosis | None
    plan: Plan | None
    approvals: Sequence[Approval]
    executions: Sequence[Execution]
    verification: Verification | None
    postmortem: Postmortem | None
    timeline: Sequence[TimelineEntry]
    first_approvers: Sequence[str] = ()  # a high-risk plan's approvals so far
    now: datetime | None = None
    # the newest value of each verification criterion's metric, by (service, metric)
    latest: Mapping[tuple[str, str], float] = field(default_factory=dict)

    @property
    def escalation(self) -> str:
        """Why the incident was escalated (the reason its closing entry gives)."""
        for entry in reversed(self.timeline):
            if entry.kind == "incident" and entry.message.startswith(_ESCALATED):
                return entry.message[len(_ESCALATED) :]
        return ""

    @property
    def decided(self) -> Approval | None:
        """The decision on the current plan (a second approval counts once made)."""
        if self.plan is None:
            return None
        mine = [a for a in self.approvals if a.plan_hash == self.plan.hash]
        return mine[-1] if mine else None

    @property
    def shown_state(self) -> str:
        """The state as a person should read it: once a human decided, the incident is
        no longer awaiting approval, even before the workflow takes the decision up."""
        state = self.incident.state.value
        decided = self.decided
        final = (ApprovalDecision.APPROVED, ApprovalDecision.REJECTED)
        if state == "awaiting_approval" and decided is not None and decided.decision in final:
            return decided.decision.value
        return state

    @property
    def version(self) -> str:
        """Changes whenever anything on the page would: the console's script compares it."""
        i = self.incident
        return ":".join(
            str(x)
            for x in (
                i.state.value,
                i.updated_at.isoformat(),
                len(self.timeline),
                len(self.approvals),
                len(self.executions),
                self.verification.outcome.value if self.verification else "",
                self.plan.hash if self.plan else "",
                len(self.first_approvers),
                self.postmortem is not None,
            )
        )


def load_view(store: Store, incident_id: str, telemetry: Telemetry | None = None) -> IncidentView:
    """Raises NotFoundError for an unknown incident."""
    found = store.get_incident(incident_id)
    plan = store.plan(incident_id)
    latest: dict[tuple[str, str], float] = {}
    if telemetry is not None and plan is not None and found.state.value == "verifying":
        for action in plan.immediate:
            for c in action.verification:
                value = telemetry.latest(action.namespace, c.service, c.metric)
                if value is not None:
                    latest[(c.service, c.metric)] = value
    return IncidentView(
        incident=found,
        diagnosis=store.diagnosis(incident_id),
        plan=plan,
        first_approvers=(
            store.audit.approvers(incident_id, plan.hash, FIRST_APPROVAL) if plan else ()
        ),
        approvals=store.approvals(incident_id),
        executions=store.executions(incident_id),
        verification=store.verification(incident_id),
        postmortem=store.postmortem(incident_id),
        # Bounded whatever a storm attached: the loop's steps and the first signals.
        timeline=store.pages.timeline_digest(incident_id, 50, 500),
        now=telemetry.current_time() if telemetry is not None else None,
        latest=latest,
    )


@dataclass(frozen=True)
class ChartSpec:
    evidence: Evidence
    series: Series
    cited: bool
    threshold: float | None = None
    limit: float | None = None
    markers: tuple[Marker, ...] = ()


def _thresholds(plan: Plan | None) -> dict[tuple[str, str], float]:
    if plan is None:
        return {}
    return {
        (c.service, c.metric): c.upper
        for a in plan.immediate
        for c in a.verification
        if c.upper is not None
    }


def _moments(view: IncidentView) -> list[Marker]:
    out = [
        Marker(a.at.timestamp(), f"{a.decision.value} by {a.actor}", "approval")
        for a in view.approvals
        if a.decision is ApprovalDecision.APPROVED
    ]
    out += [
        Marker(e.started_at.timestamp(), f"{e.action.kind.value} {e.action.target}", "action")
        for e in view.executions
    ]
    v = view.verification
    if v is not None:
        kind = "recovered" if v.outcome is VerificationOutcome.RECOVERED else "failed"
        out.append(Marker(v.checked_at.timestamp(), v.outcome.value.replace("_", " "), kind))
    return out


def _window_end(view: IncidentView, now: datetime) -> datetime:
    inc = view.incident
    if not inc.state.terminal:
        return now
    ended = view.verification.checked_at if view.verification else inc.updated_at
    return min(now, ended + _AFTER_END)


def chart_specs(view: IncidentView, telemetry: Telemetry | None) -> list[ChartSpec]:
    """Every chartable series, cited first; the featured ones continued and marked."""
    diagnosis = view.diagnosis
    if diagnosis is None:
        return []
    cited = diagnosis.top.evidence_ids if diagnosis.top else ()
    ordered = sorted(
        (e for e in diagnosis.evidence if e.series),
        key=lambda e: (e.id not in cited, cited.index(e.id) if e.id in cited else 0),
    )
    pairs = [(e, s) for e in ordered for s in e.series]
    thresholds = _thresholds(view.plan)
    moments = _moments(view)
    namespace = view.incident.namespace or ""
    specs = [
        ChartSpec(e, s, e.id in cited, thresholds.get((s.service, s.metric)), markers=())
        for e, s in pairs
    ]
    if telemetry is None:
        return [
            ChartSpec(sp.evidence, sp.series, sp.cited, sp.threshold, None, tuple(moments))
            for sp in specs
        ]
    end = _window_end(view, telemetry.current_time())
    featured = specs[:FEATURED_CHARTS]
    cause = diagnosis.top.root_cause.service if diagnosis.top else ""
    start = min(
        (
            datetime.fromtimestamp(sp.series.points[0].t, end.tzinfo)
            for sp in featured
            if sp.series.points
        ),
        default=end,
    )
    changes = telemetry.deploys(namespace, start, end) if featured else []
    out = []
    for sp in featured:
        ns = sp.series.labels.get("namespace", namespace)
        series = telemetry.extended(sp.series, ns, end)
        marks = deploy_markers(changes, {series.service, cause}) + moments
        limit = telemetry.limit(series, ns)
        out.append(ChartSpec(sp.evidence, series, sp.cited, sp.threshold, limit, tuple(marks)))
    return out + [
        ChartSpec(sp.evidence, sp.series, sp.cited, sp.threshold, None, tuple(moments))
        for sp in specs[FEATURED_CHARTS:]
    ]
