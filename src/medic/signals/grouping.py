"""Which incident a signal belongs to, and what to call that incident.

For now one incident per service (per namespace): an alert storm about one service
(memory, latency, restarts) is one incident. Topology-aware grouping (a failing
database and its callers' alerts as one incident) comes later and replaces
`group_key` without changing its signature.
"""

from __future__ import annotations

from collections.abc import Iterable

from medic.domain.model import Signal

__all__ = ["all_resolved", "group_key", "incident_title"]

_NO_NAMESPACE = "-"


def group_key(signal: Signal) -> str:
    """`namespace/service`; without a service, `namespace/alert:<name>`."""
    namespace = signal.namespace or _NO_NAMESPACE
    if signal.service:
        return f"{namespace}/{signal.service}"
    return f"{namespace}/alert:{signal.name}"


def incident_title(signal: Signal) -> str:
    """A short human title, e.g. "MemoryLeakSuspected on auth-service (production)"."""
    where = signal.service or "unknown service"
    if signal.namespace:
        where = f"{where} ({signal.namespace})"
    return f"{_one_line(signal.name)} on {where}"


def _one_line(text: str, limit: int = 80) -> str:
    # Alert names are untrusted text: keep the title to one bounded line.
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def all_resolved(signals: Iterable[Signal]) -> bool:
    """Whether every alert among `signals` has resolved: for each alert (source and
    fingerprint) the latest delivery, in the order given, says resolved. No signals,
    or a watchdog finding (which never resolves), means not resolved."""
    latest: dict[tuple[str, str], bool] = {}
    for signal in signals:
        latest[(str(signal.source), signal.fingerprint)] = signal.firing
    return bool(latest) and not any(latest.values())
