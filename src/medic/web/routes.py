"""The UI's routes under /ui: sign-in, the incident list and page, approve and reject.

Every page but the sign-in form needs a session (any role may read); a request without
one is sent to the sign-in form (a POST decides nothing). Deciding needs the approver
role: a viewer's decision is refused with a 403. Every form that changes something carries the
session's CSRF token. A decision the gate refuses (stale plan hash, already decided) is
shown on the incident page with a 4xx status, never as a server error.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import parse_qs, quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from medic.credentials import Credentials, TrustedProxy
from medic.domain import (
    Approval,
    ApprovalDecision,
    ConflictError,
    InvalidInputError,
    MedicError,
    NotFoundError,
)
from medic.domain.access import Role
from medic.domain.audit import FIRST_APPROVAL
from medic.store import Store
from medic.web import session as sessions
from medic.web.html import Markup, esc, page
from medic.web.incident_page import IncidentView, render_incident
from medic.web.pages import render_list
from medic.web.postmortem_page import render_postmortem_page
from medic.web.signin import Desk, render_signin

__all__ = ["Decide", "WebContext", "web_router"]

# (incident_id, plan_hash, decision, actor, channel, reason) -> the recorded approval
Decide = Callable[[str, str, ApprovalDecision, str, str, str], Approval]

MAX_FORM_BYTES = 64 * 1024
_HEADERS = {
    # No script may run at all: the pages need none, and injected markup gets none.
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
_DONE = {
    "approved": "Plan approved: medic will act on it now.",
    "rejected": "Plan rejected.",
    "pending": "Your approval is recorded. This high-risk plan needs a second approver: "
    "medic acts once another person approves it.",
}
_STATUS: tuple[tuple[type[MedicError], int], ...] = (
    (NotFoundError, 404),
    (ConflictError, 409),
    (InvalidInputError, 422),
    (MedicError, 503),
)


def _default_decide() -> Decide:
    from medic.workflows.approvals import decide

    return decide


@dataclass(frozen=True)
class WebContext:
    store: Store
    credentials: Credentials
    decide: Decide = field(default_factory=_default_decide)
    session_seconds: float = 12 * 3600.0
    secure_cookie: bool = False  # set when medic is served over HTTPS
    # Sessions expire in human time, not in the (possibly accelerated) watched system's.
    wall_clock: Callable[[], float] = time.time
    proxy: TrustedProxy | None = None  # a reverse proxy that names its signed-in users


def web_router(ctx: WebContext) -> APIRouter:
    """The UI's routes; include it in the FastAPI app: `app.include_router(web_router(ctx))`."""
    ui = _Ui(ctx)
    router = APIRouter(prefix="/ui", include_in_schema=False)
    router.add_api_route("/login", ui.login_form, methods=["GET"])
    router.add_api_route("/login", ui.login, methods=["POST"])
    router.add_api_route("/logout", ui.logout, methods=["POST"])
    router.add_api_route("", ui.incidents, methods=["GET"])
    router.add_api_route("/incidents/{incident_id}", ui.incident, methods=["GET"])
    router.add_api_route("/incidents/{incident_id}/postmortem", ui.postmortem, methods=["GET"])
    router.add_api_route("/incidents/{incident_id}/approve", ui.approve, methods=["POST"])
    router.add_api_route("/incidents/{incident_id}/reject", ui.reject, methods=["POST"])
    return router


class _Ui:
    def __init__(self, ctx: WebContext) -> None:
        self.ctx = ctx
        self.key = sessions.session_key(ctx.credentials)
        self.desk = Desk(ctx.credentials, ctx.store.users)

    def current(self, request: Request) -> sessions.Session | None:
        cookie = request.cookies.get(sessions.COOKIE)
        found = sessions.open_session(cookie, self.key, self.ctx.wall_clock(), self.desk.resolve)
        if found is None and self.ctx.proxy is not None:
            return self.desk.proxied(request, self.ctx.proxy, self.key, self.ctx.wall_clock())
        return found

    def login_form(self, next: str = "/ui") -> Response:
        return _html(page("Sign in", render_signin(_safe_next(next))))

    async def login(self, request: Request) -> Response:
        ctx = self.ctx
        form = await _form(request)
        signed = await run_in_threadpool(self.desk.sign_in, form)
        target = _safe_next(form.get("next", "/ui"))
        if signed is None:
            problem = "Wrong name or password, or a token that belongs to no medic user."
            return _html(page("Sign in", render_signin(target, problem)), 401)
        new = sessions.new_session(
            signed.user, ctx.wall_clock(), ctx.session_seconds, signed.via, signed.fingerprint
        )
        response = _redirect(target)
        response.set_cookie(
            sessions.COOKIE,
            sessions.seal(new, self.key),
            max_age=int(ctx.session_seconds),
            path="/ui",
            httponly=True,
            samesite="strict",
            secure=ctx.secure_cookie,
        )
        return response

    async def logout(self, request: Request) -> Response:
        form = await _form(request)
        s = self.current(request)
        if s is not None and not s.csrf_ok(form.get("csrf", "")):
            return _forbidden(s)
        response = _redirect("/ui/login")
        response.delete_cookie(sessions.COOKIE, path="/ui")
        return response

    def incidents(self, request: Request) -> Response:
        s = self.current(request)
        if s is None:
            return _to_login(request)
        listed = self.ctx.store.list_incidents(limit=200)
        return _html(page("Incidents", render_list(listed), s.user, s.csrf))

    def incident(self, request: Request, incident_id: str, done: str = "") -> Response:
        s = self.current(request)
        if s is None:
            return _to_login(request)
        flash = Markup("")
        if done in _DONE:
            flash = Markup(f'<div class="flash ok">{esc(_DONE[done])}</div>')
        return _incident_page(self.ctx, s, incident_id, flash, 200)

    def postmortem(self, request: Request, incident_id: str) -> Response:
        s = self.current(request)
        if s is None:
            return _to_login(request)
        store = self.ctx.store
        try:
            found = store.get_incident(incident_id)
        except NotFoundError as e:
            return _html(page("Not found", _problem(str(e)), s.user, s.csrf), 404)
        written = store.postmortem(incident_id)
        if written is None:
            body = _problem("no post-mortem has been written for this incident yet")
            return _html(page("Post-mortem", body, s.user, s.csrf), 404)
        return _html(page("Post-mortem", render_postmortem_page(found, written), s.user, s.csrf))

    async def approve(self, request: Request, incident_id: str) -> Response:
        return await self.decision(request, incident_id, ApprovalDecision.APPROVED)

    async def reject(self, request: Request, incident_id: str) -> Response:
        return await self.decision(request, incident_id, ApprovalDecision.REJECTED)

    async def decision(
        self, request: Request, incident_id: str, kind: ApprovalDecision
    ) -> Response:
        s = self.current(request)
        if s is None:
            return _redirect(f"/ui/login?next={quote(f'/ui/incidents/{incident_id}')}")
        form = await _form(request)
        if not s.csrf_ok(form.get("csrf", "")):
            return _forbidden(s)
        if not s.allows(Role.APPROVER):
            return _forbidden(s, f"{s.user} is a {s.role.value}: deciding needs an approver.")
        reason = form.get("reason", "").strip()
        plan_hash = form.get("plan_hash", "")
        try:
            if kind is ApprovalDecision.REJECTED and not reason:
                raise InvalidInputError("a rejection needs a reason")
            recorded = await run_in_threadpool(
                self.ctx.decide, incident_id, plan_hash, kind, s.user, "web", reason
            )
        except MedicError as e:
            status = next(code for cls, code in _STATUS if isinstance(e, cls))
            flash = Markup(f'<div class="flash bad">Not recorded: {esc(e)}</div>')
            return await run_in_threadpool(_incident_page, self.ctx, s, incident_id, flash, status)
        return _redirect(f"/ui/incidents/{quote(incident_id)}?done={recorded.decision.value}")


def _incident_page(
    ctx: WebContext, s: sessions.Session, incident_id: str, flash: Markup, status: int
) -> Response:
    store = ctx.store
    try:
        found = store.get_incident(incident_id)
    except NotFoundError as e:
        return _html(page("Not found", Markup(flash + _problem(str(e))), s.user, s.csrf), 404)
    plan = store.plan(incident_id)
    view = IncidentView(
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
    )
    return _html(page(found.title, render_incident(view, s.csrf, flash), s.user, s.csrf), status)


def _problem(message: str) -> Markup:
    return Markup(
        f'<div class="flash bad">{esc(message)}</div><p><a href="/ui">All incidents</a></p>'
    )


def _html(document: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(document, status_code=status, headers=_HEADERS)


def _redirect(target: str) -> RedirectResponse:
    return RedirectResponse(target, status_code=303, headers=_HEADERS)


def _to_login(request: Request) -> Response:
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return _redirect(f"/ui/login?next={quote(_safe_next(here))}")


_STALE = "The form was stale or forged (CSRF check failed); reload the page and retry."


def _forbidden(s: sessions.Session, why: str = _STALE) -> Response:
    body = _problem(why)
    return _html(page("Refused", body, s.user, s.csrf), 403)


def _safe_next(target: str) -> str:
    """Only a path inside the UI: a sign-in link must not redirect anywhere else."""
    if target.startswith("/ui") and not target.startswith("//") and "\\" not in target:
        return target
    return "/ui"


async def _form(request: Request) -> dict[str, str]:
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        return {}
    parsed = parse_qs(body.decode("utf-8", errors="replace"), keep_blank_values=True)
    return {k: v[0] for k, v in parsed.items() if v}
