"""The post-mortem says what the LLM agent did, and keeps its suggestions apart."""

from __future__ import annotations

from dataclasses import replace

from medic.domain import AgentReview, AgentStatus
from tests.scribe.records import INJECTION, seed_records
from tests.scribe.test_postmortem import headings, render, tokens


def _review(
    narrative: str = "auth-service v1.2.1 leaks memory from the deploy on.",
    check_next: tuple[str, ...] = ("heap profile of auth-service",),
) -> AgentReview:
    return AgentReview(
        AgentStatus.APPLIED,
        "1 claim(s) accepted, 1 rejected",
        model="openai:gpt-4o-mini",
        requests=2,
        tool_calls=1,
        input_tokens=4500,
        output_tokens=312,
        token_limit=21_000,
        accepted=("auth-service: bad_deploy v1.2.1, citing ev-1, ev-llm-1",),
        rejected=("LLM claim against catalog rejected: it cites no evidence",),
        new_evidence=("ev-llm-1",),
        narrative=narrative,
        check_next=check_next,
    )


def test_an_applied_agent_is_accounted_for_and_its_words_are_labelled_suggestions() -> None:
    r = seed_records()
    assert r.diagnosis is not None
    md = render(replace(r, diagnosis=replace(r.diagnosis, agent=_review())))
    found = headings(md)
    assert "LLM agent" in found
    assert "The agent's suggestions (the model's words, not medic's findings)" in found
    # after the root cause and its evidence, before what was done
    assert found.index("Root cause") < found.index("LLM agent") < found.index("What was done")
    assert "2 requests, 1 tool call, 4,812 tokens (limit 21,000)" in md
    assert "LLM claim against catalog rejected: it cites no evidence" in md
    assert "heap profile of auth-service" in md


def test_a_failed_agent_says_why_and_suggests_nothing() -> None:
    r = seed_records()
    assert r.diagnosis is not None
    review = AgentReview(
        AgentStatus.TIMEOUT, "the deterministic diagnosis stands: timeout (RunTimedOut)"
    )
    md = render(replace(r, diagnosis=replace(r.diagnosis, agent=review)))
    assert "- **Outcome:** timeout: the deterministic diagnosis stands: timeout" in md
    assert "suggestions" not in md


def test_without_an_agent_there_is_no_agent_section() -> None:
    assert "LLM agent" not in headings(render(seed_records()))


def test_a_narrative_cannot_add_structure_to_the_post_mortem() -> None:
    r = seed_records()
    assert r.diagnosis is not None
    review = _review(narrative=INJECTION, check_next=(INJECTION,))
    md = render(replace(r, diagnosis=replace(r.diagnosis, agent=review)))
    assert headings(md).count("LLM agent") == 1
    assert not [t for t in tokens(md) if t.type in ("link_open", "html_inline", "html_block")]
