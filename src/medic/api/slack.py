"""Slack's interactivity endpoint: Approve / Reject clicks on medic's approval messages.

`POST /slack/interactivity` takes Slack's form-encoded `payload`. In order:

1. Slack's signature (`X-Slack-Signature`: v0=HMAC-SHA256 of `v0:{timestamp}:{body}`
   with the app's signing secret) and timestamp (`X-Slack-Request-Timestamp`, at most
   five minutes off) are checked with `slack_sdk`'s SignatureVerifier: a forged or
   stale request gets a 401 and nothing is read from it.
2. The Slack user must map to a medic user (`users`: Slack user id -> medic name);
   an unknown user gets a 403 and an ephemeral reply, and nothing is decided.
3. The decision goes through `decide` (the approval gate: the plan hash in the
   button must be the current plan's, and a plan is decided once), with channel
   `slack`. A replayed or double click is refused by that gate: 409 and an ephemeral
   reply saying who decided first.
4. The message's buttons are replaced by the decision.

A Slack rejection records the reason "rejected in Slack" (no modal): a reason is
still required on every other channel, and anyone wanting to say more can say it in
the thread; a button click stays one click.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from slack_sdk.signature import Clock, SignatureVerifier
from starlette.concurrency import run_in_threadpool

from medic.domain import (
    Approval,
    ApprovalDecision,
    ConflictError,
    MedicError,
    NotFoundError,
)
from medic.log import get_logger
from medic.ports.chatops import ChatOps, MessageRef

__all__ = ["SLACK_REJECT_REASON", "Decide", "slack_router"]

log = get_logger(__name__)

# (incident_id, plan_hash, decision, actor, channel, reason) -> the recorded approval
Decide = Callable[[str, str, ApprovalDecision, str, str, str], Approval]

SLACK_REJECT_REASON = "rejected in Slack"
MAX_BODY_BYTES = 256 * 1024
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


def slack_router(
    signing_secret: str,
    users: Mapping[str, str],
    chatops: ChatOps,
    decide: Decide,
    wall_clock: Callable[[], float] | None = None,
) -> APIRouter:
    """The interactivity endpoint; `wall_clock` (Unix seconds) defaults to time.time:
    Slack's timestamps are real time, never the watched system's."""
    verifier = SignatureVerifier(signing_secret, clock=_UnixClock(wall_clock or time.time))
    known = dict(users)
    router = APIRouter(prefix="/slack", tags=["slack"])

    @router.post("/interactivity", responses={401: {}, 403: {}, 409: {}})
    async def interactivity(request: Request) -> JSONResponse:
        """Approve / Reject button clicks from Slack (signed by Slack)."""
        body = await request.body()
        if len(body) > MAX_BODY_BYTES or not _signed(verifier, body, request):
            log.warning("slack.refused", reason="bad or stale signature")
            return JSONResponse({"detail": "invalid or stale Slack signature"}, status_code=401)
        click = _click(body)
        if click is None:
            return JSONResponse({"detail": "not a medic button click"}, status_code=400)
        slack_user, ref, kind, incident_id, plan_hash = click
        actor = known.get(slack_user)
        if actor is None:
            text = "Your Slack account is not mapped to a medic user; nothing was decided."
            await _tell(chatops, ref, slack_user, text)
            log.warning("slack.unknown_user", slack_user=slack_user, incident_id=incident_id)
            return JSONResponse({"detail": text}, status_code=403)
        reason = SLACK_REJECT_REASON if kind is ApprovalDecision.REJECTED else ""
        try:
            approval = await run_in_threadpool(
                decide, incident_id, plan_hash, kind, actor, "slack", reason
            )
        except (ConflictError, NotFoundError) as e:
            text = f"Not recorded: {e}"
            await _tell(chatops, ref, slack_user, text)
            return JSONResponse(
                {"detail": text}, status_code=409 if isinstance(e, ConflictError) else 404
            )
        try:
            await run_in_threadpool(chatops.record_decision, ref, approval)
        except MedicError as e:  # the decision stands; only its display failed
            log.warning("slack.update_failed", incident_id=incident_id, error=str(e))
        return JSONResponse({"text": f"{approval.decision.value} by {actor}"})

    return router


def _signed(verifier: SignatureVerifier, body: bytes, request: Request) -> bool:
    timestamp = request.headers.get("x-slack-request-timestamp", "")
    signature = request.headers.get("x-slack-signature", "")
    if not timestamp.isdigit() or not signature:  # the verifier would raise on these
        return False
    return verifier.is_valid(body=body, timestamp=timestamp, signature=signature)


def _click(body: bytes) -> tuple[str, MessageRef, ApprovalDecision, str, str] | None:
    """(slack user, message, decision, incident id, plan hash) of a medic button click."""
    try:
        raw = parse_qs(body.decode("utf-8"), strict_parsing=True)["payload"][0]
        payload: dict[str, Any] = json.loads(raw)
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
    except (ValueError, KeyError, IndexError, TypeError, AttributeError):
        return None
    if kind is None or not incident_id or not plan_hash:
        return None
    return user, ref, kind, incident_id, plan_hash


async def _tell(chatops: ChatOps, ref: MessageRef, user: str, text: str) -> None:
    try:
        await run_in_threadpool(chatops.tell, ref, user, text)
    except MedicError as e:  # the HTTP answer still says it
        log.warning("slack.tell_failed", error=str(e))
