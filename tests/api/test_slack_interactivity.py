"""Slack's interactivity endpoint: signed clicks decide, anything else decides nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlencode

import pytest
from fastapi.testclient import TestClient
from slack_sdk import WebClient
from slack_sdk.signature import SignatureVerifier

from medic.adapters.slack import SlackChatOps
from medic.api import ApiContext, create_app
from medic.api.slack import SLACK_REJECT_REASON, slack_router
from medic.domain import ApprovalDecision, Plan
from medic.ports.chatops import MessageRef
from medic.store import Store
from tests.adapters.fake_slack import BOT_TOKEN, FakeSlack
from tests.web.conftest import CREDENTIALS, FixedClock
from tests.web.seed import StoreDecide, seed_incident

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
NOW = 1_714_824_000  # Unix seconds on the endpoint's clock


@dataclass
class Rig:
    client: TestClient
    slack: FakeSlack
    store: Store
    decide: StoreDecide
    plan: Plan
    ref: MessageRef


@pytest.fixture
def rig(sqlite_url: str) -> Iterator[Rig]:
    with FakeSlack() as slack, Store(sqlite_url) as store:
        store.migrate()
        plan = seed_incident(store)
        chatops = SlackChatOps(
            WebClient(token=BOT_TOKEN, base_url=slack.base_url), "C0MEDIC", {"U0ALICE": "operator"}
        )
        ref = chatops.request_approval(
            store.get_incident("inc-web-1"), store.diagnosis("inc-web-1"), plan, "http://m/ui"
        )
        decide = StoreDecide(store)
        app = create_app(ApiContext(store, CREDENTIALS, FixedClock(), "http://medic.test"))
        app.include_router(
            slack_router(SECRET, {"U0ALICE": "operator"}, chatops, decide, wall_clock=lambda: NOW)
        )
        with TestClient(app) as client:
            yield Rig(client, slack, store, decide, plan, ref)


def _body(rig: Rig, user: str = "U0ALICE", action: str = "medic_approve") -> bytes:
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
        "trigger_id": "123.456.abc",
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


def _post(rig: Rig, body: bytes, timestamp: int = NOW, secret: str = SECRET) -> int:
    signature = SignatureVerifier(secret).generate_signature(timestamp=str(timestamp), body=body)
    response = rig.client.post(
        "/slack/interactivity",
        content=body,
        headers={
            "content-type": "application/x-www-form-urlencoded",
            "x-slack-request-timestamp": str(timestamp),
            "x-slack-signature": signature or "",
        },
    )
    return response.status_code


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


def test_a_reject_click_records_the_default_reason(rig: Rig) -> None:
    assert _post(rig, _body(rig, action="medic_reject")) == 200
    [approval] = rig.store.approvals("inc-web-1")
    assert (approval.decision, approval.reason) == (ApprovalDecision.REJECTED, SLACK_REJECT_REASON)


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
