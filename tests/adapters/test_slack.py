"""SlackChatOps against a fake Slack Web API: the approval message, the rejection form and
the message's update."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from slack_sdk import WebClient

from medic.adapters.slack import SlackChatOps
from medic.domain import (
    Approval,
    ApprovalDecision,
    Diagnosis,
    Incident,
    PermanentError,
    Plan,
    TransientError,
)
from medic.store import Store
from tests.adapters.fake_slack import BOT_TOKEN, FakeSlack
from tests.web.seed import INJECTION, seed_incident

URL = "http://medic.test/ui/incidents/inc-web-1"


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


@pytest.fixture
def loop_objects(sqlite_url: str) -> tuple[Incident, Diagnosis, Plan]:
    with Store(sqlite_url) as store:
        store.migrate()
        plan = seed_incident(store, title=f"Leak <!channel> {INJECTION}")
        diagnosis = store.diagnosis("inc-web-1")
        assert diagnosis is not None
        return store.get_incident("inc-web-1"), diagnosis, plan


def _chatops(slack: FakeSlack, token: str = BOT_TOKEN) -> SlackChatOps:
    client = WebClient(token=token, base_url=slack.base_url)
    return SlackChatOps(client, "C0MEDIC", {"U0ALICE": "operator"})


def _text(blocks: list[dict[str, Any]]) -> str:
    return "\n".join(str(b.get("text", {}).get("text", "")) for b in blocks)


def test_the_approval_message_shows_the_plan_and_buttons_bound_to_its_hash(
    slack: FakeSlack, loop_objects: tuple[Incident, Diagnosis, Plan]
) -> None:
    incident, diagnosis, plan = loop_objects
    ref = _chatops(slack).request_approval(incident, diagnosis, plan, URL)

    [posted] = slack.of("chat.postMessage")
    assert posted["channel"] == "C0MEDIC"
    assert ref.channel == "C0MEDIC"
    assert ("C0MEDIC", ref.ts) in slack.messages  # the ts Slack gave the message
    blocks: list[dict[str, Any]] = posted["blocks"]
    # The header is plain_text, which Slack never parses for mentions or markup.
    assert blocks[0]["type"] == "header" and blocks[0]["text"]["type"] == "plain_text"
    text = _text(blocks[1:])
    assert "```kubectl rollout undo deployment/auth-service -n production```" in text
    assert "risk *medium*" in text
    assert f"plan `{plan.hash[:12]}`" in str(blocks[3])
    assert f"<{URL}|open in medic>" in str(blocks[3])
    # Untrusted text cannot ping a channel, open a link or inject markup.
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "<script>" not in text
    [actions] = [b for b in blocks if b["type"] == "actions"]
    approve, reject = actions["elements"]
    assert (approve["style"], reject["style"]) == ("primary", "danger")
    assert approve["value"] == reject["value"] == f"inc-web-1|{plan.hash}"


def test_a_decision_replaces_the_buttons_and_keeps_the_plan(
    slack: FakeSlack, loop_objects: tuple[Incident, Diagnosis, Plan]
) -> None:
    incident, diagnosis, plan = loop_objects
    chatops = _chatops(slack)
    ref = chatops.request_approval(incident, diagnosis, plan, URL)
    at = datetime(2026, 5, 4, 12, 3, 4, tzinfo=UTC)
    chatops.record_decision(
        ref, Approval("inc-web-1", plan.hash, ApprovalDecision.APPROVED, "operator", at, "slack")
    )

    [update] = slack.of("chat.update")
    assert (update["channel"], update["ts"]) == (ref.channel, ref.ts)
    blocks = slack.messages[(ref.channel, ref.ts)]["blocks"]
    assert not [b for b in blocks if b["type"] == "actions"]
    assert "kubectl rollout undo" in _text(blocks)
    assert "*Approved* by <@U0ALICE> at 2026-05-04 12:03:04 UTC via slack" in _text(blocks)


def test_a_rejection_in_another_channel_names_the_medic_user_and_the_reason(
    slack: FakeSlack, loop_objects: tuple[Incident, Diagnosis, Plan]
) -> None:
    incident, diagnosis, plan = loop_objects
    chatops = _chatops(slack)
    ref = chatops.request_approval(incident, diagnosis, plan, URL)
    at = datetime(2026, 5, 4, 12, 3, 4, tzinfo=UTC)
    chatops.record_decision(
        ref,
        Approval("inc-web-1", plan.hash, ApprovalDecision.REJECTED, "bob", at, "web", "<@U1> no"),
    )
    text = _text(slack.messages[(ref.channel, ref.ts)]["blocks"])
    assert "*Rejected* by bob" in text and "via web" in text
    assert "&lt;@U1&gt; no" in text  # the reason cannot mention anyone


def test_a_first_of_two_approvals_keeps_the_buttons_for_the_second_approver(
    slack: FakeSlack, loop_objects: tuple[Incident, Diagnosis, Plan]
) -> None:
    incident, diagnosis, plan = loop_objects
    chatops = _chatops(slack)
    ref = chatops.request_approval(incident, diagnosis, plan, URL)
    at = datetime(2026, 5, 4, 12, 3, 4, tzinfo=UTC)
    first = Approval("inc-web-1", plan.hash, ApprovalDecision.PENDING, "operator", at, "slack")
    chatops.record_decision(ref, first)
    blocks = slack.messages[(ref.channel, ref.ts)]["blocks"]
    assert blocks[-1]["type"] == "actions"  # still there, below the note
    assert "*First approval* by <@U0ALICE>" in _text(blocks)
    assert "needs a second approver" in _text(blocks)


@pytest.mark.parametrize(
    ("error", "kind"),
    [("channel_not_found", PermanentError), ("ratelimited", TransientError)],
)
def test_slack_errors_become_medic_errors(
    slack: FakeSlack,
    loop_objects: tuple[Incident, Diagnosis, Plan],
    error: str,
    kind: type[Exception],
) -> None:
    incident, diagnosis, plan = loop_objects
    slack.fail_with = error
    with pytest.raises(kind, match=error):
        _chatops(slack).request_approval(incident, diagnosis, plan, URL)


def test_a_wrong_bot_token_is_a_permanent_error(
    slack: FakeSlack, loop_objects: tuple[Incident, Diagnosis, Plan]
) -> None:
    incident, diagnosis, plan = loop_objects
    with pytest.raises(PermanentError, match="invalid_auth"):
        _chatops(slack, token="xoxb-wrong").request_approval(incident, diagnosis, plan, URL)


def test_the_reject_form_is_a_modal_slack_accepts_and_carries_its_state(
    slack: FakeSlack,
) -> None:
    state = json.dumps({"incident_id": "inc-web-1", "padding": "x" * 2000})
    _chatops(slack).open_reject_form(slack.trigger(), "inc-<!channel>", "ab" * 32, state)

    [view] = slack.views.values()  # the fake refuses what Slack would refuse
    assert view["private_metadata"] == state
    assert view["callback_id"] == "medic_reject_form"
    [reason] = [b for b in view["blocks"] if b["type"] == "input"]
    assert reason.get("optional", False) is False  # Slack requires it before submitting
    assert reason["element"]["max_length"] == 500
    text = _text(view["blocks"])
    assert "`abababababab`" in text
    assert "inc-&lt;!channel&gt;" in text and "<!channel>" not in text


@pytest.mark.parametrize("trigger_id", ["", "1.2.never-issued"])
def test_a_form_slack_refuses_to_open_is_a_permanent_error(
    slack: FakeSlack, trigger_id: str
) -> None:
    with pytest.raises(PermanentError, match=r"views\.open failed: invalid_"):
        _chatops(slack).open_reject_form(trigger_id, "inc-web-1", "ab" * 32, "{}")
    assert slack.views == {}


def test_a_trigger_opens_one_form_only(slack: FakeSlack) -> None:
    trigger_id = slack.trigger()
    chatops = _chatops(slack)
    chatops.open_reject_form(trigger_id, "inc-web-1", "ab" * 32, "{}")
    with pytest.raises(PermanentError, match="invalid_trigger_id"):
        chatops.open_reject_form(trigger_id, "inc-web-1", "ab" * 32, "{}")
    assert len(slack.views) == 1
