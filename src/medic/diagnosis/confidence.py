"""How far the evidence singles out the first cause, and what to check when it does not.

Two things make a ranking believable: the first moved clearly (its harm-weighted
robust score), and nothing it does not explain moved nearly as much (the margin over
the first competitor; its own victims, and services the symptom passed over, are no
competitors). The confidence is the product of the two, each mapped to 0..1:

    strength = 1 - exp(-score / conclusive_z)
    margin   = 1 - competitor / score

A ranking is *conclusive* when the first scores at least `conclusive_z` and at least
`conclusive_margin` times its first competitor. Otherwise it says why not and what a
human should check next, naming the services and series involved.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import replace

from medic.analysis.topology import reachable
from medic.diagnosis.propagation import serves_less
from medic.diagnosis.ranking_types import RankedCause, Ranking, RankingParams

__all__ = ["judge"]


def judge(
    ranking: Ranking, p: RankingParams, calls: Mapping[str, Sequence[str]] | None = None
) -> Ranking:
    top = ranking.causes[0] if ranking.causes else None
    if top is None or not top.anomalous:
        return replace(
            ranking,
            confidence=0.0,
            conclusive=False,
            reason=f"no service moved more than {p.anomaly_z:g} robust units where it hurts",
            check_next=(
                "check that the data covers the incident window and the affected services",
                "check the logs, events and recent changes of the alerting service",
            ),
        )
    rival = _competitor(ranking, top, reachable(top.service, calls or {}))
    rival_score = rival.score if rival is not None else 0.0
    strength = 1.0 - math.exp(-top.score / p.conclusive_z)
    margin = 1.0 - min(rival_score / top.score, 1.0) if top.score > 0 else 0.0
    confidence = round(strength * margin, 3)
    strong = top.score >= p.conclusive_z
    ahead = rival is None or top.score >= p.conclusive_margin * rival_score
    if strong and ahead:
        reason = f"{top.service}'s {top.metric} moved {top.score:.1f} robust units" + (
            f", {top.score / rival_score:.1f}x more than {rival.service}'s {rival.metric}"
            if rival is not None and rival_score > 0
            else ", and nothing else it does not explain moved"
        )
        return replace(ranking, confidence=confidence, conclusive=True, reason=reason)
    if not strong:
        reason = (
            f"the strongest move, {top.service}'s {top.metric}, is only "
            f"{top.score:.1f} robust units (conclusive from {p.conclusive_z:g})"
        )
        check = (
            f"check {top.service}'s logs and recent changes around the onset",
            "check whether the baseline window is representative (another day, a deploy)",
        )
    else:
        assert rival is not None
        reason = (
            f"{top.service}'s {top.metric} ({top.score:.1f}) and {rival.service}'s "
            f"{rival.metric} ({rival_score:.1f}) moved alike, and neither explains the other"
        )
        check = (
            f"compare {top.service} and {rival.service}: which changed first "
            "(deploys, config, logs)",
            f"check whether {top.service} calls {rival.service} or the other way round "
            "(a missing call edge hides the propagation)",
        )
    return replace(
        ranking, confidence=confidence, conclusive=False, reason=reason, check_next=check
    )


def _competitor(ranking: Ranking, top: RankedCause, below: set[str]) -> RankedCause | None:
    """The strongest other anomalous service the first does not explain. A service the
    first calls whose worst move is that it serves less is no rival: traffic flows
    down the calls, so that is the first calling it less."""
    for cause in ranking.causes[1:]:
        if not cause.anomalous:
            continue
        if cause.victim_of is not None or cause.service in ranking.passed_over:
            continue
        if cause.service in below and serves_less(cause):
            continue
        return cause
    return None
