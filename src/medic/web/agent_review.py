"""The incident page's card on the optional LLM agent: what it did and spent, and its
suggestions, marked as the model's words rather than medic's findings."""

from __future__ import annotations

from medic.domain import Diagnosis
from medic.web.html import Markup, badge, esc

__all__ = ["agent_card"]


def agent_card(diagnosis: Diagnosis | None) -> Markup:
    review = diagnosis.agent if diagnosis else None
    if review is None:
        return Markup("")
    claims = "".join(f"<li>accepted: {esc(c)}</li>" for c in review.accepted) + "".join(
        f"<li>rejected: {esc(r)}</li>" for r in review.rejected
    )
    checks = "".join(f"<li>{esc(c)}</li>" for c in review.check_next)
    suggestions = ""
    if review.narrative or checks:
        suggestions = (
            "<h3>Suggestions <span class=\"muted\">(the model's words, not medic's "
            "findings)</span></h3>"
            + (f"<blockquote>{esc(review.narrative)}</blockquote>" if review.narrative else "")
            + (f"<p>Check next:</p><ul>{checks}</ul>" if checks else "")
        )
    return Markup(
        f'<section class="card" id="llm-agent"><h2>LLM agent</h2>'
        f'<div class="meta">{badge(review.status.value)}<span>{esc(review.spent)}</span>'
        f"{f'<span>{esc(review.model)}</span>' if review.model else ''}</div>"
        f"<p>{esc(review.reason)}</p>"
        + (f"<ul>{claims}</ul>" if claims else "")
        + suggestions
        + "</section>"
    )
