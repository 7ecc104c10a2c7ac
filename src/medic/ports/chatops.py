"""The chat port: ask humans in a chat channel to decide on a plan, and show the outcome.

A rejection needs a reason. In chat the Reject button opens a form (`open_reject_form`)
whose submission comes back to the chat interactivity endpoint with the `state` the
form was opened with (which plan, which message, who, until when: the endpoint's
business, opaque here). The form's identifiers below are the contract between the
chat adapter that builds the form and the endpoint that reads its submission.
"""

from dataclasses import dataclass
from typing import Protocol

from medic.domain import Approval, Diagnosis, Incident, Plan

__all__ = [
    "REASON_BLOCK",
    "REASON_INPUT",
    "REASON_MAX_CHARS",
    "REJECT_FORM",
    "ChatOps",
    "MessageRef",
]

REJECT_FORM = "medic_reject_form"  # the form's id (Slack: the view's callback_id)
REASON_BLOCK = "medic_reason"  # the reason field's block (Slack: block_id)
REASON_INPUT = "reason"  # the reason field (Slack: the input element's action_id)
REASON_MAX_CHARS = 500  # the audit log keeps this much of a reason


@dataclass(frozen=True)
class MessageRef:
    """Where an approval request was posted, so that it can be updated later."""

    channel: str
    ts: str  # the chat system's message id (Slack: the message timestamp)


class ChatOps(Protocol):
    def request_approval(
        self, incident: Incident, diagnosis: Diagnosis | None, plan: Plan, url: str
    ) -> MessageRef:
        """Post the plan (commands, risk, hash) with Approve and Reject buttons bound to
        `plan.hash`; `url` is the incident's web page. Raises TransientError or
        PermanentError when the chat system refuses."""
        ...

    def open_reject_form(
        self, trigger_id: str, incident_id: str, plan_hash: str, state: str
    ) -> None:
        """Show the user whose click gave `trigger_id` a form asking why they reject
        the plan; `state` comes back unchanged with the submission (Slack: the view's
        private_metadata, at most 3000 characters). Raises TransientError or
        PermanentError when the chat system refuses (Slack: a trigger is good for
        three seconds, and for one form)."""
        ...

    def record_decision(self, ref: MessageRef, approval: Approval) -> None:
        """Replace the buttons of the message at `ref` by who decided what, when and
        (for a rejection) why."""
        ...

    def tell(self, ref: MessageRef, user: str, text: str) -> None:
        """Say `text` to one chat user only (an ephemeral reply under the message)."""
        ...
