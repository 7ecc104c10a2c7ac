"""The post-mortem: one Markdown document telling what happened, why, and what was done.

Sections, in reading order: a summary a manager reads in half a minute, the impact
(wall-time duration, services, SLO budgets), the timeline, the root cause with the
evidence that decided it and charts of its key series, what was done and undone, the
follow-ups, and an appendix with the rest of the evidence.

Everything that did not originate here goes through `text` (prose, escaped where
Markdown would act) or `code` (commands, queries, log lines): the watched system cannot
add a heading, a link, an image or HTML. Charts are SVG files beside the document,
referenced as images by their file name; the console inlines them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from medic.domain import ActionKind, IncidentState, Postmortem, VerificationOutcome
from medic.scribe import sections
from medic.scribe.agent_review import agent_section
from medic.scribe.charts import charts
from medic.scribe.impact import (
    affected_services,
    budgets,
    ended_at,
    started_at,
    wall_seconds,
)
from medic.scribe.markdown import text
from medic.scribe.record import PostmortemRecord
from medic.scribe.units import duration

__all__ = ["Rendered", "build_postmortem", "render_postmortem", "utc"]

_ENDINGS = {
    IncidentState.RESOLVED: "resolved by medic's action",
    IncidentState.SELF_RESOLVED: "resolved on its own before medic acted",
    IncidentState.REJECTED: "closed: the plan was rejected",
    IncidentState.ESCALATED: "escalated to a human",
    IncidentState.CLOSED: "closed: its alerts resolved after it was escalated to a human",
}


@dataclass(frozen=True)
class Rendered:
    markdown: str
    charts: Mapping[str, str]  # file name -> SVG document


def build_postmortem(record: PostmortemRecord, path: str | None = None) -> Postmortem:
    rendered = render_postmortem(record)
    return Postmortem(
        incident_id=record.incident.id,
        title=f"Post-mortem: {record.incident.title}",
        markdown=rendered.markdown,
        path=path,
        charts=dict(rendered.charts),
        links=dict(record.published),
    )


def render_postmortem(record: PostmortemRecord, chart_dir: str = "") -> Rendered:
    """The post-mortem of `record`; missing parts are said to be missing. Charts are
    referenced as `chart_dir` + file name (the folder beside the Markdown file)."""
    drawn = charts(record)
    parts = [
        _header(record),
        _summary(record),
        _impact(record),
        sections.timeline(record),
        sections.root_cause(record, {n: s for n, (s, _) in drawn.items()}, chart_dir),
        agent_section(record.diagnosis),
        sections.actions(record),
        sections.follow_ups(record),
        sections.appendix(record),
    ]
    markdown = "\n\n".join(p.rstrip() for p in parts if p) + "\n"
    return Rendered(markdown, {name: svg for name, (_, svg) in drawn.items()})


def utc(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def _header(record: PostmortemRecord) -> str:
    i = record.incident
    where = sections.where(i)
    published = [
        f"{text(name)}: {sections.link(url)}" for name, url in sorted(record.published.items())
    ]
    also = [f"Published to {', '.join(published)}."] if published else []
    return "\n\n".join(
        [
            f"# Post-mortem: {text(i.title, 160)}",
            f"**{i.severity.value.capitalize()}** incident {text(i.id)} on {where} · "
            f"state **{i.state.value}** · opened {utc(i.opened_at)} UTC · "
            f"last update {utc(ended_at(record))} UTC"
            + (" (simulated clock)" if record.time_scale != 1 else ""),
            *also,
        ]
    )


def _summary(record: PostmortemRecord) -> str:
    i, diagnosis = record.incident, record.diagnosis
    wall = duration(wall_seconds(record, started_at(record), ended_at(record)))
    # A title that names the service already says where.
    where = "" if i.service and i.service in i.title else f" on {sections.where(i)}"
    lines = [
        f"**What happened:** {text(i.title, 160)}{where}, for {wall} (wall time); "
        f"the incident is {_ENDINGS.get(i.state, i.state.value)}."
    ]
    top = diagnosis.top if diagnosis else None
    if diagnosis is None or top is None:
        lines.append("The root cause was not determined.")
    else:
        sure = "" if diagnosis.conclusive else ", not conclusive"
        lines.append(
            f"Root cause: {sections.cause(top.root_cause)} "
            f"(confidence {diagnosis.confidence:.0%}{sure})."
        )
    lines.append(_what_was_done(record))
    return "## Summary\n\n" + " ".join(lines)


def _what_was_done(record: PostmortemRecord) -> str:
    acted = [
        e
        for e in record.executions
        if e.action.kind not in (ActionKind.ESCALATE, ActionKind.REVERT_PR)
        and ":undo:" not in e.idempotency_key
    ]
    undone = [e for e in record.executions if ":undo:" in e.idempotency_key]
    approvers = sorted({a.actor for a in record.approvals if a.decision.value == "approved"})
    if not acted:
        done = "No automated action was taken."
    else:
        names = ", ".join(f"{e.action.kind.value} of {text(e.action.target)}" for e in acted)
        who = f", approved by {', '.join(text(a) for a in approvers)}" if approvers else ""
        done = f"medic ran {names}{who}."
    if undone:
        done += f" It was undone ({len(undone)} undo action{'s' if len(undone) > 1 else ''})."
    v = record.verification
    if v is not None:
        outcome = {
            VerificationOutcome.RECOVERED: "Verification confirmed recovery.",
            VerificationOutcome.NOT_RECOVERED: "Verification found no recovery.",
            VerificationOutcome.INCONCLUSIVE: "Verification was inconclusive (no data).",
        }[v.outcome]
        done += f" {outcome}"
    return done


def _impact(record: PostmortemRecord) -> str:
    start, end = started_at(record), ended_at(record)
    wall = duration(wall_seconds(record, start, end))
    lines = [
        "## Impact",
        "",
        f"- **Duration:** {wall} of wall time, {utc(start)} to {utc(end)} UTC",
    ]
    if record.time_scale != 1:
        simulated = duration(max((end - start).total_seconds(), 0.0))
        lines[-1] += (
            f" on the sandbox's simulated clock, which ran {record.time_scale:g}x faster "
            f"({simulated} simulated)"
        )
    services = affected_services(record)
    lines.append(
        "- **Affected services:** " + (", ".join(text(s) for s in services) or "none named")
    )
    series = [s for s in record.series if s.points] or [
        s for e in (record.diagnosis.evidence if record.diagnosis else ()) for s in e.series
    ]
    spent = budgets(record, series)
    for b in spent:
        lines.append(
            f"- **Users affected ({text(b.service)}, {b.kind} budget):** "
            f"{b.spent:.1%} of the window's budget spent; {text(b.detail)}"
        )
    without = [s for s in services if s not in record.slos]
    if without and not spent:
        lines.append(
            "- **Users affected:** not measured: no SLO is configured for "
            + ", ".join(text(s) for s in without)
            + " (settings `slo`)"
        )
    return "\n".join(lines)
