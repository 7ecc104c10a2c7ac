"""Data honesty: how much history the diagnosis found, and what it may then claim.

The diagnosis asks for the incident window (two hours before the first signal to now);
a fresh Prometheus or a new service may hold five minutes of it. That is said per
source ("metrics: 5 of 180 minutes"), and too little history, or no data at all, makes
the diagnosis inconclusive with that reason rather than a verdict on a baseline that
was never seen. When nothing is blamed, the reason says what did move (and how far),
so that a summary never contradicts the evidence it cites.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from medic.diagnosis.anomaly import ANOMALY_Z, SeriesAnomaly
from medic.diagnosis.baro import SecondOpinion
from medic.diagnosis.evidence import EvidenceBook

__all__ = ["MIN_HISTORY_MINUTES", "History", "found_history", "nothing_blamed", "too_little"]

# Less than this much of a series' past is no baseline to judge a change against.
MIN_HISTORY_MINUTES = 30.0


@dataclass(frozen=True)
class History:
    asked_minutes: float
    found_minutes: float  # the longest series' span
    series: int  # series with data
    queried: int  # series asked for

    def text(self) -> str:
        if not self.series:
            return f"metrics: no data in the {self.asked_minutes:.0f} minutes asked for"
        return (
            f"metrics: {self.found_minutes:.0f} of {self.asked_minutes:.0f} minutes of history "
            f"({self.series} series with data)"
        )


def found_history(book: EvidenceBook, queried: int) -> History:
    spans = [
        (s.points[-1].t - s.points[0].t) / 60.0 for s in book.series.values() if len(s.points) > 1
    ]
    asked = (book.end - book.start).total_seconds() / 60.0
    return History(asked, max(spans, default=0.0), len(book.series), queried)


def too_little(history: History) -> str | None:
    """Why the metrics cannot support a verdict, or None when they can."""
    if not history.series:
        return (
            f"no data: none of the {history.queried} metric queries returned a series in the "
            f"{history.asked_minutes:.0f} minutes asked for"
        )
    if history.found_minutes < MIN_HISTORY_MINUTES:
        return (
            f"too little history: only {history.found_minutes:.0f} of "
            f"{history.asked_minutes:.0f} minutes of metrics were found (at least "
            f"{MIN_HISTORY_MINUTES:.0f} are needed for a baseline)"
        )
    return None


def nothing_blamed(
    where: str, per_series: Sequence[SeriesAnomaly], opinion: SecondOpinion | None
) -> str:
    """Why no hypothesis stands, true to what the evidence shows moved."""
    moved = sorted((a for a in per_series if a.score >= ANOMALY_Z), key=lambda a: -a.score)
    ranked = [c for c in opinion.ranking.causes if c.anomalous] if opinion is not None else []
    if not moved and not ranked:
        return (
            f"no metric of {where} or its neighbours moved more than {ANOMALY_Z:g} robust "
            "sigmas from its baseline, and no log, event or node points at a cause"
        )
    shown = [f"{a.service} {a.metric} (z {a.score:.1f})" for a in moved[:3]]
    shown += [
        f"{c.service} {c.metric} (z {c.raw_score:.1f}, robust ranking {opinion.evidence_id})"
        for c in ranked[:3]
        if opinion is not None
    ]
    return (
        "metrics moved (" + ", ".join(dict.fromkeys(shown)) + ") but no hypothesis of the "
        "catalogue explains them: no change, log, event or node ties them to a cause"
    )
