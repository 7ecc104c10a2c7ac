"""The small pages: the incident list, a post-mortem as escaped text."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from medic.domain import Incident, IncidentState, Postmortem, Severity
from medic.web.html import Markup, badge, esc, when

__all__ = [
    "ListFilter",
    "age",
    "list_note",
    "list_rows",
    "render_list",
    "render_login",
    "render_postmortem",
]

_COLUMNS = ("id", "status", "severity", "service", "age", "title")


def render_login(next_path: str, error: str = "") -> Markup:
    problem = f'<div class="flash bad">{esc(error)}</div>' if error else ""
    return Markup(
        '<section class="card login"><h1>Sign in to medic</h1>'
        "<p class=muted>Use your medic API token (the same one the CLI uses; "
        "see <code>users</code> in the settings or <code>credentials.json</code>).</p>"
        f'{problem}<form method="post" action="/ui/login">'
        f'<input type="hidden" name="next" value="{esc(next_path)}">'
        '<label for="token">Token</label>'
        '<input id="token" type="password" name="token" autocomplete="current-password" '
        "required autofocus>"
        '<button class="approve" type="submit">Sign in</button></form></section>'
    )


@dataclass(frozen=True)
class ListFilter:
    """The incident list's filters, from the query string (`?status=&severity=&service=&q=`)."""

    status: str = ""
    severity: str = ""
    service: str = ""
    q: str = ""

    @classmethod
    def of(cls, params: Mapping[str, str]) -> ListFilter:
        def get(key: str) -> str:
            return str(params.get(key, ""))[:200].strip()

        return cls(get("status"), get("severity"), get("service"), get("q"))

    def keeps(self, i: Incident) -> bool:
        if self.status and i.state.value != self.status:
            return False
        if self.severity and i.severity.value != self.severity:
            return False
        if self.service and (i.service or "") != self.service:
            return False
        if self.q:
            text = " ".join((i.id, i.title, i.service or "", i.namespace or "")).lower()
            return all(word in text for word in self.q.lower().split())
        return True


def age(since: datetime, now: datetime) -> str:
    """How long ago, as a person says it: `45 s`, `12 min`, `3 h 5 min`, `2 d 4 h`."""
    seconds = max((now - since).total_seconds(), 0.0)
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes = int(seconds // 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h"


def list_rows(incidents: Sequence[Incident], chosen: ListFilter, now: datetime) -> Markup:
    """The table's rows (the console's script swaps them in as they change)."""
    kept = [i for i in incidents if chosen.keeps(i)]
    if not kept:
        return Markup('<tr><td colspan="6" class="muted">no incident matches</td></tr>')
    return Markup(
        "".join(
            f'<tr data-state="{esc(i.state.value)}">'
            f'<td class="id"><a href="/ui/incidents/{esc(i.id)}">{esc(i.id)}</a></td>'
            f"<td>{badge(i.state.value)}</td><td>{badge(i.severity.value)}</td>"
            f"<td>{esc(i.service or '—')}<span class=muted> / {esc(i.namespace or '—')}</span></td>"
            f'<td title="{when(i.opened_at)}">{esc(age(i.opened_at, now))}</td>'
            f'<td><a href="/ui/incidents/{esc(i.id)}">{esc(i.title)}</a></td></tr>'
            for i in kept
        )
    )


def list_note(incidents: Sequence[Incident], chosen: ListFilter) -> str:
    shown = sum(1 for i in incidents if chosen.keeps(i))
    waiting = sum(1 for i in incidents if i.state is IncidentState.AWAITING_APPROVAL)
    wait = f"{waiting} waiting for a decision" if waiting else "none waiting for a decision"
    return f"{shown} of {len(incidents)} shown, newest first · {wait}"


def _select(name: str, label: str, options: Sequence[str], chosen: str) -> str:
    items = "".join(
        f'<option value="{esc(o)}"{" selected" if o == chosen else ""}>'
        f"{esc(o.replace('_', ' ') or 'any')}</option>"
        for o in ("", *options)
    )
    return f'<label>{esc(label)} <select name="{name}" id="f-{name}">{items}</select></label>'


def render_list(incidents: Sequence[Incident], chosen: ListFilter, now: datetime) -> Markup:
    services = sorted({i.service for i in incidents if i.service})
    filters = (
        '<form class="filters" method="get" action="/ui" role="search" id="filters">'
        + _select("status", "Status", [s.value for s in IncidentState], chosen.status)
        + _select("severity", "Severity", [s.value for s in Severity], chosen.severity)
        + _select("service", "Service", services, chosen.service)
        + '<label>Search <input type="search" name="q" id="f-q" '
        f'value="{esc(chosen.q)}" placeholder="id, title, service"></label>'
        '<button class="primary" type="submit">Filter</button>'
        '<a href="/ui">clear</a></form>'
    )
    head = "".join(f"<th>{esc(h)}</th>" for h in _COLUMNS)
    return Markup(
        '<h1>Incidents</h1><section class="card">'
        f'{filters}<p class="muted" id="list-note" aria-live="polite">'
        f"{esc(list_note(incidents, chosen))} · updates live</p>"
        f'<table class="incidents" id="incidents"><thead><tr>{head}</tr></thead>'
        f'<tbody data-live="rows">{list_rows(incidents, chosen, now)}</tbody></table>'
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
