"""The small pages: the incident list, a post-mortem as escaped text."""

from __future__ import annotations

from collections.abc import Sequence

from medic.domain import Incident, Postmortem
from medic.web.html import Markup, badge, esc, table, when

__all__ = ["render_list", "render_postmortem"]

_COLUMNS = ("incident", "state", "severity", "service / namespace", "opened", "updated")


def render_list(incidents: Sequence[Incident]) -> Markup:
    rows = (
        (
            Markup(f'<a href="/ui/incidents/{esc(i.id)}">{esc(i.title)}</a>'),
            badge(i.state.value),
            badge(i.severity.value),
            f"{i.service or '—'} / {i.namespace or '—'}",
            when(i.opened_at),
            when(i.updated_at),
        )
        for i in incidents
    )
    waiting = sum(1 for i in incidents if i.state.value == "awaiting_approval")
    note = f"{waiting} waiting for a decision" if waiting else "none waiting for a decision"
    return Markup(
        f'<h1>Incidents</h1><p class="muted">newest first · {esc(note)}</p>'
        '<section class="card">'
        f"{table(_COLUMNS, rows, cls='incidents')}"
        "</section>"
    )


def render_postmortem(incident: Incident, postmortem: Postmortem) -> Markup:
    # The Markdown quotes text from the watched system; shown as escaped text, never
    # rendered, so nothing in it can become markup or a link.
    return Markup(
        f'<p><a href="/ui/incidents/{esc(incident.id)}">← {esc(incident.title)}</a></p>'
        f"<h1>Post-mortem</h1>"
        + (
            f'<p class="muted">file: <code>{esc(postmortem.path)}</code></p>'
            if postmortem.path
            else ""
        )
        + '<section class="card"><pre class="postmortem">'
        + f"{esc(postmortem.markdown)}</pre></section>"
    )
