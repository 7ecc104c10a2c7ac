"""The post-mortem's body sections: timeline, root cause, actions, follow-ups, appendix.

Each takes the `PostmortemRecord` and returns Markdown; see `postmortem` for the rules
on untrusted text (`text` for prose, `code`/`cell` for commands and queries).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime

from medic.domain import (
    Action,
    ActionKind,
    Evidence,
    Execution,
    ExecutionStatus,
    Incident,
    RootCause,
    Series,
    VerificationOutcome,
)
from medic.scribe.markdown import cell, code, text, text_cell
from medic.scribe.record import PostmortemRecord
from medic.scribe.units import humanize, quantity

__all__ = [
    "actions",
    "appendix",
    "cause",
    "follow_ups",
    "link",
    "pull_request",
    "root_cause",
    "timeline",
    "where",
]

_SHORT = 12
_PHASES = {
    "signal": "detection",
    "incident": "incident",
    "diagnosis": "diagnosis",
    "plan": "plan",
    "approval": "approval",
    "execution": "action",
    "undo": "undo",
    "follow-up": "follow-up",
    "verification": "verification",
    "postmortem": "post-mortem",
}
_PR = re.compile(r"opened pull request (\S+) \(branch ([^)]+)\)")


def where(incident: Incident) -> str:
    service = text(incident.service) if incident.service else "an unknown service"
    return f"{service} in {text(incident.namespace)}" if incident.namespace else service


def cause(rc: RootCause) -> str:
    change = f", introduced by {text(rc.change)}" if rc.change else ""
    return f"{rc.category.value.replace('_', ' ')} of {text(rc.service)}{change}"


def timeline(record: PostmortemRecord) -> str:
    if not record.timeline:
        return "## Timeline\n\nNo events were recorded."
    clock = " (simulated clock)" if record.time_scale != 1 else ""
    rows = [f"| Time (UTC){clock} | Phase | Who | What |", "|---|---|---|---|"]
    for entry in sorted(record.timeline, key=lambda e: e.at):
        phase = _PHASES.get(entry.kind, entry.kind)
        rows.append(
            f"| {_utc(entry.at)} | {text_cell(phase, 40)} | {text_cell(entry.actor, 80)} "
            f"| {text_cell(humanize(entry.message))} |"
        )
    return "## Timeline\n\n" + "\n".join(rows)


def root_cause(record: PostmortemRecord, drawn: Mapping[str, Series], chart_dir: str) -> str:
    head = "## Root cause"
    diagnosis = record.diagnosis
    if diagnosis is None:
        return f"{head}\n\nNo diagnosis was made."
    top = diagnosis.top
    lines = [head, ""]
    if top is None:
        lines.append(f"No hypothesis explained the signals: {text(diagnosis.summary)}")
    else:
        lines += [
            f"**{cause(top.root_cause).capitalize()}**"
            + (f" (fault: {text(top.fault)})" if top.fault else ""),
            "",
            text(top.explanation),
        ]
    cited = _cited(record)
    lines += ["", "### Evidence that decided it", ""]
    lines += [_evidence_item(e) for e in cited] or ["No evidence was cited."]
    if drawn:
        lines += ["", "### Charts", ""]
        lines.append(
            "Onset, actions and recovery are marked; the dashed red line is the limit "
            "verification checks against."
        )
        for name, series in drawn.items():
            lines += ["", f"![{text(series.metric)} of {text(series.service)}]({chart_dir}{name})"]
    return "\n".join(lines)


def actions(record: PostmortemRecord) -> str:
    head = "## What was done"
    plan = record.plan
    if plan is None:
        return f"{head}\n\nNo plan was made."
    # The plan's rationale restates the root cause: it is in the appendix.
    lines = [head, ""]
    lines += [
        "| Action | Target | Risk | Command | Outcome |",
        "|---|---|---|---|---|",
    ]
    for action in plan.immediate:
        lines.append(_action_row(action, record.executions))
    for e in record.executions:
        if ":undo:" in e.idempotency_key:
            lines.append(
                f"| undo: {e.action.kind.value} | {text_cell(e.action.target, 80)} "
                f"| {e.action.risk.value} | {cell(e.action.command or '-')} "
                f"| {e.status.value}: {text_cell(e.detail)} |"
            )
    lines += ["", "Decisions:", ""]
    decided = [a for a in record.approvals if a.plan_hash == plan.hash] or list(record.approvals)
    if not decided:
        lines.append("- No decision was recorded.")
    for a in decided:
        reason = f": {text(a.reason)}" if a.reason else ""
        lines.append(
            f"- {_utc(a.at)} UTC: plan {code(a.plan_hash[:_SHORT])} {a.decision.value} by "
            f"**{text(a.actor, 80)}** via {text(a.channel, 40)}{reason}"
        )
    return "\n".join(lines)


def pull_request(execution: Execution) -> str:
    """The revert pull request, linked only when it is a real (http) one."""
    found = _PR.search(execution.detail)
    if found is None:
        return f"{execution.status.value}: {text(execution.detail)}"
    url, branch = found.group(1), found.group(2)
    if url.startswith(("https://", "http://")):
        return link(url)
    return (
        f"branch {code(branch)} in a local repository, not a pull request yet "
        "(no code host is configured): a human pushes it and opens the pull request"
    )


def link(url: str) -> str:
    """A link to `url` (a code host's or a wiki's answer) if it is http(s), else text."""
    if not url.startswith(("https://", "http://")):
        return text(url)
    target = url.replace("<", "%3C").replace(">", "%3E").replace(" ", "%20")
    return f"[{text(url)}](<{target}>)"


def follow_ups(record: PostmortemRecord) -> str:
    items: list[str] = []
    plan = record.plan
    for action in plan.long_term if plan else ():
        runs = [e for e in record.executions if e.action == action]
        if action.kind is ActionKind.REVERT_PR and runs:
            state = pull_request(runs[-1])
        else:
            state = f"{runs[-1].status.value}: {text(runs[-1].detail)}" if runs else "to do"
        items.append(f"{action.kind.value} of {text(action.target or '-')}: {state}")
    for action in plan.immediate if plan else ():
        if action.kind is ActionKind.ESCALATE:
            items.append(f"A human takes over: {text(action.reason)}")
    items += [
        f"Failed action {e.action.kind.value} of {text(e.action.target)}: {text(e.detail)}"
        for e in record.executions
        if e.status is ExecutionStatus.FAILED
    ]
    items += [f"Open question: {q}" for q in _open_questions(record)]
    body = "\n".join(f"- [ ] {item}" for item in items) if items else "None."
    return f"## Follow-ups\n\n{body}"


def appendix(record: PostmortemRecord) -> str:
    lines = ["## Appendix", "", "### Other evidence", ""]
    diagnosis = record.diagnosis
    cited = {e.id for e in _cited(record)}
    rest = [e for e in (diagnosis.evidence if diagnosis else ()) if e.id not in cited]
    if rest:
        lines += ["| Id | Source | Summary | Query |", "|---|---|---|---|"]
        lines += [
            f"| {text_cell(e.id, 60)} | {text_cell(e.source, 40)} "
            f"| {text_cell(humanize(e.summary, e.series[0].unit if e.series else ''))} "
            f"| {cell(e.query, 200)} |"
            for e in rest
        ]
    else:
        lines.append("None.")
    lines += ["", "### Other hypotheses", ""]
    others = list(diagnosis.hypotheses[1:]) if diagnosis else []
    lines += [
        f"- {cause(h.root_cause)}, score {h.score:.2f}: {text(h.explanation)}" for h in others
    ]
    lines += [f"- {text(why)}" for why in (diagnosis.rejected if diagnosis else ())]
    if not others and not (diagnosis and diagnosis.rejected):
        lines.append("None.")
    if record.plan is not None:
        lines += ["", "### Plan rationale", "", text(record.plan.rationale)]
    v = record.verification
    lines += ["", "### Verification", ""]
    if v is None:
        lines.append("Recovery was not verified.")
    else:
        lines.append(f"{v.outcome.value} at {_utc(v.checked_at)} UTC: {text(humanize(v.detail))}")
        if v.observations:
            lines += ["", "| Observation | Value |", "|---|---|"]
            for key, value in sorted(v.observations.items()):
                lines.append(f"| {text_cell(key, 120)} | {text_cell(_observed(key, value))} |")
    return "\n".join(lines)


def _cited(record: PostmortemRecord) -> list[Evidence]:
    diagnosis = record.diagnosis
    top = diagnosis.top if diagnosis else None
    if diagnosis is None or top is None:
        return []
    by_id = {e.id: e for e in diagnosis.evidence}
    return [by_id[i] for i in top.evidence_ids if i in by_id]


def _evidence_item(e: Evidence) -> str:
    query = f" (query {code(e.query, 200)})" if e.query else ""
    summary = humanize(e.summary, e.series[0].unit if e.series else "")
    return f"- **{text(e.id, 60)}** ({text(e.source, 40)}): {text(summary)}{query}"


def _action_row(action: Action, executions: tuple[Execution, ...]) -> str:
    runs = [e for e in executions if e.action == action and ":undo:" not in e.idempotency_key]
    if runs:
        last = runs[-1]
        outcome = last.status.value + (
            f": {text_cell(humanize(last.detail))}" if last.detail else ""
        )
    else:
        outcome = "not executed"
    return (
        f"| {action.kind.value} | {text_cell(action.target or '-', 80)} | {action.risk.value} "
        f"| {cell(action.command) if action.command else 'none'} | {outcome} |"
    )


def _open_questions(record: PostmortemRecord) -> list[str]:
    questions = []
    d, v = record.diagnosis, record.verification
    if d is None or d.top is None:
        questions.append("What caused it? medic could not tell.")
    elif not d.conclusive:
        questions.append(
            f"Is {cause(d.top.root_cause)} right? The diagnosis was not conclusive "
            f"(confidence {d.confidence:.0%})."
        )
    if v is not None and v.outcome is not VerificationOutcome.RECOVERED:
        questions.append(f"Has it recovered? Verification said {v.outcome.value}: check by hand.")
    if d and d.missing:
        missing = "; ".join(text(m) for m in d.missing)
        questions.append(f"What did the sources medic could not read show? ({missing})")
    return questions


def _observed(key: str, value: object) -> str:
    if isinstance(value, int | float) and not isinstance(value, bool):
        metric = key.split(".")[1] if key.count(".") >= 2 else key
        unit = {
            "memory_working_set_bytes": "bytes",
            "memory_limit_bytes": "bytes",
            "error_ratio": "ratio",
            "latency_p99_seconds": "seconds",
            "cpu_usage_cores": "cores",
            "request_rate": "requests/s",
        }.get(metric, "")
        return quantity(value, unit)
    return "none" if value is None else str(value)


def _utc(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
