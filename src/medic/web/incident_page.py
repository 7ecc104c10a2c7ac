"""The incident page: state, diagnosis, charts, plan, then the decision, outcome, timeline.

Pure rendering from domain objects to escaped HTML; the routes load them from the store.
The parts that change while the incident runs are wrapped in `data-live` blocks, which
the console's script replaces with the fragments of `/ui/incidents/{id}/live`.
"""

from __future__ import annotations

from collections.abc import Sequence

from medic.domain import Action, Criterion, Diagnosis, Evidence, Plan, TimelineEntry
from medic.web.agent_review import agent_card
from medic.web.charts import series_chart
from medic.web.decision import banner, decision_box, progress
from medic.web.html import Markup, badge, esc, table, when
from medic.web.incident_view import FEATURED_CHARTS, ChartSpec, IncidentView
from medic.web.units import format_value, metric_unit

__all__ = ["IncidentView", "live_sections", "render_charts", "render_incident"]

_NOTHING = Markup("")


def _head(view: IncidentView) -> Markup:
    inc = view.incident
    return Markup(
        f"<h1>{esc(inc.title)}</h1>"
        f'<div class="meta"><span class="hash" id="incident-id">{esc(inc.id)}</span>'
        f'<span id="state">{badge(view.shown_state)}</span>'
        f"{badge(inc.severity.value)}<span>{esc(inc.service or '—')} in "
        f"{esc(inc.namespace or '—')}</span><span>opened {when(inc.opened_at)}</span>"
        f"<span>updated {when(inc.updated_at)}</span></div>"
    )


def live_sections(view: IncidentView, csrf: str, can_decide: bool = True) -> dict[str, Markup]:
    """The fragments that change while the incident runs, by their `data-live` name
    (the decision forms only for a user who `can_decide`)."""
    return {
        "head": _head(view),
        "banner": banner(view),
        "diagnosis": Markup(_diagnosis(view.diagnosis) + agent_card(view.diagnosis)),
        "plan": _plan(view.plan),
        "decision": decision_box(view, csrf, can_decide),
        "progress": progress(view),
        "evidence": _evidence(view.diagnosis),
        "outcome": _outcome(view),
        "timeline": _timeline(view.timeline),
    }


def _live(name: str, fragment: Markup) -> str:
    return f'<div data-live="{name}">{fragment}</div>'


def render_incident(
    view: IncidentView,
    csrf: str,
    charts: Sequence[ChartSpec],
    flash: Markup = _NOTHING,
    can_decide: bool = True,
) -> Markup:
    live = live_sections(view, csrf, can_decide)
    inc = view.incident
    return Markup(
        f'<div id="incident" data-incident="{esc(inc.id)}" data-version="{esc(view.version)}">'
        + _live("head", live["head"])
        + flash
        + _live("banner", live["banner"])
        + _live("diagnosis", live["diagnosis"])
        + _live("charts", render_charts(view.diagnosis, charts))
        + _live("plan", live["plan"])
        + _live("decision", live["decision"])
        + _live("progress", live["progress"])
        + _live("evidence", live["evidence"])
        + _live("outcome", live["outcome"])
        + _live("timeline", live["timeline"])
        + "</div>"
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
    rows = [(e.id, e.source, e.summary, _query_cell(e)) for e in evidence]
    return table(["id", "source", "what it showed", "query"], rows, cls="evidence")


def _query_cell(e: Evidence) -> Markup:
    """The exact query and, when the source has one, a link to its own graph of it (only
    http(s): an alert's generator URL is text from the watched system)."""
    cell = f"<code>{esc(e.query)}</code>"
    for key, label in (("graph_url", "graph"), ("generator_url", "alert source")):
        url = e.data.get(key)
        if isinstance(url, str) and url.startswith(("http://", "https://")):
            cell += f' <a href="{esc(url)}" rel="noreferrer noopener" target="_blank">{label}</a>'
    return Markup(cell)


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


def render_charts(diagnosis: Diagnosis | None, specs: Sequence[ChartSpec]) -> Markup:
    if diagnosis is None or not specs:
        return Markup("")
    figures = [
        series_chart(
            sp.series,
            diagnosis.onset,
            sp.threshold,
            caption=f"{sp.evidence.id}{' (cited)' if sp.cited else ''}",
            limit=sp.limit,
            markers=sp.markers,
        )
        for sp in specs
    ]
    shown, more = figures[:FEATURED_CHARTS], figures[FEATURED_CHARTS:]
    fold = (
        f"<details><summary>{len(more)} more series</summary>"
        f'<div class="charts">{"".join(more)}</div></details>'
        if more
        else ""
    )
    return Markup(
        '<section class="card" id="charts"><h2>Evidence series</h2>'
        '<p class="muted">Shaded: the anomaly window from the onset the diagnosis found. '
        "Red line: the limit; dashed green: the recovery bound the plan verifies; vertical "
        "lines: deploys, the approval, the action and the verification. The charts keep "
        "going through the verification. Hover a chart (or focus it and use the arrow keys) "
        f'to read a value.</p><div class="charts">{"".join(shown)}</div>'
        f"{fold}</section>"
    )


def _criterion(c: Criterion) -> Markup:
    unit = metric_unit(c.metric)
    bounds = [f"≤ {format_value(c.upper, unit)}" if c.upper is not None else ""]
    bounds.append(f"≥ {format_value(c.lower, unit)}" if c.lower is not None else "")
    window = (
        f"{c.window_seconds / 60:.0f} min"
        if c.window_seconds >= 60
        else f"{c.window_seconds:.0f} s"
    )
    return Markup(
        f"<li><code>{esc(c.service)}</code> {esc(c.metric)} "
        f"<b>{esc(' and '.join(b for b in bounds if b))}</b> within {esc(window)}</li>"
    )


def _action(a: Action) -> Markup:
    criteria = "".join(_criterion(c) for c in a.verification)
    return Markup(
        f"<h3>{esc(a.kind.value)} <code>{esc(a.target)}</code> in <code>{esc(a.namespace)}</code> "
        f"{badge(a.risk.value)}</h3><p>{esc(a.reason)}</p>"
        + (f'<pre class="cmd">{esc(a.command)}</pre>' if a.command else "")
        + (f'<p class="muted">undo: <code>{esc(a.undo)}</code></p>' if a.undo else "")
        + (f"<p>verified by:</p><ul>{criteria}</ul>" if criteria else "")
    )


def _plan(plan: Plan | None) -> Markup:
    if plan is None:
        return Markup(
            '<section class="card" id="plan"><h2>Plan</h2><p class="muted">not yet</p></section>'
        )
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
    postmortem = (
        Markup(
            f'<p><a class="button" id="postmortem-link" '
            f'href="/ui/incidents/{esc(view.incident.id)}/postmortem">Read the post-mortem</a></p>'
        )
        if view.postmortem
        else Markup('<p class="muted">The post-mortem is written when the incident ends.</p>')
    )
    return Markup(
        '<section class="card"><h2>Decisions and actions</h2>'
        f"<h3>Approvals</h3>{approvals}<h3>Executions</h3>{executions}"
        f"<h3>Post-mortem</h3>{postmortem}</section>"
    )


def _timeline(entries: Sequence[TimelineEntry]) -> Markup:
    rows = ((when(t.at), t.kind, t.actor, t.message) for t in entries)
    # Newest last, like a log; the table wraps at spaces, never inside a word.
    return Markup(
        '<section class="card"><h2>Timeline</h2>'
        f"{table(['time', 'kind', 'actor', 'event'], rows, cls='timeline')}</section>"
    )
