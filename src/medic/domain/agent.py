"""What the optional LLM agent did with a diagnosis, as a record of its own.

An `AgentReview` keeps two kinds of content apart. *Facts about the run*: how it ended
(`status`, `reason`), which of the model's claims were merged (`accepted`) and which
were dropped and why (`rejected`), the evidence its tools added, and what it spent
(requests, tool calls, tokens against the limit). *Suggestions*: the model's validated
`narrative` and `check_next`, which are the model's words, never medic's findings, and
are shown as such.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = ["AgentReview", "AgentStatus"]


class AgentStatus(StrEnum):
    APPLIED = "applied"  # the validated output was merged
    MODEL_ERROR = "model_error"  # the call failed: HTTP error, refused, unreachable
    USAGE_LIMIT = "usage_limit"  # the next request would pass the budget, or did
    TIMEOUT = "timeout"
    INVALID_OUTPUT = "invalid_output"  # an answer that could not be read or validated


@dataclass(frozen=True)
class AgentReview:
    status: AgentStatus
    reason: str
    model: str = ""
    requests: int = 0
    tool_calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    token_limit: int = 0
    accepted: tuple[str, ...] = ()  # "auth-service: bad_deploy v1.2.1, citing ev-1, ev-4"
    rejected: tuple[str, ...] = ()  # why each dropped claim was dropped
    new_evidence: tuple[str, ...] = ()  # ids of the evidence the agent's tools added
    narrative: str = ""  # a suggestion: the model's words, validated, not a finding
    check_next: tuple[str, ...] = ()  # suggestions of what a human could look at next

    @property
    def applied(self) -> bool:
        return self.status is AgentStatus.APPLIED

    @property
    def tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    @property
    def spent(self) -> str:
        """'2 requests, 1 tool call, 4,812 tokens (limit 12,000)'."""
        limit = f" (limit {self.token_limit:,})" if self.token_limit else ""
        return (
            f"{self.requests} request{'s' * (self.requests != 1)}, "
            f"{self.tool_calls} tool call{'s' * (self.tool_calls != 1)}, "
            f"{self.tokens:,} tokens{limit}"
        )

    @property
    def headline(self) -> str:
        """One line for the timeline: what the agent did, and what it cost."""
        if self.applied:
            what = (
                f"LLM agent applied: {len(self.accepted)} claim(s) accepted, "
                f"{len(self.rejected)} rejected"
            )
        else:
            what = f"LLM agent failed ({self.status.value}): {self.reason}"
        return f"{what}; {self.spent}"
