"""Which incident a signal belongs to, and what to call that incident.

Grouping follows three rules, configured by `GroupingRules` (settings: `grouping.*`):

1. **Group-by labels.** Signals with the same values of the `group_by` labels share a
   group (default: namespace and service, so an alert storm about one service —
   memory, latency, restarts, one alert per pod — is one incident). `namespace` and
   `service` read the signal's resolved fields, `alertname` its name, any other label
   the alert's labels. Without a service, the alert's name stands in for it.
2. **Topology.** A firing signal whose group has no open incident joins the open
   incident its alert already joined (at any age: a finding the watchdog reports
   again is no new failure), else an open incident of the same namespace about the
   same service (grouped under another key), else, while that incident is younger than
   `storm` or when the signal began (`starts_at`) within `storm` of its opening (a
   finding reported late is still part of the storm), one with a service (its own or
   one of its signals') the signal's service calls, directly or through others (its
   errors are the callee's failure seen from upstream), and otherwise one with a
   service that calls it (a storm that reached the callers first). So a failing
   database and its callers' alerts make one incident, a surge felt by the entry's
   callees, their databases and the other callers of those callees is one incident,
   and an unrelated fault hours later makes its own.
   A watchdog finding confined to the pods of one node (label `medic_slow_node`)
   groups by that node: a node that slows every pod on it is one incident.
3. **Flapping.** A group whose incident closed less than `window` ago absorbs its new
   signals instead of reopening; and a group that already had `flap_limit` incidents
   within `flap_period` stops opening new ones (the signals join the newest, where a
   human sees how often it fired). An alert that flaps all night is one or a few
   incidents, not one per flap. Likewise an alert that a recently closed incident had
   joins it again: the aftermath of a fix is not a new incident. A resolution goes to
   the incident its alert fired into.

Everything here is pure: the caller supplies the open and recent incidents and the
call graph.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from medic.analysis.topology import reachable
from medic.domain.model import Incident, Signal, SignalSource

__all__ = [
    "SLOW_NODE_LABEL",
    "GroupingRules",
    "all_resolved",
    "flapping",
    "group_key",
    "incident_title",
    "recently_involved",
    "topology_match",
]

# Set by the watchdog on a finding confined to the pods of one node.
SLOW_NODE_LABEL = "medic_slow_node"
_NO_NAMESPACE = "-"
_SERVICE = "service"
_NAMESPACE = "namespace"
_ALERTNAME = "alertname"


@dataclass(frozen=True)
class GroupingRules:
    group_by: tuple[str, ...] = (_NAMESPACE, _SERVICE)
    window: timedelta = timedelta(minutes=30)
    storm: timedelta = timedelta(minutes=15)  # a neighbour's incident this young takes it
    topology: bool = True
    flap_limit: int = 3
    flap_period: timedelta = timedelta(hours=6)


DEFAULT_RULES = GroupingRules()


def group_key(signal: Signal, rules: GroupingRules = DEFAULT_RULES) -> str:
    """The group's values joined by "/": by default `namespace/service`, and without a
    service `namespace/alert:<name>`. A watchdog finding confined to one node's pods
    groups by that node, `namespace/node:<node>`, whatever the service."""
    node = signal.labels.get(SLOW_NODE_LABEL)
    if node and signal.source is SignalSource.WATCHDOG:
        return f"{_value(signal, _NAMESPACE)}/node:{node}"
    parts = [_value(signal, label) for label in rules.group_by]
    return "/".join(parts)


def _value(signal: Signal, label: str) -> str:
    if label == _NAMESPACE:
        return signal.namespace or signal.labels.get(_NAMESPACE) or _NO_NAMESPACE
    if label == _SERVICE:
        return signal.service or f"alert:{signal.name}"
    if label == _ALERTNAME:
        return signal.name
    return signal.labels.get(label, "")


def topology_match(
    signal: Signal,
    namespace: str,
    open_incidents: Sequence[Incident],
    calls: Mapping[str, Sequence[str]],
    members: Mapping[str, Collection[str]] | None = None,
) -> Incident | None:
    """The open incident a firing signal joins through the call graph, if any: one about
    the same service (grouped under another key), else one with a service the signal's
    service calls (newest first), else one with a service that calls it. An incident's
    services are its own and, in `members` (by incident id), those of its signals."""
    service = signal.service
    if not service:
        return None
    same = [i for i in open_incidents if i.namespace == namespace and i.service]
    for incident in same:
        if incident.service == service:
            return incident  # grouped under another key (a node's): the same service
    if service not in calls:
        return None  # a service the call graph does not know has no neighbours
    known = members or {}

    def services(incident: Incident) -> list[str]:
        theirs = sorted(s for s in known.get(incident.id, ()) if s != incident.service)
        return [str(incident.service), *theirs]

    callees = reachable(service, calls)
    for incident in same:
        if any(s in callees for s in services(incident)):
            return incident
    for incident in same:
        if any(service in reachable(s, calls) for s in services(incident)):
            return incident
    return None


def flapping(
    key: str,
    history: Iterable[Incident],
    now: datetime,
    rules: GroupingRules,
    had_this_alert: Callable[[Incident], bool] | None = None,
) -> Incident | None:
    """The incident a group's new signal joins instead of opening one, if the group
    flaps: its newest incident closed less than `window` ago, or this very alert
    (`had_this_alert`) already made `flap_limit` incidents within `flap_period`.
    `history` is newest first."""
    mine = [i for i in history if i.group_key == key and i.state.terminal]
    if not mine:
        return None
    newest = mine[0]
    if now - newest.updated_at < rules.window:
        return newest
    recent = [i for i in mine if now - i.opened_at < rules.flap_period]
    if had_this_alert is not None:
        recent = [i for i in recent if had_this_alert(i)]
    if rules.flap_limit > 0 and len(recent) >= rules.flap_limit:
        return recent[0]
    return None


def recently_involved(
    signal: Signal,
    closed: Iterable[Incident],
    alerts_of: Mapping[str, set[tuple[str, str]]],
    now: datetime,
    rules: GroupingRules,
) -> Incident | None:
    """A firing signal of an alert (source and fingerprint) that an incident closed less
    than `window` ago already had, in the same namespace: the aftermath of that
    incident, still in the watchdog's look-back, joins it instead of opening another.
    `closed` is newest first; `alerts_of` maps incident ids to their alerts."""
    alert = (str(signal.source), signal.fingerprint)
    for incident in closed:
        if now - incident.updated_at >= rules.window:
            continue
        if incident.namespace == signal.namespace and alert in alerts_of.get(incident.id, set()):
            return incident
    return None


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
