"""The audit log page and the policy page with the kill switch (pause / resume forms).

The kill switch flips the same stored state as `medic pause` and `POST /control/pause`
(every replica stops acting); each flip is an audit entry naming the signed-in user.
Who may flip it is the API's rule (any signed-in user today).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from medic.action import Policy
from medic.action.audit import verify_chain
from medic.domain.audit import AuditEntry
from medic.store.control import PauseState
from medic.web.html import Markup, badge, esc, page, when

if TYPE_CHECKING:
    from medic.web.routes import Ui

__all__ = ["add_control_routes", "render_audit", "render_control"]

_AUDIT_LIMIT = 500


def _data(entry: AuditEntry) -> str:
    return ", ".join(f"{k}={v}" for k, v in entry.data.items() if v not in (None, ""))


def render_audit(entries: list[AuditEntry], intact: str, incident: str) -> Markup:
    rows = "".join(
        f"<tr><td>{e.seq}</td><td class=nowrap>{when(e.at)}</td><td>{esc(e.actor)}</td>"
        f"<td>{esc(e.kind.value)}</td><td>{badge(e.outcome)}</td><td>"
        + (
            f'<a href="/ui/incidents/{esc(e.incident_id)}">{esc(e.incident_id)}</a>'
            if e.incident_id
            else "—"
        )
        + f'</td><td>{esc(_data(e))}</td><td class="hash" title="{esc(e.hash)}">'
        f"{esc(e.hash[:12])}</td></tr>"
        for e in entries
    )
    scope = f" of incident {esc(incident)}" if incident else ""
    return Markup(
        f"<h1>Audit log{scope}</h1>"
        f'<p class="muted">Newest first, append-only and hash-chained. {esc(intact)}</p>'
        '<form class="filters" method="get" action="/ui/audit" role="search">'
        '<label>Incident <input type="search" name="incident" '
        f'value="{esc(incident)}" placeholder="incident id"></label>'
        '<button class="primary" type="submit">Show</button><a href="/ui/audit">all</a></form>'
        '<section class="card"><table class="audit"><thead><tr><th>#</th><th>when</th>'
        "<th>actor</th><th>kind</th><th>outcome</th><th>incident</th><th>data</th>"
        f"<th>hash</th></tr></thead><tbody>{rows or _NONE}</tbody></table></section>"
    )


_NONE = '<tr><td colspan="8" class="muted">no entries</td></tr>'


def _switch(state: PauseState, csrf: str) -> str:
    hidden = f'<input type="hidden" name="csrf" value="{esc(csrf)}">'
    if state.paused:
        status = (
            f"<p>{badge('paused')} <b>medic executes nothing anywhere</b> since "
            f"{when(state.at)}, paused by <b>{esc(state.actor)}</b>: {esc(state.reason or '—')}</p>"
        )
        verb, label, cls = "resume", "Resume actions", "approve"
    else:
        status = f"<p>{badge('active')} medic may act within the policy below.</p>"
        verb, label, cls = "pause", "Pause every action", "reject"
    return (
        '<section class="card" id="kill-switch"><h2>Kill switch</h2>'
        f'{status}<form method="post" action="/ui/control/{verb}">{hidden}'
        f'<label for="why">Why (recorded in the audit log)</label> '
        f'<input type="text" id="why" name="reason" maxlength="500"> '
        f'<button class="{cls}" id="{verb}" type="submit">{label}</button></form></section>'
    )


def render_control(state: PauseState, policy: Policy | None, csrf: str) -> Markup:
    if policy is None:
        rules = '<p class="muted">no policy loaded in this process</p>'
    else:
        document = json.dumps(policy.document.model_dump(mode="json", exclude_none=True), indent=2)
        auto = ", ".join(sorted(a.value for a in policy.auto_actions)) or "none"
        rules = (
            f"<p>default autonomy <b>{esc(policy.autonomy)}</b> · actions allowed without "
            f"asking: <b>{esc(auto)}</b></p><h3>Policy document</h3>"
            f'<pre class="policy">{esc(document)}</pre>'
        )
    return Markup(
        "<h1>Policy and kill switch</h1>"
        + _switch(state, csrf)
        + f'<section class="card" id="policy"><h2>Policy</h2>{rules}</section>'
    )


def add_control_routes(router: APIRouter, ui: Ui) -> None:
    from medic.web.routes import forbidden, html_response, read_form, redirect, to_login

    def audit(request: Request, incident: str = "") -> Response:
        s = ui.current(request)
        if s is None:
            return to_login(request)
        log = ui.ctx.store.audit
        chosen = incident.strip()[:200]
        entries = log.recent(_AUDIT_LIMIT, chosen or None)
        report = verify_chain(log.entries(), log.head())
        intact = (
            f"Chain verified: {report.checked} entries intact."
            if report.intact
            else f"CHAIN BROKEN at entry {report.broken_seq}: {report.problem}"
        )
        body = render_audit(entries, intact, chosen)
        return html_response(page("Audit log", body, s.user, s.csrf))

    def control(request: Request) -> Response:
        s = ui.current(request)
        if s is None:
            return to_login(request)
        state = ui.ctx.store.control.pause_state()
        body = render_control(state, ui.ctx.policy, s.csrf)
        return html_response(page("Policy", body, s.user, s.csrf))

    async def flip(request: Request, paused: bool) -> Response:
        s = ui.current(request)
        if s is None:
            return redirect("/ui/login?next=/ui/control")
        form = await read_form(request)
        if not s.csrf_ok(form.get("csrf", "")):
            return forbidden(s)
        reason = form.get("reason", "").strip()[:500]
        now = ui.ctx.telemetry.current_time()
        await run_in_threadpool(ui.ctx.store.control.set_paused, paused, s.user, reason, now)
        return redirect("/ui/control")

    async def pause(request: Request) -> Response:
        return await flip(request, True)

    async def resume(request: Request) -> Response:
        return await flip(request, False)

    router.add_api_route("/audit", audit, methods=["GET"])
    router.add_api_route("/control", control, methods=["GET"])
    router.add_api_route("/control/pause", pause, methods=["POST"])
    router.add_api_route("/control/resume", resume, methods=["POST"])
