"""The post-mortem: one Markdown document telling what happened, why, and what was done.

Every string that did not originate in this module (titles, summaries, log lines,
commit messages, commands, actors) goes through `code`/`cell`, so the document's
structure is medic's alone: the watched system cannot add a heading, a link or HTML.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from medic.domain import (
    Action,
    ActionKind,
    Approval,
    Diagnosis,
    Execution,
    ExecutionStatus,
    Incident,
    Plan,
    Postmortem,
    TimelineEntry,
    Verification,
    VerificationOutcome,
)
from medic.scribe.agent_review import agent_section
from medic.scribe.markdown import cell, code

__all__ = ["build_postmortem", "render_postmortem"]

_SHORT = 12


def build_postmortem(
    incident: Incident,
    timeline: Sequence[TimelineEntry],
    diagnosis: Diagnosis | None,
    plan: Plan | None,
    approvals: Sequence[Approval],
    executions: Sequence[Execution],
    verification: Verification | None,
) -> Postmortem:
    markdown = render_postmortem(
        incident, timeline, diagnosis, plan, approvals, executions, verification
    )
    return Postmortem(incident_id=incident.id, title=_title(incident), markdown=markdown)


def render_postmortem(
    incident: Incident,
    timeline: Sequence[TimelineEntry],
    diagnosis: Diagnosis | None,
    plan: Plan | None,
    approvals: Sequence[Approval],
    executions: Sequence[Execution],
    verification: Verification | None,
) -> str:
    """The post-mortem of `incident` as Markdown; missing parts are said to be missing."""
    sections = [
        _header(incident, timeline, verification),
        _summary(incident, timeline, diagnosis, executions, verification),
        _timeline(timeline),
        _root_cause(diagnosis),
        _rejected(diagnosis),
        agent_section(diagnosis),
        _actions(plan, approvals, executions),
        _verification(verification),
        _follow_ups(diagnosis, plan, executions, verification),
    ]
    return "\n\n".join(s.rstrip() for s in sections if s) + "\n"


def _title(incident: Incident) -> str:
    return f"Post-mortem: {incident.title}"


def _header(
    incident: Incident, timeline: Sequence[TimelineEntry], verification: Verification | None
) -> str:
    end = _end(incident, timeline, verification)
    lines = [
        f"# Post-mortem: {code(incident.title, 120)}",
        "",
        f"- **Incident:** {code(incident.id)}",
        f"- **State:** {incident.state.value}",
        f"- **Severity:** {incident.severity.value}",
        f"- **Service:** {_where(incident)}",
        f"- **Opened:** {_utc(incident.opened_at)} UTC",
        f"- **Last update:** {_utc(end)} UTC ({_duration(incident.opened_at, end)} after opening)",
    ]
    return "\n".join(lines)


def _summary(
    incident: Incident,
    timeline: Sequence[TimelineEntry],
    diagnosis: Diagnosis | None,
    executions: Sequence[Execution],
    verification: Verification | None,
) -> str:
    end = _end(incident, timeline, verification)
    impact = (
        f"**Impact.** A {incident.severity.value} incident on {_where(incident)}, "
        f"open for {_duration(incident.opened_at, end)}."
    )
    top = diagnosis.top if diagnosis else None
    if diagnosis is None or top is None:
        cause = "**Root cause.** Not determined."
    else:
        rc = top.root_cause
        change = f" introduced by {code(rc.change)}" if rc.change else ""
        cause = (
            f"**Root cause.** {rc.category.value} of {code(rc.service)}{change} "
            f"(confidence {diagnosis.confidence:.2f}): {code(diagnosis.summary)}"
        )
    acted = [e for e in executions if e.action.kind is not ActionKind.ESCALATE]
    if acted:
        done = "; ".join(
            f"{e.action.kind.value} of {code(e.action.target)}: {e.status.value}" for e in acted
        )
    else:
        done = "no automated action was taken"
    outcome = verification.outcome.value if verification else "not verified"
    resolution = f"**Resolution.** {done}. Verification: {outcome}."
    return "## Summary\n\n" + "\n\n".join((impact, cause, resolution))


def _timeline(timeline: Sequence[TimelineEntry]) -> str:
    if not timeline:
        return "## Timeline\n\nNo events were recorded."
    rows = ["| Time (UTC) | Kind | Actor | Event |", "|---|---|---|---|"]
    for entry in sorted(timeline, key=lambda e: e.at):
        rows.append(
            f"| {_utc(entry.at)} | {cell(entry.kind, 40)} | {cell(entry.actor, 80)} "
            f"| {cell(entry.message)} |"
        )
    return "## Timeline\n\n" + "\n".join(rows)


def _root_cause(diagnosis: Diagnosis | None) -> str:
    head = "## Root cause and evidence"
    if diagnosis is None:
        return f"{head}\n\nNo diagnosis was made."
    top = diagnosis.top
    lines = [head, ""]
    if top is None:
        lines.append(f"No hypothesis explained the signals: {code(diagnosis.summary)}")
    else:
        cites = ", ".join(code(i) for i in top.evidence_ids) or "none"
        lines += [
            f"- **Category:** {top.root_cause.category.value}",
            f"- **Service:** {code(top.root_cause.service)}",
            f"- **Change:** {code(top.root_cause.change) if top.root_cause.change else 'none'}",
            f"- **Fault:** {code(top.fault) if top.fault else 'unknown'}",
            f"- **Score:** {top.score:.2f}; diagnosis confidence {diagnosis.confidence:.2f}"
            f" ({'conclusive' if diagnosis.conclusive else 'not conclusive'})",
            f"- **Explanation:** {code(top.explanation)}",
            f"- **Cited evidence:** {cites}",
        ]
    lines += ["", "### Evidence", ""]
    if not diagnosis.evidence:
        lines.append("No evidence was gathered.")
    else:
        lines += ["| Id | Source | Summary | Query |", "|---|---|---|---|"]
        for ev in diagnosis.evidence:
            lines.append(
                f"| {cell(ev.id, 60)} | {cell(ev.source, 40)} | {cell(ev.summary)} "
                f"| {cell(ev.query, 200)} |"
            )
    if diagnosis.missing:
        lines += ["", "Sources that could not be read:", ""]
        lines += [f"- {code(m)}" for m in diagnosis.missing]
    return "\n".join(lines)


def _rejected(diagnosis: Diagnosis | None) -> str:
    head = "## Rejected hypotheses"
    if diagnosis is None:
        return f"{head}\n\nNone: no diagnosis was made."
    lines = [head, ""]
    for h in diagnosis.hypotheses[1:]:
        rc = h.root_cause
        change = f" ({code(rc.change)})" if rc.change else ""
        lines.append(
            f"- {rc.category.value} of {code(rc.service)}{change}, score {h.score:.2f}: "
            f"{code(h.explanation)}"
        )
    lines += [f"- {code(why)}" for why in diagnosis.rejected]
    if len(lines) == 2:
        lines.append("None.")
    return "\n".join(lines)


def _actions(
    plan: Plan | None, approvals: Sequence[Approval], executions: Sequence[Execution]
) -> str:
    head = "## Actions"
    if plan is None:
        return f"{head}\n\nNo plan was made."
    lines = [
        head,
        "",
        f"Plan {code(plan.hash[:_SHORT])}: {code(plan.rationale)}",
        "",
        "| When | Action | Target | Risk | Command | Outcome |",
        "|---|---|---|---|---|---|",
    ]
    for when, actions in (("immediate", plan.immediate), ("long-term", plan.long_term)):
        for action in actions:
            lines.append(
                f"| {when} | {action.kind.value} | {cell(action.target or '-', 80)} "
                f"| {action.risk.value} | {_command(action)} | {_outcome(action, executions)} |"
            )
    lines += ["", "### Approvals", ""]
    decided = [a for a in approvals if a.plan_hash == plan.hash] or list(approvals)
    if not decided:
        lines.append("No decision was recorded.")
    for a in decided:
        reason = f": {code(a.reason)}" if a.reason else ""
        lines.append(
            f"- {_utc(a.at)} UTC: plan {code(a.plan_hash[:_SHORT])} {a.decision.value} by "
            f"{code(a.actor, 80)} via {code(a.channel, 40)}{reason}"
        )
    return "\n".join(lines)


def _command(action: Action) -> str:
    if not action.command:
        return "none"
    parts = [cell(action.command)]
    extras = ", ".join(f"{k}={v}" for k, v in sorted(action.params.items()))
    if extras:
        parts.append(f"params {cell(extras)}")
    if action.undo:
        parts.append(f"undo {cell(action.undo)}")
    return " · ".join(parts)


def _outcome(action: Action, executions: Sequence[Execution]) -> str:
    runs = [e for e in executions if e.action == action]
    if not runs:
        return "not executed"
    last = runs[-1]
    return f"{last.status.value}: {cell(last.detail)}" if last.detail else last.status.value


def _verification(verification: Verification | None) -> str:
    head = "## Verification"
    if verification is None:
        return f"{head}\n\nRecovery was not verified."
    lines = [
        head,
        "",
        f"- **Outcome:** {verification.outcome.value}",
        f"- **Checked at:** {_utc(verification.checked_at)} UTC",
        f"- **Detail:** {code(verification.detail)}",
    ]
    if verification.observations:
        lines += ["", "| Observation | Value |", "|---|---|"]
        for key, value in sorted(verification.observations.items()):
            lines.append(f"| {cell(key, 120)} | {cell(_scalar(value), 120)} |")
    return "\n".join(lines)


def _follow_ups(
    diagnosis: Diagnosis | None,
    plan: Plan | None,
    executions: Sequence[Execution],
    verification: Verification | None,
) -> str:
    items: list[str] = []
    for action in plan.long_term if plan else ():
        runs = [e for e in executions if e.action == action]
        state = f"{runs[-1].status.value}: {code(runs[-1].detail)}" if runs else "still to be done"
        items.append(
            f"{action.kind.value} of {code(action.target or '-')}: {code(action.reason)} ({state})"
        )
    for action in plan.immediate if plan else ():
        if action.kind is ActionKind.ESCALATE:
            items.append(f"A human must take over: {code(action.reason)}")
    failed = [e for e in executions if e.status is ExecutionStatus.FAILED]
    items += [
        f"Failed action {e.action.kind.value} of {code(e.action.target)} needs a look: "
        f"{code(e.detail)}"
        for e in failed
    ]
    if verification and verification.outcome is not VerificationOutcome.RECOVERED:
        items.append(f"Recovery was not confirmed ({verification.outcome.value}): check by hand.")
    if diagnosis and diagnosis.missing:
        items.append("Restore the data sources that could not be read (see evidence).")
    body = "\n".join(f"- [ ] {item}" for item in items) if items else "None."
    return f"## Follow-ups\n\n{body}"


def _where(incident: Incident) -> str:
    service = code(incident.service) if incident.service else "an unknown service"
    return f"{service} in {code(incident.namespace)}" if incident.namespace else service


def _end(
    incident: Incident, timeline: Sequence[TimelineEntry], verification: Verification | None
) -> datetime:
    times = [incident.updated_at, *(e.at for e in timeline)]
    if verification:
        times.append(verification.checked_at)
    return max(times)


def _utc(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def _duration(start: datetime, end: datetime) -> str:
    seconds = max(int((end - start).total_seconds()), 0)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes:02d}m"
    return f"{minutes}m {secs:02d}s"


def _scalar(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    return "none" if value is None else str(value)
