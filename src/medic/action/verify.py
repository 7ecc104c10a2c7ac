"""Verification: did the system come back within the plan's criteria?

Polls each criterion's series through the MetricsSource, counting only points seen
after verification began, until every criterion has held for the last `sustain` points
(RECOVERED, as soon as that is true) or the window ends (NOT_RECOVERED). A criterion
without enough data at the end, an unknown metric, or a port that keeps failing makes
the outcome INCONCLUSIVE: missing data is never success.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from medic.domain import (
    Criterion,
    MetricName,
    PermanentError,
    TransientError,
    Verification,
    VerificationOutcome,
)
from medic.ports import Clock, MetricsSource

__all__ = ["verify"]

Scalar = str | int | float | bool | None


@dataclass
class _Watch:
    """What has been seen of one criterion so far."""

    criterion: Criterion
    metric: MetricName
    values: list[float] = field(default_factory=list)  # from the last successful read
    error: str | None = None

    @property
    def label(self) -> str:
        return f"{self.criterion.service}.{self.criterion.metric}"

    def holds(self, value: float) -> bool:
        c = self.criterion
        return (c.upper is None or value <= c.upper) and (c.lower is None or value >= c.lower)

    def sustained(self, sustain: int) -> bool:
        return len(self.values) >= sustain and all(self.holds(v) for v in self.values[-sustain:])


def verify(
    criteria: Sequence[Criterion],
    metrics: MetricsSource,
    namespace: str,
    clock: Clock,
    window_s: float | None = None,
    poll_s: float = 30.0,
    *,
    step_s: float = 15.0,
    sustain: int = 3,
) -> Verification:
    """Watch `criteria` for up to `window_s` (default: the longest criterion window)."""
    if not criteria:
        return _done(VerificationOutcome.INCONCLUSIVE, clock, "no criteria to verify against", {})
    known = {m.value: m for m in MetricName}
    unknown = [c.metric for c in criteria if c.metric not in known]
    if unknown:
        detail = f"cannot read unknown metric(s) {', '.join(unknown)}"
        return _done(VerificationOutcome.INCONCLUSIVE, clock, detail, {})
    watches = [_Watch(c, known[c.metric]) for c in criteria]
    window = window_s if window_s is not None else max(c.window_seconds for c in criteria)
    start = clock.now()
    polls = 0
    while True:
        polls += 1
        now = clock.now()
        try:
            for watch in watches:
                _read(watch, metrics, namespace, start, now, step_s)
        except PermanentError as e:
            # Retrying will not make this readable: say so now rather than wait out the window.
            obs = _observations(watches, polls, now - start)
            detail = f"cannot read the verification metrics: {e}"
            return _done(VerificationOutcome.INCONCLUSIVE, clock, detail, obs)
        elapsed = (now - start).total_seconds()
        if all(w.sustained(sustain) for w in watches):
            obs = _observations(watches, polls, now - start)
            return _done(
                VerificationOutcome.RECOVERED, clock, _held(watches, sustain, elapsed), obs
            )
        if elapsed >= window:
            break
        clock.sleep(min(poll_s, window - elapsed))
    obs = _observations(watches, polls, clock.now() - start)
    starved = [w for w in watches if len(w.values) < sustain]
    if starved:
        return _done(
            VerificationOutcome.INCONCLUSIVE, clock, _starved(starved, sustain, window), obs
        )
    return _done(VerificationOutcome.NOT_RECOVERED, clock, _failed(watches, sustain, window), obs)


def _read(
    watch: _Watch,
    metrics: MetricsSource,
    namespace: str,
    start: datetime,
    now: datetime,
    step_s: float,
) -> None:
    c = watch.criterion
    try:
        series = metrics.query(namespace, c.service, watch.metric, start, now, step_s)
    except TransientError as e:
        watch.error = str(e)  # keep the last good values; the next poll may succeed
        return
    watch.error = None
    since = start.timestamp()
    watch.values = [p.v for p in series.points if p.t >= since and math.isfinite(p.v)]


def _bound(c: Criterion) -> str:
    parts = []
    if c.lower is not None:
        parts.append(f">= {c.lower:.6g}")
    if c.upper is not None:
        parts.append(f"<= {c.upper:.6g}")
    return " and ".join(parts) or "(unbounded)"


def _held(watches: Sequence[_Watch], sustain: int, elapsed: float) -> str:
    held = "; ".join(f"{w.label} {w.values[-1]:.6g} {_bound(w.criterion)}" for w in watches)
    return f"recovered after {elapsed:g}s, held for the last {sustain} points: {held}"


def _failed(watches: Sequence[_Watch], sustain: int, window: float) -> str:
    bad = [w for w in watches if not w.sustained(sustain)]
    parts = "; ".join(
        f"{w.label} last {w.values[-1]:.6g}, wanted {_bound(w.criterion)}" for w in bad
    )
    return f"not recovered within {window:g}s: {parts}"


def _starved(watches: Sequence[_Watch], sustain: int, window: float) -> str:
    parts = "; ".join(
        f"{w.label} had {len(w.values)} point(s)" + (f" (last error: {w.error})" if w.error else "")
        for w in watches
    )
    return f"inconclusive: fewer than {sustain} data points within {window:g}s: {parts}"


def _observations(watches: Sequence[_Watch], polls: int, elapsed: timedelta) -> dict[str, Scalar]:
    obs: dict[str, Scalar] = {"polls": polls, "elapsed_s": elapsed.total_seconds()}
    for w in watches:
        obs[f"{w.label}.upper"] = w.criterion.upper
        obs[f"{w.label}.lower"] = w.criterion.lower
        obs[f"{w.label}.points"] = len(w.values)
        obs[f"{w.label}.last"] = w.values[-1] if w.values else None
        if w.error:
            obs[f"{w.label}.error"] = w.error
    return obs


def _done(
    outcome: VerificationOutcome, clock: Clock, detail: str, obs: dict[str, Scalar]
) -> Verification:
    return Verification(outcome=outcome, checked_at=clock.now(), detail=detail, observations=obs)
