"""Verification: did the system come back within the plan's criteria?

Polls each criterion's series through the MetricsSource, counting only points seen
after verification began, until every criterion has held for the last `sustain` points
(RECOVERED, as soon as that is true) or the window ends (NOT_RECOVERED). A criterion
without enough data at the end, an unknown metric, or a port that keeps failing makes
the outcome INCONCLUSIVE: missing data is never success.

`verify` watches in one call. A durable workflow instead calls `begin` once and then
`poll` once per step, waiting between steps: each poll is then recorded on its own
and the window is measured from the recorded start, so a crash neither repeats
finished polls nor moves the deadline.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
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

__all__ = ["Progress", "begin", "poll", "verify"]

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


@dataclass(frozen=True)
class Progress:
    """Where a verification stands between polls: when it began (the injected clock's
    time), how many polls ran, the values each criterion last read successfully; once
    it is over, `result`; else `wait_s`, the clock seconds until the next poll."""

    start: datetime
    window_s: float
    polls: int = 0
    values: tuple[tuple[float, ...], ...] = ()
    errors: tuple[str | None, ...] = ()
    result: Verification | None = None
    wait_s: float = 0.0


def begin(criteria: Sequence[Criterion], clock: Clock, window_s: float | None = None) -> Progress:
    """Start verifying `criteria` now; a result at once when they cannot be verified."""
    start = clock.now()
    if not criteria:
        done = _done(VerificationOutcome.INCONCLUSIVE, clock, "no criteria to verify against", {})
        return Progress(start, 0.0, result=done)
    known = {m.value for m in MetricName}
    unknown = [c.metric for c in criteria if c.metric not in known]
    if unknown:
        detail = f"cannot read unknown metric(s) {', '.join(unknown)}"
        return Progress(
            start, 0.0, result=_done(VerificationOutcome.INCONCLUSIVE, clock, detail, {})
        )
    window = window_s if window_s is not None else max(c.window_seconds for c in criteria)
    empty: tuple[tuple[float, ...], ...] = tuple(() for _ in criteria)
    return Progress(start, window, values=empty, errors=tuple(None for _ in criteria))


def poll(
    progress: Progress,
    criteria: Sequence[Criterion],
    metrics: MetricsSource,
    namespace: str,
    clock: Clock,
    poll_s: float = 30.0,
    *,
    step_s: float = 15.0,
    sustain: int = 3,
) -> Progress:
    """One poll of every criterion: the progress after it (with `result` once over)."""
    if progress.result is not None:
        return progress
    watches = [
        _Watch(c, MetricName(c.metric), list(v), e)
        for c, v, e in zip(criteria, progress.values, progress.errors, strict=True)
    ]
    polls, start, window = progress.polls + 1, progress.start, progress.window_s
    now = clock.now()
    elapsed = (now - start).total_seconds()
    result: Verification | None = None
    try:
        for watch in watches:
            _read(watch, metrics, namespace, start, now, step_s)
    except PermanentError as e:
        # Retrying will not make this readable: say so now rather than wait out the window.
        detail = f"cannot read the verification metrics: {e}"
        result = _done(
            VerificationOutcome.INCONCLUSIVE,
            clock,
            detail,
            _observations(watches, polls, now - start),
        )
    else:
        result = _verdict(watches, polls, now - start, window, sustain, clock)
    return replace(
        progress,
        polls=polls,
        values=tuple(tuple(w.values) for w in watches),
        errors=tuple(w.error for w in watches),
        result=result,
        wait_s=0.0 if result else min(poll_s, window - elapsed),
    )


def _verdict(
    watches: Sequence[_Watch],
    polls: int,
    elapsed: timedelta,
    window: float,
    sustain: int,
    clock: Clock,
) -> Verification | None:
    seconds = elapsed.total_seconds()
    obs = _observations(watches, polls, elapsed)
    if all(w.sustained(sustain) for w in watches):
        return _done(VerificationOutcome.RECOVERED, clock, _held(watches, sustain, seconds), obs)
    if seconds < window:
        return None
    starved = [w for w in watches if len(w.values) < sustain]
    if starved:
        return _done(
            VerificationOutcome.INCONCLUSIVE, clock, _starved(starved, sustain, window), obs
        )
    return _done(VerificationOutcome.NOT_RECOVERED, clock, _failed(watches, sustain, window), obs)


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
    progress = begin(criteria, clock, window_s)
    while progress.result is None:
        if progress.polls:
            clock.sleep(progress.wait_s)
        progress = poll(
            progress, criteria, metrics, namespace, clock, poll_s, step_s=step_s, sustain=sustain
        )
    return progress.result


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
