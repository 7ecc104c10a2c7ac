"""Slack's interactivity endpoint: Approve / Reject on medic's approval messages.

`POST /slack/interactivity` is the app's one Request URL: Slack sends it the button
clicks (`block_actions`) and the rejection form's submissions (`view_submission`),
each as a form-encoded `payload`. For every request:

1. Slack's signature (`X-Slack-Signature`: v0=HMAC-SHA256 of `v0:{timestamp}:{body}`
   with the app's signing secret) and timestamp (`X-Slack-Request-Timestamp`, at most
   five minutes off) are checked with `slack_sdk`'s SignatureVerifier: a forged or
   stale request gets a 401 and nothing is read from it.
2. The Slack user must map to a medic user (`users`: Slack user id -> medic name);
   an unknown user is refused, and nothing is decided.

Approve decides at once through `decide` (the approval gate: the plan hash in the
button must be the current plan's, and a plan is decided once), with channel `slack`.
A replayed or double click is refused by that gate: 409 and an ephemeral reply saying
who decided first. The message's buttons are then replaced by the decision.

Reject asks why first, as every channel does: the click opens a modal (`views.open`
with the click's trigger_id, good for three seconds) holding one required text input.
The modal's private_metadata binds it to the incident, the plan hash, the message,
the Slack user who clicked and an expiry (`form_ttl_s` after the click; Slack returns
private_metadata exactly as the app set it, in a request Slack signs). Its submission
decides through the same `decide`. A refusal is answered as Slack documents for
view submissions, `{"response_action": "errors", "errors": {block_id: text}}` with a
200, which shows the text under the reason and keeps the modal open: an empty reason,
an unknown or different user, an expired form, a stale or already decided plan.
Success is an empty 200 (Slack closes the modal), and the message shows the
rejection with its reason.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from slack_sdk.signature import Clock, SignatureVerifier
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool

from medic.domain import (
    Approval,
    ApprovalDecision,
    ConflictError,
    MedicError,
    NotFoundError,
)
from medic.log import get_logger
from medic.ports.chatops import (
    REASON_BLOCK,
    REASON_INPUT,
    REASON_MAX_CHARS,
    REJECT_FORM,
    ChatOps,
    MessageRef,
)

__all__ = ["FORM_TTL_S", "UNMAPPED", "Decide", "slack_router"]

log = get_logger(__name__)

# (incident_id, plan_hash, decision, actor, channel, reason) -> the recorded approval
Decide = Callable[[str, str, ApprovalDecision, str, str, str], Approval]

FORM_TTL_S = 15 * 60.0  # how long a rejection form may be submitted after the click
MAX_BODY_BYTES = 256 * 1024
UNMAPPED = "Your Slack account is not mapped to a medic user; nothing was decided."
_DECISIONS = {
    "medic_approve": ApprovalDecision.APPROVED,
    "medic_reject": ApprovalDecision.REJECTED,
}


class _UnixClock(Clock):
    """SignatureVerifier's clock interface over an injectable `() -> Unix seconds`."""

    def __init__(self, now: Callable[[], float]) -> None:
        self._now = now

    def now(self) -> float:
        return self._now()


@dataclass(frozen=True)
class _Click:
    user: str
    message: MessageRef
    decision: ApprovalDecision
    incident_id: str
    plan_hash: str
    trigger_id: str


@dataclass(frozen=True)
class _Form:
    """What a rejection modal is bound to: its private_metadata."""

    incident_id: str
    plan_hash: str
    message: MessageRef
    user: str  # the Slack user who clicked Reject
    expires_at: float  # Unix seconds

    def encode(self) -> str:
        return json.dumps(
            {
                "incident_id": self.incident_id,
                "plan_hash": self.plan_hash,
                "channel": self.message.channel,
                "ts": self.message.ts,
                "user": self.user,
                "expires_at": self.expires_at,
            },
            separators=(",", ":"),
            sort_keys=True,
        )

    @classmethod
    def decode(cls, text: object) -> _Form | None:
        try:
            raw = json.loads(str(text))
            form = cls(
                incident_id=str(raw["incident_id"]),
                plan_hash=str(raw["plan_hash"]),
                message=MessageRef(str(raw["channel"]), str(raw["ts"])),
                user=str(raw["user"]),
                expires_at=float(raw["expires_at"]),
            )
        except (ValueError, KeyError, TypeError):
            return None
        return form if form.incident_id and form.plan_hash else None


@dataclass(frozen=True)
class _Submission:
    user: str
    form: _Form
    reason: str


def slack_router(
    signing_secret: str,
    users: Mapping[str, str],
    chatops: ChatOps,
    decide: Decide,
    wall_clock: Callable[[], float] | None = None,
    form_ttl_s: float = FORM_TTL_S,
) -> APIRouter:
    """The interactivity endpoint; `wall_clock` (Unix seconds) defaults to time.time:
    Slack's timestamps are real time, never the watched system's."""
    endpoint = _Interactivity(
        signing_secret, dict(users), chatops, decide, wall_clock or time.time, form_ttl_s
    )
    router = APIRouter(prefix="/slack", tags=["slack"])

    @router.post("/interactivity", responses={400: {}, 401: {}, 403: {}, 404: {}, 409: {}, 502: {}})
    async def interactivity(request: Request) -> Response:
        """Button clicks and rejection forms from Slack (signed by Slack)."""
        return await endpoint.handle(request)

    return router


class _Interactivity:
    def __init__(
        self,
        signing_secret: str,
        users: dict[str, str],
        chatops: ChatOps,
        decide: Decide,
        now: Callable[[], float],
        form_ttl_s: float,
    ) -> None:
        self.verifier = SignatureVerifier(signing_secret, clock=_UnixClock(now))
        self.users = users
        self.chatops = chatops
        self.decide = decide
        self.now = now
        self.form_ttl_s = form_ttl_s

    async def handle(self, request: Request) -> Response:
        body = await request.body()
        if len(body) > MAX_BODY_BYTES or not _signed(self.verifier, body, request):
            log.warning("slack.refused", reason="bad or stale signature")
            return JSONResponse({"detail": "invalid or stale Slack signature"}, status_code=401)
        payload = _payload(body)
        if payload is not None and payload.get("type") == "view_submission":
            submission = _submission(payload)
            if submission is None:
                return JSONResponse({"detail": "not a medic form"}, status_code=400)
            return await self.submitted(submission)
        click = _click(payload) if payload is not None else None
        if click is None:
            return JSONResponse({"detail": "not a medic button click"}, status_code=400)
        actor = self.users.get(click.user)
        if actor is None:
            await _tell(self.chatops, click.message, click.user, UNMAPPED)
            log.warning("slack.unknown_user", slack_user=click.user, incident_id=click.incident_id)
            return JSONResponse({"detail": UNMAPPED}, status_code=403)
        if click.decision is ApprovalDecision.REJECTED:
            return await self.ask_why(click)
        return await self.approve(click, actor)

    async def approve(self, click: _Click, actor: str) -> Response:
        try:
            approval = await run_in_threadpool(
                self.decide, click.incident_id, click.plan_hash, click.decision, actor, "slack", ""
            )
        except (ConflictError, NotFoundError) as e:
            text = f"Not recorded: {e}"
            await _tell(self.chatops, click.message, click.user, text)
            return JSONResponse(
                {"detail": text}, status_code=409 if isinstance(e, ConflictError) else 404
            )
        return JSONResponse(
            {"text": f"{approval.decision.value} by {actor}"},
            background=BackgroundTask(_show, self.chatops, click.message, approval),
        )

    async def ask_why(self, click: _Click) -> Response:
        """Open the rejection modal for the user who clicked Reject; nothing is decided."""
        expires_at = self.now() + self.form_ttl_s
        form = _Form(click.incident_id, click.plan_hash, click.message, click.user, expires_at)
        try:
            await run_in_threadpool(
                self.chatops.open_reject_form,
                click.trigger_id,
                click.incident_id,
                click.plan_hash,
                form.encode(),
            )
        except MedicError as e:
            text = (
                f"Could not open the rejection form ({e}); nothing was decided. "
                "Click Reject again, or reject on medic's web page."
            )
            await _tell(self.chatops, click.message, click.user, text)
            log.warning("slack.form_failed", incident_id=click.incident_id, error=str(e))
            return JSONResponse({"detail": text}, status_code=502)
        return Response(status_code=200)

    async def submitted(self, submission: _Submission) -> Response:
        """Record a rejection from the modal, or say in the modal why not."""
        form = submission.form
        actor = self.users.get(submission.user)
        if actor is None:
            log.warning("slack.unknown_user", slack_user=submission.user)
            return _form_error(UNMAPPED)
        refusal = _refusal(submission, self.now(), self.form_ttl_s)
        if refusal:
            return _form_error(refusal)
        try:
            approval = await run_in_threadpool(
                self.decide,
                form.incident_id,
                form.plan_hash,
                ApprovalDecision.REJECTED,
                actor,
                "slack",
                submission.reason,
            )
        except (ConflictError, NotFoundError) as e:
            return _form_error(f"Not recorded: {e}")
        # Slack wants the answer within 3 s: the message is updated after it is sent.
        return Response(  # Slack closes the modal
            status_code=200, background=BackgroundTask(_show, self.chatops, form.message, approval)
        )


def _refusal(submission: _Submission, now: float, form_ttl_s: float) -> str:
    """Why a mapped user's rejection form decides nothing; empty if it may."""
    if submission.user != submission.form.user:
        return "This form was opened by another Slack user; nothing was decided."
    if now > submission.form.expires_at:
        return (
            f"This form expired ({form_ttl_s / 60:g} minutes after Reject was clicked); "
            "nothing was decided. Cancel, and click Reject again."
        )
    if not submission.reason:
        return "A rejection needs a reason."
    if len(submission.reason) > REASON_MAX_CHARS:
        return f"At most {REASON_MAX_CHARS} characters, please."
    return ""


def _signed(verifier: SignatureVerifier, body: bytes, request: Request) -> bool:
    timestamp = request.headers.get("x-slack-request-timestamp", "")
    signature = request.headers.get("x-slack-signature", "")
    # The verifier would raise on these: a timestamp that is not plain ASCII digits
    # ("²" is a digit to Python, not to int()), or a body that is not UTF-8.
    if not (timestamp.isascii() and timestamp.isdigit()) or not signature:
        return False
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return verifier.is_valid(body=text, timestamp=timestamp, signature=signature)


def _payload(body: bytes) -> dict[str, Any] | None:
    try:
        raw = parse_qs(body.decode("utf-8"), strict_parsing=True)["payload"][0]
        payload = json.loads(raw)
    except (ValueError, KeyError, IndexError, RecursionError):
        return None
    return payload if isinstance(payload, dict) else None


def _click(payload: dict[str, Any]) -> _Click | None:
    """A medic button click (block_actions), or None."""
    try:
        if payload.get("type") != "block_actions":
            return None
        action = payload["actions"][0]
        container = payload.get("container") or {}
        ref = MessageRef(
            channel=str(container.get("channel_id") or payload["channel"]["id"]),
            ts=str(container.get("message_ts") or payload["message"]["ts"]),
        )
        incident_id, _, plan_hash = str(action["value"]).partition("|")
        kind = _DECISIONS.get(str(action["action_id"]))
        user = str(payload["user"]["id"])
        trigger_id = str(payload.get("trigger_id") or "")
    except (ValueError, KeyError, IndexError, TypeError, AttributeError):
        return None
    if kind is None or not incident_id or not plan_hash:
        return None
    if kind is ApprovalDecision.REJECTED and not trigger_id:
        return None  # no modal can be opened without it
    return _Click(user, ref, kind, incident_id, plan_hash, trigger_id)


def _submission(payload: dict[str, Any]) -> _Submission | None:
    """A submitted medic rejection form (view_submission), or None."""
    try:
        view = payload["view"]
        if view.get("callback_id") != REJECT_FORM:
            return None
        form = _Form.decode(view.get("private_metadata", ""))
        field = view["state"]["values"][REASON_BLOCK][REASON_INPUT]
        user = str(payload["user"]["id"])
    except (KeyError, TypeError, AttributeError):
        return None
    if form is None:
        return None
    reason = field.get("value") if isinstance(field, dict) else None
    return _Submission(user, form, reason.strip() if isinstance(reason, str) else "")


def _form_error(text: str) -> JSONResponse:
    """Slack shows `text` under the reason field and keeps the modal open."""
    return JSONResponse({"response_action": "errors", "errors": {REASON_BLOCK: text}})


async def _show(chatops: ChatOps, ref: MessageRef, approval: Approval) -> None:
    try:
        await run_in_threadpool(chatops.record_decision, ref, approval)
    except MedicError as e:  # the decision stands; only its display failed
        log.warning("slack.update_failed", incident_id=approval.incident_id, error=str(e))


async def _tell(chatops: ChatOps, ref: MessageRef, user: str, text: str) -> None:
    try:
        await run_in_threadpool(chatops.tell, ref, user, text)
    except MedicError as e:  # the HTTP answer still says it
        log.warning("slack.tell_failed", error=str(e))
