"""The incident page's live parts: the banner, the decision box, the verification progress.

The decision box always says where the plan stands: the forms while medic waits for a
human, then who approved it and what medic is doing about it (executing, verifying),
and finally how it ended. It sits below the plan, so the plan is read before deciding.
"""

from __future__ import annotations

from datetime import datetime

from medic.domain import ApprovalDecision, IncidentState
from medic.web.html import Markup, badge, esc, when
from medic.web.incident_view import IncidentView
from medic.web.units import format_value, metric_unit

__all__ = ["banner", "decision_box", "progress"]

_PHASE = {
    IncidentState.OPEN: "medic is gathering evidence.",
    IncidentState.DIAGNOSING: "medic is diagnosing.",
    IncidentState.EXECUTING: "medic is executing the plan now.",
    IncidentState.VERIFYING: "The action is done; medic is verifying that the service recovered.",
    IncidentState.RESOLVED: "Resolved: the service recovered.",
    IncidentState.SELF_RESOLVED: "The alert resolved on its own; nothing was done.",
}


def banner(view: IncidentView) -> Markup:
    state = view.incident.state
    if state is IncidentState.ESCALATED:
        why = view.escalation or "see the timeline"
        return Markup(
            '<div class="flash bad banner" id="why-escalated" role="status">'
            f"<b>Escalated to a human.</b> Why: {esc(why)}</div>"
        )
    if state is IncidentState.RESOLVED:
        return Markup(
            '<div class="flash ok banner" role="status"><b>Resolved.</b> '
            f"{esc(view.verification.detail if view.verification else '')}</div>"
        )
    return Markup("")


def _forms(view: IncidentView, csrf: str) -> Markup:
    plan = view.plan
    assert plan is not None
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
        f"{waiting}"
        f'<p>This decides plan <span class="hash">{esc(plan.hash[:12])}…</span> exactly as '
        "shown above; if medic proposes another plan meanwhile, the decision is refused.</p>"
        f'<form method="post" action="{action}/approve">{hidden}'
        '<button class="approve" id="approve" type="submit">Approve plan</button></form>'
        f'<form method="post" action="{action}/reject">{hidden}'
        '<label for="reason" class="sr">Why reject?</label>'
        '<textarea id="reason" name="reason" required placeholder="why reject? (required)">'
        "</textarea>"
        '<button class="reject" id="reject" type="submit">Reject</button></form>'
    )


def _status(view: IncidentView) -> Markup:
    inc = view.incident
    decided = view.decided
    lines = []
    if decided is not None:
        verb = "Rejected" if decided.decision is ApprovalDecision.REJECTED else "Approved"
        why = f": {decided.reason}" if decided.reason else ""
        lines.append(
            f'<p class="decided">{badge(decided.decision.value)} {esc(verb)} by '
            f"<b>{esc(decided.actor)}</b> via {esc(decided.channel)} at {when(decided.at)}"
            f"{esc(why)}</p>"
        )
    phase = _PHASE.get(inc.state)
    if inc.state is IncidentState.ESCALATED:
        phase = f"Escalated: {view.escalation or 'see the timeline'}"
    elif inc.state is IncidentState.REJECTED and decided is None:
        phase = "The plan was rejected."
    if view.shown_state == "approved" and inc.state is IncidentState.AWAITING_APPROVAL:
        phase = "medic acts on it now."
    if inc.state is IncidentState.EXECUTING and view.plan is not None:
        actions = ", ".join(f"{a.kind.value} {a.target}" for a in view.plan.immediate)
        phase = f"medic is executing: {actions}."
    if phase:
        lines.append(f'<p class="phase">{esc(phase)}</p>')
    return Markup("".join(lines))


def decision_box(view: IncidentView, csrf: str, can_decide: bool = True) -> Markup:
    """The approve and reject forms for whoever may decide; a viewer is told who can."""
    plan = view.plan
    state = view.incident.state
    if plan is None:
        if state.terminal:
            return Markup("")
        body = Markup(f'<p class="phase">{esc(_PHASE.get(state, "No plan yet."))}</p>')
    elif state is IncidentState.AWAITING_APPROVAL and view.decided is None and not can_decide:
        body = Markup(
            '<p class="phase" id="viewer-only">Awaiting approval. You are signed in as a '
            "viewer: an approver or an admin decides (web, CLI or Slack).</p>"
        )
    elif state is IncidentState.AWAITING_APPROVAL and view.decided is None:
        body = _forms(view, csrf)
    else:
        body = _status(view)
    shown = view.shown_state
    cls = "decide" if shown == IncidentState.AWAITING_APPROVAL.value else "decided"
    return Markup(
        f'<section class="card {cls}" id="decide" data-state="{esc(shown)}">'
        f"<h2>Decision {badge(shown)}</h2>{body}</section>"
    )


def _elapsed(since: datetime, now: datetime | None) -> str:
    if now is None:
        return ""
    seconds = max((now - since).total_seconds(), 0.0)
    return f" for {seconds / 60:.0f} min" if seconds >= 60 else f" for {seconds:.0f} s"


def progress(view: IncidentView) -> Markup:
    """The verification criteria, each with its bound and (while verifying) its value now."""
    plan = view.plan
    criteria = [(a, c) for a in (plan.immediate if plan else ()) for c in a.verification]
    state = view.incident.state
    if not criteria or state in (IncidentState.AWAITING_APPROVAL, IncidentState.OPEN):
        return Markup("")
    rows = []
    for _action, c in criteria:
        bound = " and ".join(
            text
            for text in (
                f"≤ {format_value(c.upper, metric_unit(c.metric))}" if c.upper is not None else "",
                f"≥ {format_value(c.lower, metric_unit(c.metric))}" if c.lower is not None else "",
            )
            if text
        )
        value = view.latest.get((c.service, c.metric))
        now = format_value(value, metric_unit(c.metric)) if value is not None else "—"
        met = (
            value is not None
            and (c.upper is None or value <= c.upper)
            and (c.lower is None or value >= c.lower)
        )
        mark = badge("recovered" if met else "inconclusive") if value is not None else ""
        rows.append(
            f"<tr><td>{esc(c.service)}</td><td>{esc(c.metric)}</td><td>{esc(bound)}</td>"
            f"<td>{esc(now)} {mark}</td></tr>"
        )
    v = view.verification
    if v is not None:
        head = f"<p>{badge(v.outcome.value)} checked {when(v.checked_at)}: {esc(v.detail)}</p>"
    elif state is IncidentState.VERIFYING:
        head = (
            '<p><span class="spinner" aria-hidden="true"></span> verifying'
            f"{esc(_elapsed(view.incident.updated_at, view.now))}; missing data is "
            "inconclusive, never success.</p>"
        )
    else:
        head = '<p class="muted">starts once the action is done</p>'
    return Markup(
        '<section class="card" id="verification"><h2>Verification</h2>'
        f"{head}<table><thead><tr><th>service</th><th>metric</th><th>must be</th>"
        f"<th>now</th></tr></thead><tbody>{''.join(rows)}</tbody></table></section>"
    )
