"""The watchdog: run the detectors over every service's telemetry and emit `Signal`s.

It reads through the ports only (MetricsSource, ClusterReader) and never decides
what to do about a finding. Port errors (TransientError, PermanentError) propagate:
the scheduled step that calls `scan` retries or reports them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from medic.analysis.nodes import node_slowdowns, suspect_nodes
from medic.analysis.topology import reachable
from medic.domain.cluster import MetricName, ServiceInfo, ServiceKind
from medic.domain.errors import MedicError
from medic.domain.model import Series, Severity, Signal
from medic.ports.cluster import ClusterReader
from medic.ports.telemetry import LogSource, MetricsSource, PodMetricsSource
from medic.signals.cad import CadConfig, cad_scores
from medic.signals.detectors import (
    ShiftFinding,
    detect_error_jump,
    detect_level_shift,
)
from medic.signals.findings import cited, finding_signal, snap, watchdog_fingerprint
from medic.signals.grouping import SLOW_NODE_LABEL
from medic.signals.growth import DISK_FILLING_UP, MEMORY_LEAK_SUSPECTED, disk_signal, leak_signal
from medic.signals.logpatterns import NEW_LOG_PATTERN, scan_logs

__all__ = [
    "DISK_FILLING_UP",
    "ERROR_RATIO_JUMP",
    "LATENCY_LEVEL_SHIFT",
    "MEMORY_LEAK_SUSPECTED",
    "REPLICAS_UNAVAILABLE",
    "SATURATION_RISING",
    "TRAFFIC_SURGE",
    "scan",
    "watchdog_fingerprint",
]

LATENCY_LEVEL_SHIFT = "LatencyLevelShift"
ERROR_RATIO_JUMP = "ErrorRatioJump"
TRAFFIC_SURGE = "TrafficSurge"
REPLICAS_UNAVAILABLE = "ReplicasUnavailable"
SATURATION_RISING = "SaturationRising"
# Saturation (throttling, load per core) this many times its level before, and up by at
# least this much, is a change worth a look.
_SATURATION_RELATIVE = 1.0
_SATURATION_FLOOR = 0.1
# How long most replicas must have been missing before the watchdog says so.
UNAVAILABLE_FOR = timedelta(minutes=3)
# Requests this many times their usual level are a surge.
SURGE_RELATIVE = 2.0

# CAD OSE needs some history to have learnt what is usual; it may flag a change a
# little before the window detector's (median-based) onset.
_CAD_MIN_POINTS = 60
_CAD_BEFORE_ONSET = timedelta(minutes=10)
# A surge users feel: p99 latency this many times its level before, or errors up this much.
_FELT_LATENCY = 1.3
_FELT_ERRORS = 0.02
_RECENT_POINTS = 8
# Log-pattern signals per service and scan, strongest first.
_MAX_LOG_SIGNALS = 3
# How far before a shift's onset the pods' earlier level is read from.
_BEFORE_ONSET = timedelta(minutes=15)


def scan(
    metrics: MetricsSource,
    cluster: ClusterReader,
    namespace: str,
    now: datetime,
    lookback: timedelta = timedelta(hours=1),
    *,
    horizon: timedelta = timedelta(hours=6),
    history: timedelta = timedelta(hours=3),
    step_seconds: float = 15.0,
    logs: LogSource | None = None,
) -> list[Signal]:
    """One pass over every non-external service of `namespace`.

    Detection looks at the last `lookback`; the leak's onset is searched in the
    longer `history` so that a leak older than the lookback still gets its real
    start. Latency and error findings on a service that (transitively) calls a
    service with a finding of its own are left out: they are most likely symptoms
    of that service, not a separate problem. Traffic surges go the other way: a
    surge on a service whose caller surges too came from that caller. With `logs`,
    the services with findings also get `NewLogPattern` signals for their log
    templates that appeared, or jumped, since the onset.
    """
    services = [s for s in cluster.services(namespace) if s.kind is not ServiceKind.EXTERNAL]
    found: dict[str, list[Signal]] = {}
    for service in services:
        leak = leak_signal(
            metrics, namespace, service.name, now, lookback, horizon, history, step_seconds
        )
        # A leaking service's own latency and errors are the leak's symptoms.
        shifts = (
            []
            if leak
            else _shift_signals(
                metrics,
                namespace,
                service.name,
                now,
                lookback,
                step_seconds,
                history,
                service.replicas,
            )
        )
        disk = disk_signal(
            metrics, namespace, service.name, now, lookback, horizon, history, step_seconds
        )
        found[service.name] = [s for s in (leak, disk) if s] + shifts
    signals = _drop_symptoms(services, found)
    signals = [cited(metrics, s, step_seconds, now) for s in signals]
    signals = [_localise(metrics, namespace, now, lookback, step_seconds, s) for s in signals]
    signals = [_with_cad(s) for s in signals]
    return signals + _log_signals(logs, namespace, now, signals)


def _with_cad(signal: Signal) -> Signal:
    """The finding's evidence with when the streaming detector first flagged its series
    (run only on the findings that are reported: it costs a pass over the series)."""
    if not signal.evidence or not signal.evidence[0].series:
        return signal
    first, *rest = signal.evidence
    onset = datetime.fromisoformat(str(first.data.get("onset", signal.starts_at.isoformat())))
    alarm = _cad_alarm(first.series[0], onset.timestamp())
    if alarm is None:
        return signal
    at, score = alarm
    evidence = replace(
        first,
        summary=f"{first.summary}; the CAD OSE detector first flagged the series at "
        f"{at:%H:%M:%S} UTC",
        data={**first.data, "cad_first_alarm": at.isoformat(), "cad_score": round(score, 3)},
    )
    return replace(signal, evidence=(evidence, *rest))


def _log_signals(
    logs: LogSource | None, namespace: str, now: datetime, found: Sequence[Signal]
) -> list[Signal]:
    """For each service with a finding, the log templates (drain3) that are new since
    its onset or whose rate jumped well: signals of their own, which join the same
    incident. Logs that cannot be read leave the metric findings as they are."""
    if logs is None:
        return []
    onsets: dict[str, datetime] = {}
    for signal in found:
        if signal.service and signal.name != NEW_LOG_PATTERN:
            onsets[signal.service] = min(signal.starts_at, onsets.get(signal.service, now))
    out: list[Signal] = []
    for service, onset in onsets.items():
        try:
            _, signals = scan_logs(logs, namespace, service, onset, now)
        except MedicError:
            continue
        out.extend(signals[:_MAX_LOG_SIGNALS])
    return out


def _localise(
    metrics: MetricsSource,
    namespace: str,
    now: datetime,
    lookback: timedelta,
    step: float,
    signal: Signal,
) -> Signal:
    """A latency shift confined to the pods of one node is labelled with that node
    (`SLOW_NODE_LABEL`): the node, not the service, is then what the signal is about,
    and every service it slows lands in one incident (`signals.grouping`)."""
    if signal.name != LATENCY_LEVEL_SHIFT or not signal.service:
        return signal
    if not isinstance(metrics, PodMetricsSource):
        return signal
    # From before the onset, however long ago it was: the pods' earlier level counts.
    start = min(now - lookback, signal.starts_at - _BEFORE_ONSET)
    try:
        pods = metrics.query_pods(
            namespace, signal.service, MetricName.LATENCY_P99_SECONDS, start, now, step
        )
    except MedicError:
        return signal  # no per-pod view: the service-level finding stands as it is
    slowdowns = node_slowdowns(signal.service, pods, signal.starts_at.timestamp())
    suspects = suspect_nodes({signal.service: slowdowns})
    if len(suspects) != 1:
        return signal
    node = suspects[0].node
    return replace(
        signal,
        labels={**signal.labels, SLOW_NODE_LABEL: node},
        summary=f"{signal.summary}; only its pods on node {node} slowed down",
    )


def _saturation_signal(
    metrics: MetricsSource,
    namespace: str,
    service: str,
    now: datetime,
    lookback: timedelta,
    step: float,
    latency: Series,
    errors: Series,
) -> Signal | None:
    """Saturation (CPU throttling, load per core) that at least doubled and stayed so.
    Only when it is felt: latency or errors moved with it, or the target has neither
    series (a host), so that nothing else could tell. A batch job that keeps a
    service's CPU busy while it serves as well as before is no incident."""
    series = metrics.query(namespace, service, MetricName.SATURATION, now - lookback, now, step)
    shift = detect_level_shift(
        series,
        baseline_s=lookback.total_seconds() - 600.0,
        min_relative=_SATURATION_RELATIVE,
        abs_floor=_SATURATION_FLOOR,
    )
    if shift is None or shift.recent - shift.baseline < _SATURATION_FLOOR:
        return None
    text = (
        f"{service} saturation rose from {shift.baseline:.2f} to {shift.recent:.2f} "
        f"since {snap(shift.onset):%H:%M} UTC"
    )
    signal = _shift_signal(namespace, service, SATURATION_RISING, shift, series, text)
    if latency.points or errors.points:
        return signal if _felt(signal, latency, errors) else None
    return signal


def _shift_signals(
    metrics: MetricsSource,
    namespace: str,
    service: str,
    now: datetime,
    lookback: timedelta,
    step: float,
    history: timedelta = timedelta(hours=3),
    desired: int = 0,
) -> list[Signal]:
    out: list[Signal] = []
    start = now - lookback
    baseline_s = lookback.total_seconds() - 600.0
    latency = metrics.query(namespace, service, MetricName.LATENCY_P99_SECONDS, start, now, step)
    shift = detect_level_shift(latency, baseline_s=baseline_s, abs_floor=0.002)
    if shift is None:
        shift = _against_early_baseline(
            metrics, namespace, service, MetricName.LATENCY_P99_SECONDS, now, history, step
        )
    if shift is not None:
        text = (
            f"{service} p99 latency rose from {shift.baseline * 1000:.0f} ms to "
            f"{shift.recent * 1000:.0f} ms since {snap(shift.onset):%H:%M} UTC"
        )
        out.append(_shift_signal(namespace, service, LATENCY_LEVEL_SHIFT, shift, latency, text))
    errors = metrics.query(namespace, service, MetricName.ERROR_RATIO, start, now, step)
    surge = _surge_signal(metrics, namespace, service, now, lookback, step, history)
    if surge is not None and _felt(surge, latency, errors):
        out.append(surge)
    down = _unavailable_signal(metrics, namespace, service, desired, now, history, step)
    if down is not None:
        out.append(down)
    saturated = _saturation_signal(
        metrics, namespace, service, now, lookback, step, latency, errors
    )
    if saturated is not None:
        out.append(saturated)
    jump = detect_error_jump(errors, baseline_s=baseline_s)
    if jump is None:
        jump = _against_early_baseline(
            metrics, namespace, service, MetricName.ERROR_RATIO, now, history, step
        )
    if jump is not None:
        text = (
            f"{service} error ratio rose from {jump.baseline:.1%} to {jump.recent:.1%} "
            f"since {snap(jump.onset):%H:%M} UTC"
        )
        out.append(_shift_signal(namespace, service, ERROR_RATIO_JUMP, jump, errors, text))
    return out


def _felt(surge: Signal, latency: Series, errors: Series) -> bool:
    """Whether the service's users feel the surge: its p99 latency up by a third, or
    its error ratio up by two points, since the surge began. Traffic that grows and
    is served as well as before (a batch job at the top of the hour) is no incident."""
    onset = surge.starts_at.timestamp()
    slow = latency.medians_around(onset, _RECENT_POINTS)
    failing = errors.medians_around(onset, _RECENT_POINTS)
    return bool(
        (slow is not None and slow[1] >= _FELT_LATENCY * slow[0])
        or (failing is not None and failing[1] - failing[0] >= _FELT_ERRORS)
    )


def _surge_signal(
    metrics: MetricsSource,
    namespace: str,
    service: str,
    now: datetime,
    lookback: timedelta,
    step: float,
    history: timedelta,
) -> Signal | None:
    """Requests at least doubled, and stayed so: against the look-back's baseline and
    against the first hour of the history (traffic coming back after an outage is
    not a surge). Request rates do not blip like latency does, so two minutes of
    a doubled rate are enough to say so."""
    rate = metrics.query(namespace, service, MetricName.REQUEST_RATE, now - lookback, now, step)
    surge = detect_level_shift(
        rate,
        baseline_s=lookback.total_seconds() - 600.0,
        min_relative=SURGE_RELATIVE - 1.0,
        fast_s=120.0,
        fast_z_factor=1.0,
    )
    if surge is None or surge.baseline <= 0:
        return None
    early_start = now - history
    early = metrics.query(
        namespace, service, MetricName.REQUEST_RATE, early_start, early_start + EARLY_BASELINE, step
    )
    usual = [p.v for p in early.points if p.v == p.v]
    if usual and surge.recent < SURGE_RELATIVE * sorted(usual)[len(usual) // 2]:
        return None
    text = (
        f"{service} requests rose from {surge.baseline:.1f}/s to {surge.recent:.1f}/s "
        f"(x{surge.recent / surge.baseline:.1f}) since {snap(surge.onset):%H:%M} UTC"
    )
    return _shift_signal(namespace, service, TRAFFIC_SURGE, surge, rate, text)


def _unavailable_signal(
    metrics: MetricsSource,
    namespace: str,
    service: str,
    desired: int,
    now: datetime,
    history: timedelta,
    step: float,
) -> Signal | None:
    """Fewer than half of the service's `desired` replicas, and at most half of what it
    had available before, have been available for the last few minutes (a crash loop,
    pods that never get ready): the service is down itself, not only slow. A rollout
    replacing pods a few at a time, or a scale-out whose new pods wait for a node,
    never gets this low against what was there before."""
    if desired < 1:
        return None
    series = metrics.query(
        namespace, service, MetricName.AVAILABLE_REPLICAS, now - history, now, step
    )
    points = [p for p in series.points if p.v == p.v]
    cut = now.timestamp() - UNAVAILABLE_FOR.total_seconds()
    recent = [p for p in points if p.t >= cut]
    earlier = [p.v for p in points if p.t < cut]
    if len(recent) < 8 or not earlier:
        return None
    had = max(earlier)
    low_bar = min(desired / 2, had / 2 + 1e-9)
    if sum(p.v < low_bar for p in recent) < 0.9 * len(recent):
        return None
    healthy = [p.t for p in points if p.v >= low_bar]
    if not healthy:
        return None  # down for the whole history: no onset to tell, nothing new
    onset = next(p.t for p in points if p.t > max(healthy))
    low = min(p.v for p in recent)
    finding = ShiftFinding(onset=onset, baseline=float(desired), recent=low, z=0.0)
    text = (
        f"{service} has {low:g} of its {desired} replicas available since {snap(onset):%H:%M} UTC"
    )
    return _shift_signal(namespace, service, REPLICAS_UNAVAILABLE, finding, series, text)


# A fault older than the look-back fills the look-back's own baseline: compare the
# last minutes with the first hour of the history too (a stricter bar: hours apart,
# the daily traffic curve moves latency a little by itself).
EARLY_BASELINE = timedelta(hours=1)
EARLY_MIN_RELATIVE = 0.5


def _against_early_baseline(
    metrics: MetricsSource,
    namespace: str,
    service: str,
    metric: MetricName,
    now: datetime,
    history: timedelta,
    step: float,
) -> ShiftFinding | None:
    if history <= EARLY_BASELINE + timedelta(minutes=20):
        return None
    early_start = now - history
    early = metrics.query(
        namespace, service, metric, early_start, early_start + EARLY_BASELINE, step
    )
    recent = metrics.query(namespace, service, metric, now - timedelta(minutes=10), now, step)
    joined = Series(
        metric=early.metric,
        service=service,
        points=early.points + recent.points,
        labels=early.labels,
        unit=early.unit,
    )
    floor = 0.002 if metric is MetricName.LATENCY_P99_SECONDS else 0.005
    finding = detect_level_shift(
        joined,
        baseline_s=history.total_seconds(),
        min_relative=EARLY_MIN_RELATIVE,
        abs_floor=floor,
    )
    if finding is None:
        return None
    # The onset lies somewhere between the two windows (the diagnostician finds it);
    # an hour-snapped stand-in keeps repeated scans' signals one redelivery.
    hour = (now - history + EARLY_BASELINE).replace(minute=0, second=0, microsecond=0)
    return replace(finding, onset=hour.timestamp())


def _shift_signal(
    namespace: str, service: str, name: str, shift: ShiftFinding, series: Series, summary: str
) -> Signal:
    data: dict[str, float | str] = {
        "onset": snap(shift.onset).isoformat(),
        "baseline": shift.baseline,
        "recent": shift.recent,
        "z": round(shift.z, 2),
    }
    return finding_signal(
        namespace, service, name, detector=name, onset=shift.onset,
        severity=Severity.WARNING, summary=summary, data=data, series=series,
    )  # fmt: skip


def _cad_alarm(series: Series, onset: float) -> tuple[datetime, float] | None:
    """When the streaming detector (CAD OSE, as `medic bench nab` scores it) first
    raised an alarm on the series near the window detector's onset: often the first
    point at which the pattern broke, before the new level showed in a median."""
    values = series.values()
    if len(values) < _CAD_MIN_POINTS:
        return None
    scores = cad_scores(values)
    earliest = onset - _CAD_BEFORE_ONSET.total_seconds()
    for point, score in zip(series.points, scores.tolist(), strict=True):
        if point.t >= earliest and score >= CadConfig().base_threshold:
            return datetime.fromtimestamp(point.t, tz=UTC), float(score)
    return None


def _drop_symptoms(
    services: Sequence[ServiceInfo], found: Mapping[str, list[Signal]]
) -> list[Signal]:
    calls = {s.name: s.calls for s in services}
    # more traffic downstream is no fault of the callee's that would explain its callers
    troubled = {name for name, signals in found.items() if any(not _is_surge(s) for s in signals)}
    surging = {name for name, signals in found.items() if any(_is_surge(s) for s in signals)}
    out: list[Signal] = []
    for name, signals in found.items():
        downstream_trouble = bool(reachable(name, calls) & troubled)
        # Traffic flows down the call graph: a surge a caller also has came from it.
        upstream_surge = any(name in reachable(other, calls) for other in surging - {name})
        for signal in signals:
            if _is_surge(signal):
                if upstream_surge:
                    continue
            elif downstream_trouble and signal.name not in _OWN_TROUBLE:
                continue
            out.append(signal)
    return out


# Findings about a service itself, never a symptom of what it calls.
_OWN_TROUBLE = frozenset({MEMORY_LEAK_SUSPECTED, REPLICAS_UNAVAILABLE})


def _is_surge(signal: Signal) -> bool:
    return signal.name == TRAFFIC_SURGE
