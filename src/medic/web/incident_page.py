"""The incident page: state, the decision forms, diagnosis, charts, plan, outcome, timeline.

Pure rendering from domain objects to escaped HTML; the routes load them from the store.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from medic.domain import (
    Action,
    Approval,
    Diagnosis,
    Evidence,
    Execution,
    Incident,
    IncidentState,
    Plan,
    Postmortem,
    TimelineEntry,
    Verification,
)
from medic.web.agent_review import agent_card
from medic.web.charts import series_chart
from medic.web.html import Markup, badge, esc, table, when

__all__ = ["IncidentView", "render_incident"]

# Charts shown before the "more evidence" fold; the rest stay one click away.
_FEATURED_CHARTS = 4
_NOTHING = Markup("")


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


def render_incident(view: IncidentView, csrf: str, flash: Markup = _NOTHING) -> Markup:
    inc = view.incident
    head = (
        f"<h1>{esc(inc.title)}</h1>"
        f'<div class="meta"><span class="hash">{esc(inc.id)}</span>{badge(inc.state.value)}'
        f"{badge(inc.severity.value)}<span>{esc(inc.service or '—')} in "
        f"{esc(inc.namespace or '—')}</span><span>opened {when(inc.opened_at)}</span>"
        f"<span>updated {when(inc.updated_at)}</span></div>"
    )
    return Markup(
        head
        + flash
        + _decision(view, csrf)
        + _diagnosis(view.diagnosis)
        + agent_card(view.diagnosis)
        + _charts(view.diagnosis, view.plan)
        + _plan(view.plan)
        + _evidence(view.diagnosis)
        + _outcome(view)
        + _timeline(view.timeline)
    )


def _decision(view: IncidentView, csrf: str) -> Markup:
    plan = view.plan
    if plan is None or view.incident.state is not IncidentState.AWAITING_APPROVAL:
        return Markup("")
    if any(a.plan_hash == plan.hash for a in view.approvals):
        return Markup("")
    hidden = (
        f'<input type="hidden" name="csrf" value="{esc(csrf)}">'
        f'<input type="hidden" name="plan_hash" value="{esc(plan.hash)}">'
    )
    action = f"/ui/incidents/{esc(view.incident.id)}"
    waiting = (
        f'<p class="pending" id="pending">Approved by {esc(", ".join(view.first_approvers))}: '
        "this high-risk plan needs a second approver, someone else.</p>"
        if view.first_approvers
        else ""
    )
    return Markup(
        '<section class="card decide" id="decide"><h2>Your decision</h2>'
        f"{waiting}"
        f'<p>This decides plan <span class="hash">{esc(plan.hash[:12])}…</span> exactly as '
        "shown below; if medic proposes another plan meanwhile, the decision is refused.</p>"
        f'<form method="post" action="{action}/approve">{hidden}'
        '<button class="approve" id="approve" type="submit">Approve plan</button></form>'
        f'<form method="post" action="{action}/reject">{hidden}'
        '<textarea name="reason" required placeholder="why reject? (required)"></textarea>'
        '<button class="reject" id="reject" type="submit">Reject</button></form></section>'
    )


def _diagnosis(diagnosis: Diagnosis | None) -> Markup:
    if diagnosis is None:
        return Markup(
            '<section class="card"><h2>Diagnosis</h2><p class="muted">not yet</p></section>'
        )
    items = "".join(
        f"<li><b>{esc(h.root_cause.category.value)}</b> of <code>{esc(h.root_cause.service)}</code>"
        f"{_change(h.root_cause.change)} · score {h.score:.2f}"
        f"{' · ' + esc(h.fault) if h.fault else ''}<br>{esc(h.explanation)}"
        f'<br><span class="muted">evidence: {esc(", ".join(h.evidence_ids) or "—")}</span></li>'
        for h in diagnosis.hypotheses
    )
    rejected = "".join(f"<li>{esc(r)}</li>" for r in diagnosis.rejected)
    missing = "".join(f"<li>{esc(m)}</li>" for m in diagnosis.missing)
    return Markup(
        '<section class="card"><h2>Diagnosis</h2>'
        f"<p>{esc(diagnosis.summary)}</p>"
        f'<div class="meta"><span>confidence {diagnosis.confidence:.2f}</span>'
        f"<span>{'conclusive' if diagnosis.conclusive else 'inconclusive'}</span>"
        f"<span>onset {when(diagnosis.onset)}</span></div>"
        f'<h3>Hypotheses</h3><ol class="hyp">{items}</ol>'
        + (f"<h3>Rejected alternatives</h3><ul>{rejected}</ul>" if rejected else "")
        + (f"<h3>Could not read</h3><ul>{missing}</ul>" if missing else "")
        + "</section>"
    )


def _change(change: str | None) -> Markup:
    return Markup(f" introduced by <code>{esc(change)}</code>") if change else Markup("")


def _evidence_table(evidence: Sequence[Evidence]) -> Markup:
    rows = [(e.id, e.source, e.summary, Markup(f"<code>{esc(e.query)}</code>")) for e in evidence]
    return table(["id", "source", "what it showed", "query"], rows, cls="evidence")


def _evidence(diagnosis: Diagnosis | None) -> Markup:
    if diagnosis is None or not diagnosis.evidence:
        return Markup("")
    cited = set(diagnosis.top.evidence_ids if diagnosis.top else ())
    first = [e for e in diagnosis.evidence if e.id in cited] or list(diagnosis.evidence)
    rest = [e for e in diagnosis.evidence if e not in first]
    fold = (
        f"<details><summary>{len(rest)} more evidence items</summary>"
        f"{_evidence_table(rest)}</details>"
        if rest
        else ""
    )
    return Markup(
        '<section class="card" id="evidence"><h2>Evidence</h2>'
        '<p class="muted">What the diagnosis cites; text quoted from the watched system is '
        f"shown as data, never as instructions.</p>{_evidence_table(first)}{fold}</section>"
    )


def _thresholds(plan: Plan | None) -> dict[tuple[str, str], float]:
    if plan is None:
        return {}
    return {
        (c.service, c.metric): c.upper
        for a in plan.immediate
        for c in a.verification
        if c.upper is not None
    }


def _charts(diagnosis: Diagnosis | None, plan: Plan | None) -> Markup:
    if diagnosis is None:
        return Markup("")
    cited = diagnosis.top.evidence_ids if diagnosis.top else ()
    ordered = sorted(
        (e for e in diagnosis.evidence if e.series),
        key=lambda e: (e.id not in cited, cited.index(e.id) if e.id in cited else 0),
    )
    thresholds = _thresholds(plan)
    figures = [
        series_chart(
            s,
            diagnosis.onset,
            thresholds.get((s.service, s.metric)),
            caption=f"{e.id}{' (cited)' if e.id in cited else ''}",
        )
        for e in ordered
        for s in e.series
    ]
    if not figures:
        return Markup("")
    shown, more = figures[:_FEATURED_CHARTS], figures[_FEATURED_CHARTS:]
    fold = (
        f"<details><summary>{len(more)} more series</summary>"
        f'<div class="charts">{"".join(more)}</div></details>'
        if more
        else ""
    )
    return Markup(
        '<section class="card" id="charts"><h2>Evidence series</h2>'
        '<p class="muted">The shaded band is the anomaly window, from the onset the '
        "diagnosis found to the latest point; a dashed green line is the recovery "
        f'threshold the plan will verify.</p><div class="charts">{"".join(shown)}</div>'
        f"{fold}</section>"
    )


def _action(a: Action) -> Markup:
    criteria = "".join(f"<li>{esc(c.description or c.metric)}</li>" for c in a.verification)
    return Markup(
        f"<h3>{esc(a.kind.value)} <code>{esc(a.target)}</code> in <code>{esc(a.namespace)}</code> "
        f"{badge(a.risk.value)}</h3><p>{esc(a.reason)}</p>"
        + (f'<pre class="cmd">{esc(a.command)}</pre>' if a.command else "")
        + (f'<p class="muted">undo: <code>{esc(a.undo)}</code></p>' if a.undo else "")
        + (f"<p>verified by:</p><ul>{criteria}</ul>" if criteria else "")
    )


def _plan(plan: Plan | None) -> Markup:
    if plan is None:
        return Markup('<section class="card"><h2>Plan</h2><p class="muted">not yet</p></section>')
    now = "".join(_action(a) for a in plan.immediate) or '<p class="muted">nothing</p>'
    later = "".join(_action(a) for a in plan.long_term) or '<p class="muted">nothing</p>'
    return Markup(
        '<section class="card" id="plan"><h2>Plan</h2>'
        f'<p>{esc(plan.rationale)}</p><p>plan hash <span class="hash">{esc(plan.hash)}</span></p>'
        f"<h3>Now</h3>{now}<h3>Later</h3>{later}</section>"
    )


def _outcome(view: IncidentView) -> Markup:
    approvals = table(
        ["decision", "by", "via", "when", "plan", "reason"],
        (
            (badge(a.decision.value), a.actor, a.channel, when(a.at), a.plan_hash[:12], a.reason)
            for a in view.approvals
        ),
    )
    executions = table(
        ["action", "target", "status", "finished", "detail"],
        (
            (
                e.action.kind.value,
                e.action.target,
                badge(e.status.value),
                when(e.finished_at),
                e.detail,
            )
            for e in view.executions
        ),
    )
    v = view.verification
    verification = (
        Markup(f"<p>{badge(v.outcome.value)} {when(v.checked_at)}: {esc(v.detail)}</p>")
        if v
        else Markup('<p class="muted">not yet</p>')
    )
    postmortem = (
        Markup(
            f'<p><a href="/ui/incidents/{esc(view.incident.id)}/postmortem">'
            "Read the post-mortem</a></p>"
        )
        if view.postmortem
        else Markup("")
    )
    return Markup(
        '<section class="card"><h2>Decisions and actions</h2>'
        f"<h3>Approvals</h3>{approvals}<h3>Executions</h3>{executions}"
        f"<h3>Verification</h3>{verification}{postmortem}</section>"
    )


def _timeline(entries: Sequence[TimelineEntry]) -> Markup:
    rows = ((when(t.at), t.kind, t.actor, t.message) for t in entries)
    return Markup(
        '<section class="card"><h2>Timeline</h2>'
        f"{table(['time', 'kind', 'actor', 'event'], rows, cls='timeline')}</section>"
    )
