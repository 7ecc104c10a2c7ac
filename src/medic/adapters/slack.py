"""Slack, through `slack_sdk`: approval requests as Block Kit messages with buttons.

`SlackChatOps` implements the ChatOps port. The message shows the diagnosis summary
(untrusted text from the watched system, escaped for mrkdwn so that it can neither
mention anyone nor forge a link), the plan's exact commands, its risk and short hash, a
link to the web page, and Approve / Reject buttons whose value names the incident and
the plan hash the human is looking at. The buttons' clicks arrive at
`medic.api.slack` (the interactivity endpoint), which checks Slack's signature.

Reject opens a modal (`views.open` with the click's trigger_id) with one required
plain-text input for the reason; its `view_submission` comes back to the same
endpoint, with the `private_metadata` the modal was opened with. Once decided, the
message's buttons are replaced by who decided, when, and why.

Bot token scopes: `chat:write` (post, update, ephemeral replies) and
`channels:history` (`groups:history` for a private channel), used to re-read the
message when its buttons are replaced by the decision. `views.open` needs no scope.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from medic.domain import (
    Action,
    Approval,
    ApprovalDecision,
    Diagnosis,
    Incident,
    PermanentError,
    Plan,
    TransientError,
)
from medic.ports.chatops import (
    REASON_BLOCK,
    REASON_INPUT,
    REASON_MAX_CHARS,
    REJECT_FORM,
    MessageRef,
)

__all__ = [
    "ACTIONS_BLOCK",
    "APPROVE_ACTION",
    "REJECT_ACTION",
    "SlackChatOps",
    "button_value",
    "mrkdwn_escape",
    "reject_view",
]

ACTIONS_BLOCK = "medic_decision"
APPROVE_ACTION = "medic_approve"
REJECT_ACTION = "medic_reject"
_SHORT = 12
_SECTION_LIMIT = 2900  # Slack refuses section text over 3000 characters
# Slack API errors a retry can fix; anything else is a configuration problem.
# (A trigger_id that expired is not one: a retry would be later still.)
_TRANSIENT = frozenset({"ratelimited", "service_unavailable", "fatal_error", "internal_error"})


def mrkdwn_escape(text: str) -> str:
    """Slack's three control characters; without them no mention, link or channel ping."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _code(text: str) -> str:
    # A fence inside untrusted text would close the code block early.
    return mrkdwn_escape(text).replace("```", "'''")


def _clip(text: str, limit: int = _SECTION_LIMIT) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def button_value(incident_id: str, plan_hash: str) -> str:
    return f"{incident_id}|{plan_hash}"


def reject_view(incident_id: str, plan_hash: str, state: str) -> dict[str, Any]:
    """The modal asking why: its submission carries `state` back (private_metadata)."""
    return {
        "type": "modal",
        "callback_id": REJECT_FORM,
        "private_metadata": state,
        "title": {"type": "plain_text", "text": "Reject the plan"},
        "submit": {"type": "plain_text", "text": "Reject"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": _clip(
                        f"Reject plan `{_code(plan_hash[:_SHORT])}` of incident "
                        f"`{_code(incident_id)}`? medic will not act on it, and the "
                        "incident closes as rejected."
                    ),
                },
            },
            {
                "type": "input",
                "block_id": REASON_BLOCK,
                "label": {"type": "plain_text", "text": "Why?"},
                "hint": {
                    "type": "plain_text",
                    "text": "Recorded with your name in the audit log and the post-mortem.",
                },
                "element": {
                    "type": "plain_text_input",
                    "action_id": REASON_INPUT,
                    "multiline": True,
                    "max_length": REASON_MAX_CHARS,
                    "placeholder": {"type": "plain_text", "text": "e.g. change freeze"},
                },
            },
        ],
    }


def _action_text(label: str, actions: tuple[Action, ...]) -> str:
    lines = [f"*{label}*"]
    for a in actions:
        lines.append(
            f"• `{_code(a.kind.value)}` {mrkdwn_escape(a.target)} in "
            f"{mrkdwn_escape(a.namespace)}, risk *{a.risk.value}*"
        )
        if a.command:
            lines.append(f"```{_code(a.command)}```")
    return "\n".join(lines)


class SlackChatOps:
    """The ChatOps port on Slack. `users` maps Slack user ids to medic user names."""

    def __init__(self, client: WebClient, channel: str, users: Mapping[str, str]) -> None:
        self.client = client
        self.channel = channel
        self.users = dict(users)
        self._slack_ids = {medic: slack for slack, medic in users.items()}

    def request_approval(
        self, incident: Incident, diagnosis: Diagnosis | None, plan: Plan, url: str
    ) -> MessageRef:
        blocks = self.approval_blocks(incident, diagnosis, plan, url)
        text = f"medic: approval needed for {incident.title}"
        response = self._call("chat.postMessage", channel=self.channel, text=text, blocks=blocks)
        return MessageRef(channel=str(response["channel"]), ts=str(response["ts"]))

    def approval_blocks(
        self, incident: Incident, diagnosis: Diagnosis | None, plan: Plan, url: str
    ) -> list[dict[str, Any]]:
        summary = diagnosis.summary if diagnosis else "no diagnosis yet"
        value = button_value(incident.id, plan.hash)
        return [
            {
                "type": "header",
                "text": {"type": "plain_text", "text": _clip(f"Approve? {incident.title}", 150)},
            },
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": _clip(
                        f"*Incident* `{_code(incident.id)}` · {incident.severity.value} · "
                        f"{mrkdwn_escape(incident.service or '?')} in "
                        f"{mrkdwn_escape(incident.namespace or '?')}\n"
                        f"{mrkdwn_escape(summary)}"
                    ),
                },
            },
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": _clip(_action_text("Now", plan.immediate))},
            },
            {
                "type": "context",
                "elements": [
                    {
                        "type": "mrkdwn",
                        "text": f"plan `{plan.hash[:_SHORT]}` · <{url}|open in medic>",
                    }
                ],
            },
            {
                "type": "actions",
                "block_id": ACTIONS_BLOCK,
                "elements": [
                    {
                        "type": "button",
                        "action_id": APPROVE_ACTION,
                        "style": "primary",
                        "text": {"type": "plain_text", "text": "Approve"},
                        "value": value,
                    },
                    {
                        "type": "button",
                        "action_id": REJECT_ACTION,
                        "style": "danger",
                        "text": {"type": "plain_text", "text": "Reject"},
                        "value": value,
                    },
                ],
            },
        ]

    def open_reject_form(
        self, trigger_id: str, incident_id: str, plan_hash: str, state: str
    ) -> None:
        view = reject_view(incident_id, plan_hash, state)
        self._call("views.open", trigger_id=trigger_id, view=view)

    def record_decision(self, ref: MessageRef, approval: Approval) -> None:
        """Replace the buttons by the decision; the rest of the message stays as posted."""
        history = self._call(
            "conversations.history", channel=ref.channel, latest=ref.ts, inclusive=True, limit=1
        )
        messages = history.get("messages") or []
        blocks = messages[0].get("blocks", []) if messages else []
        line = self.decision_line(approval)
        said = {"type": "section", "text": {"type": "mrkdwn", "text": line}}
        if approval.decision is ApprovalDecision.PENDING:
            # The first of two approvals: the buttons stay for the second approver.
            buttons = [b for b in blocks if _is_actions(b)]
            kept = [b for b in blocks if not _is_actions(b)] + [said] + buttons
        else:
            kept = [b for b in blocks if not _is_actions(b)] + [said]
        self._call("chat.update", channel=ref.channel, ts=ref.ts, text=line, blocks=kept)

    def decision_line(self, approval: Approval) -> str:
        slack_id = self._slack_ids.get(approval.actor)
        who = f"<@{slack_id}>" if slack_id else mrkdwn_escape(approval.actor)
        mark = ":white_check_mark:" if approval.decision is ApprovalDecision.APPROVED else ":x:"
        at = approval.at.strftime("%Y-%m-%d %H:%M:%S UTC")
        if approval.decision is ApprovalDecision.PENDING:
            return (
                f":hourglass_flowing_sand: *First approval* by {who} at {at} via "
                f"{mrkdwn_escape(approval.channel)} (plan `{approval.plan_hash[:_SHORT]}`): "
                "this high-risk plan needs a second approver"
            )
        line = (
            f"{mark} *{approval.decision.value.capitalize()}* by {who} at {at} "
            f"via {mrkdwn_escape(approval.channel)} (plan `{approval.plan_hash[:_SHORT]}`)"
        )
        if approval.reason:
            line += f"\n>{mrkdwn_escape(approval.reason)}"
        return line

    def tell(self, ref: MessageRef, user: str, text: str) -> None:
        self._call("chat.postEphemeral", channel=ref.channel, user=user, text=text)

    def _call(self, method: str, **kwargs: object) -> dict[str, Any]:
        try:
            if method == "conversations.history":
                response = self.client.api_call(method, http_verb="GET", params=kwargs)
            else:
                response = self.client.api_call(method, json=kwargs)
        except SlackApiError as e:
            error = str(e.response.get("error", "unknown_error"))
            kind = TransientError if error in _TRANSIENT else PermanentError
            raise kind(f"Slack {method} failed: {error}") from e
        except (SlackClientError, OSError) as e:
            raise TransientError(f"Slack {method} failed: {e}") from e
        return dict(response.data) if isinstance(response.data, dict) else {}


def _is_actions(block: dict[str, Any]) -> bool:
    return bool(block.get("block_id") == ACTIONS_BLOCK or block.get("type") == "actions")
