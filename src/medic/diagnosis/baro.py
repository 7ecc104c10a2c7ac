"""The offline statistical core (`ranking.rank_root_causes`, BARO-style) over live evidence.

The live diagnostician reasons with directions, logs, events and nodes; the robust
ranking sees only the numbers. Running both over the same series gives a second
opinion: when the ranking agrees, the explanation says so; when its first choice is
a service the hypotheses neither blame nor explain, the confidence drops a little,
because the evidence is contradictory.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from medic.analysis.logseries import log_series
from medic.diagnosis.evidence import EvidenceBook
from medic.diagnosis.ranking import Ranking, Symptom, rank_root_causes

__all__ = ["SecondOpinion", "second_opinion"]

_SHOWN = 3


@dataclass(frozen=True)
class SecondOpinion:
    ranking: Ranking
    evidence_id: str

    def rank_of(self, service: str) -> int | None:
        return self.ranking.rank_of(service)

    @property
    def first(self) -> str | None:
        top = self.ranking.causes[0] if self.ranking.causes else None
        return top.service if top is not None and top.anomalous else None


def second_opinion(book: EvidenceBook, symptom: Symptom | None = None) -> SecondOpinion | None:
    """The robust ranking of every gathered series and log template, recorded as
    evidence; None without data. `symptom` (the incident's alert) guides the search
    when the call graph knows its service."""
    if not book.series:
        return None
    times = sorted({p.t for s in book.series.values() for p in s.points})
    index = {t: i for i, t in enumerate(times)}
    metrics: dict[str, dict[str, np.ndarray]] = {}
    for (service, metric), series in book.series.items():
        values = np.full(len(times), math.nan)
        for p in series.points:
            values[index[p.t]] = p.v
        metrics.setdefault(service, {})[str(metric)] = values
    axis = np.asarray(times, dtype=np.float64)
    for service, per_template in _log_series(book, axis).items():
        metrics.setdefault(service, {}).update(per_template)
    calls = {name: info.calls for name, info in book.services.items()}
    known = symptom is not None and (symptom.service in metrics or symptom.service in calls)
    ranking = rank_root_causes(times, metrics, calls=calls, symptom=symptom if known else None)
    shown = [c for c in ranking.causes if c.anomalous][:_SHOWN]
    listed = ", ".join(
        f"{c.service} ({c.metric}, z {c.raw_score:.1f}"
        + (f", downstream of {c.victim_of})" if c.victim_of else ")")
        for c in shown
    )
    evidence_id = book.add(
        "statistics",
        "robust ranking (median/IQR after vs before the onset, call-graph propagation)",
        f"robust ranking over {len(book.series)} series: " + (listed or "nothing moved"),
        data={"first": shown[0].service if shown else None, "services": len(metrics)},
    )
    return SecondOpinion(ranking, evidence_id)


def _log_series(book: EvidenceBook, axis: np.ndarray) -> dict[str, dict[str, np.ndarray]]:
    """The gathered log lines as template series on the metrics' time axis, NaN
    outside the windows the lines were read for (no lines there is no evidence)."""
    out: dict[str, dict[str, np.ndarray]] = {}
    for service, logs in book.logs.items():
        if not logs.lines or axis.size < 2:
            continue
        records = [(line.at.timestamp(), service, line.message) for line in logs.lines]
        covered = np.zeros(axis.size, dtype=bool)
        for start, end in logs.windows:
            covered |= (axis >= start.timestamp()) & (axis <= end.timestamp())
        for name, values in log_series(records, axis).get(service, {}).items():
            out.setdefault(service, {})[name] = np.where(covered, values, math.nan)
    return out
