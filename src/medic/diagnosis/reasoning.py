"""Putting the candidates together: who explains whom.

A candidate that another explains becomes a victim: its score is discounted and the
diagnosis says why it was rejected. Explanations, strongest first:

- callers' logs name a dependency in refused or TLS-failed calls: the callers are
  victims of the dependency (even when one of them changed: a change to a caller
  does not make its dependency refuse connections); slow calls to a dependency that
  only callers with a fresh change see point back at the change instead;
- a service whose request rate rose together with its callers' is carrying a surge
  that entered upstream;
- a service whose slow pods all sit on one node is a victim of that node;
- a caller whose latency or errors moved while something it calls broke no later
  (the call graph and the onset order, `anomaly.rank_services`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from medic.diagnosis.anomaly import ServiceAnomaly, reachable
from medic.diagnosis.catalog import dependency_leads
from medic.diagnosis.correlation import Culprit
from medic.diagnosis.evidence import EvidenceBook
from medic.diagnosis.hypotheses import (
    Candidate,
    candidate_for,
    dependency_candidate,
    node_candidate,
)

__all__ = ["VICTIM_DISCOUNT", "build_candidates"]

_Victim = Callable[[str, str, str], None]

VICTIM_DISCOUNT = 0.3
_HARD_FAULTS = frozenset({"dependency_outage", "cert_expiry", "crashloop"})
# A caller's fresh change explains slowness only it sees this much better than the dependency.
_CALLER_CHANGE_DISCOUNT = 0.4


def build_candidates(
    ranked: Sequence[ServiceAnomaly],
    culprits: Mapping[str, Culprit],
    book: EvidenceBook,
    incident_service: str | None,
) -> tuple[list[Candidate], list[str]]:
    """Every candidate, strongest first, and why the victims among them were rejected."""
    anomalies = {a.service: a for a in ranked if a.anomalous and a.worst is not None}
    cands = {s: candidate_for(a, culprits.get(s), book) for s, a in anomalies.items()}
    rejected: list[str] = []

    def victim(service: str, cause: str, why: str) -> None:
        cand = cands.get(service)
        if cand is None or cand.victim_of is not None or service == cause:
            return
        if cand.fault == "node_pressure":
            return  # the node explains it, whatever it calls
        cand.victim_of = cause
        cand.discount = VICTIM_DISCOUNT
        cand.parts.append(f"most likely a symptom: {why}")
        rejected.append(f"{service} is not the cause: {why}")

    _dependencies(cands, anomalies, culprits, book, victim)
    _surges(cands, book, victim)
    _nodes(cands, anomalies, culprits, book, incident_service)
    for a in ranked:
        if a.victim_of is None or a.service not in anomalies:
            continue
        root = _root_of(cands, a.victim_of)
        if root is None or root == a.service:
            continue  # what it calls is itself explained by this very service
        # A fresh change of its own keeps a service a suspect, unless what it calls
        # fails hard (refused, TLS) on its own: a release does not make that happen.
        if a.service not in culprits or _hard_failure(cands, a.victim_of):
            victim(
                a.service,
                a.victim_of,
                f"its {a.worst.metric if a.worst else 'metrics'} moved but it calls "
                f"{a.victim_of}, which went wrong no later",
            )
    ordered = sorted(cands.values(), key=lambda c: (-c.score, -c.raw, c.service))
    return ordered, rejected


def _root_of(cands: Mapping[str, Candidate], service: str) -> str | None:
    """Where the chain of "a symptom of" from `service` ends (None: a cycle)."""
    seen: set[str] = set()
    current = service
    while current not in seen:
        seen.add(current)
        cand = cands.get(current)
        if cand is None or cand.victim_of is None:
            return current
        current = cand.victim_of
    return None


def _hard_failure(cands: Mapping[str, Candidate], service: str) -> bool:
    """Whether `service`, or what finally explains it, fails hard for its callers."""
    seen: set[str] = set()
    current: str | None = service
    while current is not None and current not in seen:
        seen.add(current)
        cand = cands.get(current)
        if cand is None:
            return False
        if cand.victim_of is None:
            return cand.fault in _HARD_FAULTS
        current = cand.victim_of
    return False


def _dependencies(
    cands: dict[str, Candidate],
    anomalies: Mapping[str, ServiceAnomaly],
    culprits: Mapping[str, Culprit],
    book: EvidenceBook,
    victim: _Victim,
) -> None:
    for lead in dependency_leads(book.logs):
        dep = lead.dependency
        callers = [anomalies[c] for c in lead.callers if c in anomalies]
        cand = dependency_candidate(lead, anomalies.get(dep), callers, culprits.get(dep), book)
        changed = [c for c in lead.callers if c in culprits]
        if lead.fault == "dependency_latency" and changed and len(changed) == len(lead.callers):
            cand.raw *= _CALLER_CHANGE_DISCOUNT
            cand.parts.append(
                f"but only {', '.join(changed)} see it, right after a change of their own"
            )
        else:
            for caller in lead.callers:
                victim(caller, dep, f"its calls to {dep} fail or are slow (see its logs)")
        existing = cands.get(dep)
        if existing is None or cand.raw > existing.raw:
            if existing is not None:
                cand.evidence_ids = list(dict.fromkeys(cand.evidence_ids + existing.evidence_ids))
            cands[dep] = cand


def _surges(cands: dict[str, Candidate], book: EvidenceBook, victim: _Victim) -> None:
    surging = {s for s, c in cands.items() if c.fault == "traffic_surge"}
    for service in sorted(surging):
        upstream = [c for c in book.callers_of(service) if c in surging]
        if upstream:
            victim(
                service,
                upstream[0],
                f"its request rate rose together with its caller {upstream[0]}'s: "
                "the traffic entered upstream",
            )


def _nodes(
    cands: dict[str, Candidate],
    anomalies: Mapping[str, ServiceAnomaly],
    culprits: Mapping[str, Culprit],
    book: EvidenceBook,
    incident_service: str | None,
) -> None:
    calls = {name: info.calls for name, info in book.services.items()}
    for suspect in book.nodes[:1]:
        slowed = {s.service for s in suspect.services}
        # Services with a replica there that call a slowed one feel the node too.
        affected = slowed | {
            name
            for name in anomalies
            if suspect.node in getattr(book.services.get(name), "nodes", ())
            and reachable(name, calls) & slowed
        }
        # The user-facing service (nobody affected calls it) leads, then the incident's.
        order = sorted(
            affected,
            key=lambda s: (
                any(c in affected for c in book.callers_of(s)),
                s != incident_service,
                s,
            ),
        )
        found = [
            node_candidate(suspect, service, anomalies.get(service), book)
            for service in order
            if service not in culprits  # a fresh change of its own is the likelier story
        ]
        # One node explains them all: they share its strength, in the order above.
        strength = max((c.raw for c in found), default=0.0)
        for i, cand in enumerate(found):
            service = cand.service
            cand.raw = strength * 0.95**i
            existing = cands.get(service)
            if existing is not None:
                cand.evidence_ids = list(dict.fromkeys(cand.evidence_ids + existing.evidence_ids))
            cands[service] = cand
