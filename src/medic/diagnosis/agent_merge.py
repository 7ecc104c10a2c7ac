"""How the agent's validated claims are merged with the deterministic ranking.

The policy, chosen so that the LLM can widen the diagnosis but never decide what
medic does:

- Confidence and ``conclusive`` are the deterministic core's and are never raised. The
  architect acts only on a conclusive diagnosis, so nothing the agent says can turn an
  escalation into an action.
- Conclusive diagnosis: the deterministic order stands, top first. A validated claim
  that agrees with a deterministic hypothesis (same service and category) adds its
  cited evidence to it; a novel claim is appended after the deterministic ones with a
  score no higher than the lowest of them.
- Inconclusive diagnosis: the agent's validated claims lead, in the agent's order
  (agreeing ones keep their deterministic score, novel ones start at ``AGENT_SCORE``),
  followed by the remaining deterministic hypotheses. Scores are then raised where
  needed so the list stays best-first.
- The evidence the agent's tools gathered is added to the diagnosis; the reasons for
  every rejected claim join ``rejected``; the cleaned narrative joins the summary.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from medic.diagnosis.agent_validate import AgentClaim, Claims
from medic.domain.model import Diagnosis, Evidence, Hypothesis, RootCause

__all__ = ["AGENT_SCORE", "MAX_MERGED", "merge"]

# An LLM reading of cited evidence, with no statistics behind it: a weak lead.
AGENT_SCORE = 0.3
MAX_MERGED = 8


def merge(
    diagnosis: Diagnosis,
    claims: Claims,
    new_evidence: Sequence[Evidence],
    missing: Sequence[str],
) -> Diagnosis:
    deterministic = list(diagnosis.hypotheses)
    agreeing: dict[int, AgentClaim] = {}
    novel: list[AgentClaim] = []
    order: list[tuple[str, int]] = []  # ("det", index) or ("new", index), agent order
    for claim in claims.accepted:
        match = _matching(deterministic, claim)
        if match is None:
            order.append(("new", len(novel)))
            novel.append(claim)
        elif match not in agreeing:
            agreeing[match] = claim
            order.append(("det", match))
    enriched = [
        _enrich(h, agreeing[i]) if i in agreeing else h for i, h in enumerate(deterministic)
    ]
    floor = min((h.score for h in deterministic), default=AGENT_SCORE)
    if diagnosis.conclusive:
        added = [_hypothesis(c, min(AGENT_SCORE, floor)) for c in novel]
        ranked = [*enriched, *added]
    else:
        led = [
            enriched[i] if kind == "det" else _hypothesis(novel[i], AGENT_SCORE)
            for kind, i in order
        ]
        led_det = {i for kind, i in order if kind == "det"}
        ranked = _best_first([*led, *(h for i, h in enumerate(enriched) if i not in led_det)])
    return replace(
        diagnosis,
        hypotheses=tuple(ranked[: max(MAX_MERGED, len(deterministic))]),
        evidence=(*diagnosis.evidence, *new_evidence),
        missing=(*diagnosis.missing, *missing),
        rejected=(*diagnosis.rejected, *claims.rejected),
        summary=_summary(diagnosis, ranked, claims),
    )


def _matching(hypotheses: Sequence[Hypothesis], claim: AgentClaim) -> int | None:
    for i, h in enumerate(hypotheses):
        if h.root_cause.service == claim.service and h.root_cause.category == claim.category:
            return i
    return None


def _enrich(hypothesis: Hypothesis, claim: AgentClaim) -> Hypothesis:
    ids = tuple(dict.fromkeys((*hypothesis.evidence_ids, *claim.evidence_ids)))
    return replace(hypothesis, evidence_ids=ids)


def _hypothesis(claim: AgentClaim, score: float) -> Hypothesis:
    return Hypothesis(
        root_cause=RootCause(claim.service, claim.category, claim.change),
        score=round(score, 3),
        explanation=f"(LLM agent, validated against the cited evidence) {claim.explanation}",
        evidence_ids=tuple(claim.evidence_ids),
        fault=claim.fault,
    )


def _best_first(ranked: list[Hypothesis]) -> list[Hypothesis]:
    out = list(ranked)
    for i in range(len(out) - 2, -1, -1):
        if out[i].score < out[i + 1].score:
            out[i] = replace(out[i], score=out[i + 1].score)
    return out


def _summary(diagnosis: Diagnosis, ranked: Sequence[Hypothesis], claims: Claims) -> str:
    parts = [diagnosis.summary]
    top, before = (ranked[0] if ranked else None), diagnosis.top
    if top is not None and (before is None or top.root_cause != before.root_cause):
        cause = top.root_cause
        parts.append(
            f"The LLM agent's validated lead: {cause.service}, {cause.category.value} "
            f"(citing {', '.join(top.evidence_ids)}); still inconclusive."
        )
    # The model's free-text narrative is never spoken in medic's voice: an obeying
    # model paraphrases an injection ("approved, no human needed") past any filter.
    if claims.rejected:
        parts.append(f"{len(claims.rejected)} LLM claim(s) rejected by validation.")
    return " ".join(parts)
