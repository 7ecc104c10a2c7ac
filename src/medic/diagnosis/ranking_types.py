"""The root-cause ranking's vocabulary: its parameters, its inputs and its answer."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from medic.analysis.scoring import ScoringParams

__all__ = ["RankedCause", "Ranking", "RankingParams", "Symptom"]


@dataclass(frozen=True)
class RankingParams:
    scoring: ScoringParams = field(default_factory=ScoringParams)
    anomaly_z: float = 4.0  # a service this far (harm-weighted) off its baseline is anomalous
    significant_z: float = 6.0  # a change point this strong may mark the onset
    victim_discount: float = 0.3
    victim_cap: float = 0.95  # a victim scores at most this fraction of its cause
    victim_slack_s: float = 300.0  # a cause may start this much after its victim (noise)
    victim_strength: float = 0.5  # ... if it moved at least this much relative to it
    tie_steps: float = 2.0  # onsets this many samples apart are simultaneous
    onset_half_life_s: float = 1800.0
    surge_ratio: float = 1.5  # load this many times its own before: part of a surge
    # Conclusive: the first is clearly anomalous and clearly ahead of the runner-up.
    conclusive_z: float = 6.0
    conclusive_margin: float = 1.5


@dataclass(frozen=True)
class Symptom:
    """Where the trouble was seen, as an alert says it."""

    service: str
    metric: str | None = None  # a kind (`latency`, `errors`, ...) or a metric's name
    time: float | None = None  # Unix seconds


@dataclass(frozen=True)
class RankedCause:
    service: str
    score: float  # the ranking score (victims and late movers discounted)
    raw_score: float  # the worst metric's harm-weighted robust z, undiscounted
    metric: str | None  # the worst metric
    onset: float | None  # when this service left its baseline (None: it did not)
    victim_of: str | None = None  # the callee that explains this service's anomaly
    z: float = 0.0  # the worst metric's signed robust move (negative: it fell)

    @property
    def anomalous(self) -> bool:
        return self.onset is not None


@dataclass(frozen=True)
class Ranking:
    causes: tuple[RankedCause, ...]  # most likely first
    onset: float | None  # the onset used (given or found); None without usable data
    onset_found: bool  # True when the onset was inferred, not given
    metric_scores: Mapping[tuple[str, str], float] = field(default_factory=dict)
    confidence: float = 0.0  # 0..1: how far the evidence singles out the first
    conclusive: bool = False
    reason: str = ""  # why it is (in)conclusive, in a sentence
    check_next: tuple[str, ...] = ()  # what a human should look at when it is not
    passed_over: Mapping[str, str] = field(default_factory=dict)  # service -> why not it
    symptom_path: tuple[str, ...] = ()  # symptom -> ... -> the cause, when searched

    def rank_of(self, service: str) -> int | None:
        """1-based rank of `service`, None when it is not ranked."""
        for i, cause in enumerate(self.causes, start=1):
            if cause.service == service:
                return i
        return None
