"""The post-mortem's account of the optional LLM agent: what it did, what it spent,
and, set apart as the model's own words, what it suggested.

The narrative and the things to check next passed validation (no commands, no blamed
service whose claim was rejected, no quoted log text) but they are still the model's
suggestions, not medic's findings; they are quoted and labelled so.
"""

from __future__ import annotations

from medic.domain import AgentReview, Diagnosis
from medic.scribe.markdown import text

__all__ = ["agent_section"]


def agent_section(diagnosis: Diagnosis | None) -> str:
    """The '## LLM agent' section; empty when no agent ran."""
    review = diagnosis.agent if diagnosis else None
    if review is None:
        return ""
    lines = ["## LLM agent", "", f"- **Outcome:** {review.status.value}: {text(review.reason)}"]
    lines.append(
        f"- **Spent:** {review.spent}" + (f" on {text(review.model)}" if review.model else "")
    )
    lines += [f"- **Accepted claim:** {text(c)}" for c in review.accepted]
    lines += [f"- **Rejected claim:** {text(r)}" for r in review.rejected]
    if review.new_evidence:
        lines.append(
            f"- **Evidence its tools added:** {', '.join(text(i) for i in review.new_evidence)}"
        )
    lines += _suggestions(review)
    return "\n".join(lines)


def _suggestions(review: AgentReview) -> list[str]:
    if not review.narrative and not review.check_next:
        return []
    lines = ["", "### The agent's suggestions (the model's words, not medic's findings)", ""]
    if review.narrative:
        lines.append(f"> {text(review.narrative, limit=1500)}")
    if review.check_next:
        lines += ["", "What it suggests checking next:", ""]
        lines += [f"- {text(item)}" for item in review.check_next]
    return lines
