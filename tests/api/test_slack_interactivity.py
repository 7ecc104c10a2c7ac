"""Slack's interactivity endpoint: signed clicks and rejection forms decide, anything
else decides nothing."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import httpx2
import pytest
from fastapi.testclient import TestClient
from slack_sdk import WebClient
from slack_sdk.signature import SignatureVerifier

from medic.adapters.slack import SlackChatOps
from medic.api import ApiContext, create_app
from medic.api.slack import FORM_TTL_S, UNMAPPED, slack_router
from medic.domain import ApprovalDecision, Plan
from medic.ports.chatops import REASON_BLOCK, REASON_INPUT, REJECT_FORM, MessageRef
from medic.store import Store
from tests.adapters.fake_slack import BOT_TOKEN, FakeSlack
from tests.web.conftest import CREDENTIALS, FixedClock
from tests.web.seed import StoreDecide, seed_incident

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
NOW = 1_714_824_000  # Unix seconds on the endpoint's clock
USERS = {"U0ALICE": "operator", "U0BOB": "bob"}


@dataclass
class WallClock:
    now: int = NOW

    def __call__(self) -> float:
        return float(self.now)


@dataclass
class Rig:
    client: TestClient
    slack: FakeSlack
    store: Store
    decide: StoreDecide
    plan: Plan
    ref: MessageRef
    clock: WallClock = field(default_factory=WallClock)


@pytest.fixture
def rig(sqlite_url: str) -> Iterator[Rig]:
    with FakeSlack() as slack, Store(sqlite_url) as store:
        store.migrate()
        plan = seed_incident(store)
        chatops = SlackChatOps(
            WebClient(token=BOT_TOKEN, base_url=slack.base_url), "C0MEDIC", USERS
        )
        ref = chatops.request_approval(
            store.get_incident("inc-web-1"), store.diagnosis("inc-web-1"), plan, "http://m/ui"
        )
        decide = StoreDecide(store)
        app = create_app(ApiContext(store, CREDENTIALS, FixedClock(), "http://medic.test"))
        clock = WallClock()
        app.include_router(slack_router(SECRET, USERS, chatops, decide, wall_clock=clock))
        with TestClient(app) as client:
            yield Rig(client, slack, store, decide, plan, ref, clock)


def _body(
    rig: Rig, user: str = "U0ALICE", action: str = "medic_approve", trigger_id: str = ""
) -> bytes:
    """A block_actions payload as Slack sends it (form-encoded `payload`)."""
    payload = {
        "type": "block_actions",
        "user": {"id": user, "username": "alice", "team_id": "T0"},
        "api_app_id": "A0",
        "container": {
            "type": "message",
            "message_ts": rig.ref.ts,
            "channel_id": rig.ref.channel,
            "is_ephemeral": False,
        },
        "trigger_id": trigger_id or rig.slack.trigger(),
        "channel": {"id": rig.ref.channel, "name": "ops"},
        "message": {"type": "message", "ts": rig.ref.ts, "text": "medic"},
        "response_url": "https://hooks.slack.com/actions/T0/1/abc",
        "actions": [
            {
                "type": "button",
                "block_id": "medic_decision",
                "action_id": action,
                "value": f"inc-web-1|{rig.plan.hash}",
                "action_ts": f"{NOW}.000100",
            }
        ],
    }
    return urlencode({"payload": json.dumps(payload)}).encode()


def _post(rig: Rig, body: bytes, timestamp: int | None = None, secret: str = SECRET) -> int:
    return _send(rig, body, timestamp, secret).status_code


def _send(
    rig: Rig, body: bytes, timestamp: int | None = None, secret: str = SECRET
) -> httpx2.Response:
    """POST as Slack does: signed with the signing secret at `timestamp` (default: now)."""
    timestamp = rig.clock.now if timestamp is None else timestamp
    signature = SignatureVerifier(secret).generate_signature(timestamp=str(timestamp), body=body)
    return rig.client.post(
        "/slack/interactivity",
        content=body,
        headers={
            "content-type": "application/x-www-form-urlencoded",
            "x-slack-request-timestamp": str(timestamp),
            "x-slack-signature": signature or "",
        },
    )


def _opened_view(rig: Rig) -> dict[str, Any]:
    [view] = rig.slack.views.values()
    return view


def _submission(
    rig: Rig, reason: str | None, user: str = "U0ALICE", view: dict[str, Any] | None = None
) -> bytes:
    """A view_submission payload as Slack sends it for the modal views.open opened:
    Slack returns the view with its private_metadata and the state of its inputs."""
    view = dict(view or _opened_view(rig))
    view["state"] = {
        "values": {REASON_BLOCK: {REASON_INPUT: {"type": "plain_text_input", "value": reason}}}
    }
    payload = {
        "type": "view_submission",
        "team": {"id": "T0", "domain": "acme"},
        "user": {"id": user, "username": "alice", "name": "alice", "team_id": "T0"},
        "api_app_id": "A0",
        "trigger_id": rig.slack.trigger(),
        "view": view,
        "response_urls": [],
        "is_enterprise_install": False,
    }
    return urlencode({"payload": json.dumps(payload)}).encode()


def _errors(response: httpx2.Response) -> str:
    """The error Slack shows under the reason field; the modal stays open."""
    assert response.status_code == 200
    body = response.json()
    assert body["response_action"] == "errors"
    assert list(body["errors"]) == [REASON_BLOCK]
    return str(body["errors"][REASON_BLOCK])


def _blocks(rig: Rig) -> str:
    return json.dumps(rig.slack.messages[(rig.ref.channel, rig.ref.ts)]["blocks"])


def test_a_signed_approve_click_decides_as_the_mapped_user_and_updates_the_message(
    rig: Rig,
) -> None:
    assert _post(rig, _body(rig)) == 200
    assert rig.decide.calls == [
        ("inc-web-1", rig.plan.hash, ApprovalDecision.APPROVED, "operator", "slack", "")
    ]
    [approval] = rig.store.approvals("inc-web-1")
    assert (approval.actor, approval.channel) == ("operator", "slack")
    blocks = rig.slack.messages[(rig.ref.channel, rig.ref.ts)]["blocks"]
    assert not [b for b in blocks if b["type"] == "actions"]
    assert "*Approved* by <@U0ALICE>" in json.dumps(blocks)


def test_a_reject_click_opens_a_reason_modal_and_decides_nothing_yet(rig: Rig) -> None:
    trigger_id = rig.slack.trigger()
    response = _send(rig, _body(rig, action="medic_reject", trigger_id=trigger_id))
    assert (response.status_code, response.content) == (200, b"")
    assert rig.decide.calls == []
    assert rig.store.approvals("inc-web-1") == []
    [opened] = rig.slack.of("views.open")
    assert opened["trigger_id"] == trigger_id
    view = _opened_view(rig)
    assert view["callback_id"] == REJECT_FORM
    [field_block] = [b for b in view["blocks"] if b["type"] == "input"]
    assert field_block["block_id"] == REASON_BLOCK
    assert field_block["element"]["type"] == "plain_text_input"
    assert field_block["element"]["action_id"] == REASON_INPUT
    assert rig.plan.hash[:12] in json.dumps(view["blocks"])
    assert '"type": "actions"' in _blocks(rig)  # the buttons are still there


def test_the_submitted_reason_rejects_the_plan_and_shows_on_the_message(rig: Rig) -> None:
    assert _post(rig, _body(rig, action="medic_reject")) == 200
    rig.clock.now += 120  # two minutes to type it
    response = _send(rig, _submission(rig, "  change freeze until Monday <!here>  "))
    assert (response.status_code, response.content) == (200, b"")  # Slack closes the modal
    reason = "change freeze until Monday <!here>"
    assert rig.decide.calls == [
        ("inc-web-1", rig.plan.hash, ApprovalDecision.REJECTED, "operator", "slack", reason)
    ]
    [approval] = rig.store.approvals("inc-web-1")
    assert (approval.decision, approval.actor, approval.channel, approval.reason) == (
        ApprovalDecision.REJECTED,
        "operator",
        "slack",
        reason,
    )
    blocks = _blocks(rig)
    assert '"type": "actions"' not in blocks
    assert "*Rejected* by <@U0ALICE>" in blocks
    assert "change freeze until Monday &lt;!here&gt;" in blocks  # shown, pinging no one


@pytest.mark.parametrize("reason", ["", "   \n ", None])
def test_an_empty_reason_keeps_the_modal_open_with_an_error(rig: Rig, reason: str | None) -> None:
    assert _post(rig, _body(rig, action="medic_reject")) == 200
    assert _errors(_send(rig, _submission(rig, reason))) == "A rejection needs a reason."
    assert rig.decide.calls == []
    assert rig.store.approvals("inc-web-1") == []
    # The same modal, now with a reason, goes through.
    assert _send(rig, _submission(rig, "flapping alert")).content == b""
    [approval] = rig.store.approvals("inc-web-1")
    assert approval.reason == "flapping alert"


def test_an_expired_form_decides_nothing(rig: Rig) -> None:
    assert _post(rig, _body(rig, action="medic_reject")) == 200
    rig.clock.now += int(FORM_TTL_S) + 1
    assert "This form expired" in _errors(_send(rig, _submission(rig, "too late")))
    assert rig.store.approvals("inc-web-1") == []


def test_only_the_mapped_user_who_clicked_may_submit_the_form(rig: Rig) -> None:
    assert _post(rig, _body(rig, action="medic_reject")) == 200
    unknown = _errors(_send(rig, _submission(rig, "no", user="U0MALLORY")))
    assert unknown == UNMAPPED
    other = _errors(_send(rig, _submission(rig, "no", user="U0BOB")))
    assert "opened by another Slack user" in other
    assert rig.decide.calls == []
    assert rig.store.approvals("inc-web-1") == []


def test_a_form_submitted_after_the_plan_was_decided_says_who_decided(rig: Rig) -> None:
    assert _post(rig, _body(rig, action="medic_reject")) == 200
    assert _post(rig, _body(rig, user="U0BOB")) == 200  # bob approves meanwhile
    refused = _errors(_send(rig, _submission(rig, "risky")))
    assert refused.startswith("Not recorded:") and "already approved by bob" in refused
    [approval] = rig.store.approvals("inc-web-1")
    assert approval.decision is ApprovalDecision.APPROVED
    assert len(rig.slack.of("chat.update")) == 1


def test_a_form_for_a_plan_that_is_no_longer_current_is_refused(rig: Rig) -> None:
    assert _post(rig, _body(rig, action="medic_reject")) == 200
    view = _opened_view(rig)
    metadata = json.loads(view["private_metadata"])
    stale = {**view, "private_metadata": json.dumps({**metadata, "plan_hash": "0" * 64})}
    assert "is stale" in _errors(_send(rig, _submission(rig, "no", view=stale)))
    assert rig.store.approvals("inc-web-1") == []


def test_a_forged_form_submission_gets_401(rig: Rig) -> None:
    assert _post(rig, _body(rig, action="medic_reject")) == 200
    assert _post(rig, _submission(rig, "forged"), secret="not-the-signing-secret") == 401
    assert rig.store.approvals("inc-web-1") == []


def test_a_reject_click_whose_modal_cannot_open_is_told_and_decides_nothing(rig: Rig) -> None:
    # A trigger Slack did not issue (or one older than three seconds) opens nothing.
    body = _body(rig, action="medic_reject", trigger_id="1.2.not-issued")
    assert _post(rig, body) == 502
    assert rig.slack.views == {}
    [told] = rig.slack.of("chat.postEphemeral")
    assert told["user"] == "U0ALICE"
    assert "invalid_trigger_id" in told["text"] and "nothing was decided" in told["text"]
    assert rig.store.approvals("inc-web-1") == []


def test_an_unknown_user_clicking_reject_gets_no_modal(rig: Rig) -> None:
    assert _post(rig, _body(rig, user="U0MALLORY", action="medic_reject")) == 403
    assert rig.slack.of("views.open") == []


@pytest.mark.parametrize(
    ("timestamp", "secret"),
    [
        (NOW, "not-the-signing-secret"),  # forged
        (NOW - 301, SECRET),  # validly signed, but replayed more than 5 minutes later
        (NOW + 301, SECRET),  # from the future
    ],
)
def test_forged_or_stale_requests_get_401_and_decide_nothing(
    rig: Rig, timestamp: int, secret: str
) -> None:
    assert _post(rig, _body(rig), timestamp=timestamp, secret=secret) == 401
    assert rig.decide.calls == []
    assert rig.store.approvals("inc-web-1") == []
    assert [c.method for c in rig.slack.calls] == ["chat.postMessage"]  # nothing said


def test_a_body_changed_after_signing_or_unsigned_gets_401(rig: Rig) -> None:
    body = _body(rig)
    signature = SignatureVerifier(SECRET).generate_signature(timestamp=str(NOW), body=body)
    tampered = _body(rig, action="medic_reject")
    for headers in (
        {"x-slack-request-timestamp": str(NOW), "x-slack-signature": signature or ""},
        {"x-slack-request-timestamp": "soon", "x-slack-signature": signature or ""},
        {},
    ):
        response = rig.client.post("/slack/interactivity", content=tampered, headers=headers)
        assert response.status_code == 401
    assert rig.decide.calls == []


def test_an_unknown_slack_user_is_refused_and_told(rig: Rig) -> None:
    assert _post(rig, _body(rig, user="U0MALLORY")) == 403
    assert rig.decide.calls == []
    assert rig.store.approvals("inc-web-1") == []
    [told] = rig.slack.of("chat.postEphemeral")
    assert told["user"] == "U0MALLORY"
    assert "not mapped to a medic user" in told["text"]


def test_a_replayed_click_is_refused_with_who_decided_first(rig: Rig) -> None:
    body = _body(rig)
    assert _post(rig, body) == 200
    assert _post(rig, body) == 409
    assert len(rig.store.approvals("inc-web-1")) == 1
    [told] = rig.slack.of("chat.postEphemeral")
    assert "already approved by operator" in told["text"]
    assert len(rig.slack.of("chat.update")) == 1


@pytest.mark.parametrize("signed", [False, True])
def test_a_body_that_is_not_utf8_gets_401_not_500(rig: Rig, signed: bool) -> None:
    body = b"payload=%7B%22type%22%3A\xff\xfe\x80"
    forged = "v0=" + "0" * 64
    if signed:  # even an HMAC of the raw bytes: Slack signs UTF-8 text, never this
        message = b"v0:" + str(NOW).encode() + b":" + body
        forged = "v0=" + hmac.new(SECRET.encode(), message, hashlib.sha256).hexdigest()
    response = rig.client.post(
        "/slack/interactivity",
        content=body,
        headers={"x-slack-request-timestamp": str(NOW), "x-slack-signature": forged},
    )
    assert response.status_code == 401, response.text
    assert rig.decide.calls == []


def test_a_timestamp_of_non_ascii_digits_gets_401_not_500(rig: Rig) -> None:
    body = _body(rig)
    response = rig.client.post(
        "/slack/interactivity",
        content=body,
        headers={b"x-slack-request-timestamp": b"\xb2\xb3", b"x-slack-signature": b"v0=00"},
    )
    assert response.status_code == 401, response.text
