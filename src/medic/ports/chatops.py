"""The chat port: ask humans in a chat channel to decide on a plan, and show the outcome."""

from dataclasses import dataclass
from typing import Protocol

from medic.domain import Approval, Diagnosis, Incident, Plan

__all__ = ["ChatOps", "MessageRef"]


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

    def record_decision(self, ref: MessageRef, approval: Approval) -> None:
        """Replace the buttons of the message at `ref` by who decided what, and when."""
        ...

    def tell(self, ref: MessageRef, user: str, text: str) -> None:
        """Say `text` to one chat user only (an ephemeral reply under the message)."""
        ...
