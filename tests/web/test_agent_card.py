"""The incident page shows what the LLM agent did, its suggestions marked as the model's."""

from __future__ import annotations

from dataclasses import replace

from medic.domain import AgentReview, AgentStatus
from medic.web.incident_page import IncidentView, render_incident
from tests.scribe.records import seed_records


def _page(review: AgentReview | None) -> str:
    r = seed_records()
    assert r.diagnosis is not None
    view = IncidentView(
        incident=r.incident,
        diagnosis=replace(r.diagnosis, agent=review),
        plan=r.plan,
        approvals=r.approvals,
        executions=r.executions,
        verification=r.verification,
        postmortem=None,
        timeline=r.timeline,
    )
    return str(render_incident(view, csrf="x", charts=()))


def test_the_page_says_what_the_agent_did_and_labels_its_suggestions() -> None:
    review = AgentReview(
        AgentStatus.APPLIED,
        "1 claim(s) accepted, 0 rejected",
        requests=2,
        tool_calls=1,
        input_tokens=4000,
        output_tokens=200,
        accepted=("auth-service: bad_deploy v1.2.1, citing ev-1",),
        narrative="<script>alert(1)</script> auth-service leaks.",
        check_next=("heap profile of auth-service",),
    )
    html = _page(review)
    assert '<section class="card" id="llm-agent"><h2>LLM agent</h2>' in html
    assert "2 requests, 1 tool call, 4,200 tokens" in html
    assert "accepted: auth-service: bad_deploy v1.2.1, citing ev-1" in html
    assert "<h3>Suggestions" in html and "words, not medic" in html
    assert "<script>alert(1)</script>" not in html
    assert "heap profile of auth-service" in html


def test_a_failed_agent_shows_its_reason_and_no_suggestions() -> None:
    html = _page(AgentReview(AgentStatus.USAGE_LIMIT, "would pass the token limit"))
    assert "usage limit" in html and "would pass the token limit" in html
    assert "Suggestions" not in html


def test_no_agent_no_card() -> None:
    assert 'id="llm-agent"' not in _page(None)
