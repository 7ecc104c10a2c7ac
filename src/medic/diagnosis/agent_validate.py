"""The agent's typed output, and the checks every claim must pass before it counts.

A claim (a hypothesis the model puts forward) is dropped, with the reason written
down, when:

1. it cites no evidence, or cites an id that does not exist;
2. it names a service that is not in the topology;
3. none of its cited evidence concerns the service it blames;
4. it blames a service whose own metrics stay within ``QUIET_SIGMAS`` robust sigmas of
   their baseline after the onset, while the deterministic core found a conclusive,
   strong anomaly on another service;
5. it blames a deploy or config change that no change evidence of that service shows,
   or one that happened after the onset (it cannot have caused it);
6. its explanation contains a command (the agent never produces commands);
7. its explanation repeats untrusted text from the watched system (``QUOTE_CHARS`` or
   more characters verbatim): quoting belongs in evidence, not in medic's own voice.

Free text that survives (narrative, things to check next) loses every sentence that
contains a command, names a service whose claim was rejected, or repeats untrusted
text. Rejection reasons never quote the model's free text: they name only topology
services, categories and ids.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from pydantic import BaseModel, Field

from medic.diagnosis.agent_tools import QUIET_SIGMAS, series_shift
from medic.domain.model import Change, Diagnosis, Evidence, RootCauseCategory

__all__ = [
    "MAX_CLAIMS",
    "QUOTE_CHARS",
    "AgentClaim",
    "AgentReport",
    "Claims",
    "EvidenceIndex",
    "clean_text",
    "contains_command",
    "validate_claims",
]

MAX_CLAIMS = 5
# Clocks of the change source and the metrics may disagree a little.
_CLOCK_SKEW = timedelta(minutes=1)
# A verbatim run this long, shared with a log line or commit message, is a quotation.
QUOTE_CHARS = 24
_MAX_EXPLANATION = 600
_MAX_NARRATIVE = 1500
_MAX_CHECK = 200
_MAX_CHECKS = 5
_FAULT = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_CHANGE_CATEGORIES = (RootCauseCategory.BAD_DEPLOY, RootCauseCategory.CONFIG_CHANGE)

# What a command looks like in prose: a CLI followed by an argument, shell plumbing,
# or a destructive verb on a cluster or database object.
_COMMAND = re.compile(
    r"""
    \b(?:kubectl|oc|helm|kustomize|docker|podman|sudo|curl|wget|ssh|scp|terraform|
        psql|mysql|mongo|redis-cli|gcloud|aws|az|systemctl|chmod|chown|dd|mkfs)\s+[-\w./:=]
    | \brm\s+-
    | \$\( | ` | \|\s*(?:ba|z)?sh\b | &&
    | \b(?:delete|drop|truncate|destroy|purge|wipe)\s+(?:the\s+)?
        (?:namespace|ns|table|database|db|deployment|pod|pods|cluster|volume|pvc|node)s?\b
    | --replicas | --force | --grace-period | \bexec\s+-
    """,
    re.IGNORECASE | re.VERBOSE,
)
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")


class AgentClaim(BaseModel):
    """One root-cause hypothesis of the agent."""

    service: str = Field(description="the service blamed; must be in the topology")
    category: RootCauseCategory
    change: str | None = Field(
        default=None, description="the version or config key that introduced it, if any"
    )
    fault: str | None = Field(
        default=None, description="a short snake_case fault name, e.g. memory_leak"
    )
    explanation: str = Field(description="what the cited evidence shows, in one or two sentences")
    evidence_ids: list[str] = Field(
        default_factory=list, description="ids of the evidence this claim rests on"
    )


class AgentReport(BaseModel):
    """The agent's assessment: its hypotheses best first, a narrative, what to check next."""

    hypotheses: list[AgentClaim] = Field(default_factory=list)
    narrative: str = Field(default="", description="at most 5 sentences, no commands")
    check_next: list[str] = Field(
        default_factory=list, description="at most 3 things a human should look at next"
    )


@dataclass(frozen=True)
class _ChangeSeen:
    evidence_id: str
    service: str
    at: datetime | None
    names: frozenset[str]  # version, commit sha, and what the description names


@dataclass(frozen=True)
class EvidenceIndex:
    """What a claim is checked against: the evidence, the topology, the changes seen."""

    diagnosis: Diagnosis
    evidence: Mapping[str, Evidence]
    services: frozenset[str]
    changes: tuple[_ChangeSeen, ...]
    untrusted: str = ""  # every untrusted text shown to the model, normalised, one per line

    @classmethod
    def build(
        cls,
        diagnosis: Diagnosis,
        services: Iterable[str],
        extra: Sequence[Evidence],
        extra_changes: Sequence[tuple[str, Change]],
        shown: Iterable[str] = (),
    ) -> EvidenceIndex:
        everything = {e.id: e for e in (*diagnosis.evidence, *extra)}
        seen = [_from_evidence(e) for e in diagnosis.evidence if e.source == "changes"]
        seen.extend(_from_change(eid, c) for eid, c in extra_changes)
        texts = [
            v
            for e in everything.values()
            for k, v in e.data.items()
            if k.endswith("_untrusted") and isinstance(v, str)
        ]
        blob = "\n".join(_normal(t) for t in (*texts, *shown))
        return cls(diagnosis, everything, frozenset(services), tuple(s for s in seen if s), blob)

    def quotes_untrusted(self, text: str) -> bool:
        flat = _normal(text)
        return any(
            flat[i : i + QUOTE_CHARS] in self.untrusted
            for i in range(0, max(0, len(flat) - QUOTE_CHARS + 1))
        )


@dataclass(frozen=True)
class Claims:
    accepted: tuple[AgentClaim, ...]
    rejected: tuple[str, ...]  # one reason per dropped claim
    narrative: str
    check_next: tuple[str, ...]


def validate_claims(report: AgentReport, index: EvidenceIndex) -> Claims:
    accepted: list[AgentClaim] = []
    rejected: list[str] = []
    rejected_services: set[str] = set()
    seen: set[tuple[str, RootCauseCategory]] = set()
    for claim in report.hypotheses[:MAX_CLAIMS]:
        reason = _problem(claim, index)
        if reason is not None:
            rejected.append(f"LLM claim against {_name(claim.service, index)} rejected: {reason}")
            rejected_services.add(claim.service)
            continue
        if (claim.service, claim.category) in seen:
            continue
        seen.add((claim.service, claim.category))
        accepted.append(_tidy(claim))
    blamed_elsewhere = rejected_services - {c.service for c in accepted}
    narrative = clean_text(report.narrative, blamed_elsewhere, index)[:_MAX_NARRATIVE]
    checks = [
        clean_text(item, blamed_elsewhere, index)[:_MAX_CHECK]
        for item in report.check_next[:_MAX_CHECKS]
    ]
    return Claims(tuple(accepted), tuple(rejected), narrative, tuple(c for c in checks if c))


def contains_command(text: str) -> bool:
    return _COMMAND.search(text) is not None


def clean_text(text: str, rejected_services: set[str], index: EvidenceIndex) -> str:
    """`text` without the sentences that hold a command, name a rejected service or
    repeat untrusted text."""
    kept = []
    for sentence in _SENTENCE.split(text.strip()):
        if not sentence or contains_command(sentence) or index.quotes_untrusted(sentence):
            continue
        if any(_mentions(sentence, s) for s in rejected_services):
            continue
        kept.append(sentence.strip())
    return " ".join(kept)


def _problem(claim: AgentClaim, index: EvidenceIndex) -> str | None:
    """Why `claim` cannot stand, or None when it passes every check."""
    cited = list(dict.fromkeys(claim.evidence_ids))
    if not cited:
        return "it cites no evidence"
    unknown = [i for i in cited if i not in index.evidence]
    if unknown:
        return f"it cites {len(unknown)} evidence id(s) that do not exist"
    if index.services and claim.service not in index.services:
        return "the service is not in the topology"
    if not any(_concerns(index.evidence[i], claim.service) for i in cited):
        return f"none of the cited evidence ({', '.join(cited)}) concerns that service"
    if contains_command(claim.explanation) or (claim.change and contains_command(claim.change)):
        return "it contains a command; the agent may not produce commands"
    if index.quotes_untrusted(claim.explanation):
        return "its explanation repeats untrusted text from the watched system"
    return _bad_change(claim, index) or _quiet(claim, index)


def _quiet(claim: AgentClaim, index: EvidenceIndex) -> str | None:
    diagnosis = index.diagnosis
    top = diagnosis.top
    if top is None or not diagnosis.conclusive or diagnosis.onset is None:
        return None
    if top.root_cause.service == claim.service:
        return None
    shifts: list[tuple[str, float]] = []
    for evidence in index.evidence.values():
        if evidence.source != "metrics" or evidence.data.get("service") != claim.service:
            continue
        for series in evidence.series:
            shift = series_shift(series, diagnosis.onset)
            if shift is not None:
                shifts.append((evidence.id, shift))
    if not shifts or max(abs(s) for _, s in shifts) >= QUIET_SIGMAS:
        return None
    ids = ", ".join(dict.fromkeys(i for i, _ in shifts))
    return (
        f"its metrics ({ids}) stay within {QUIET_SIGMAS:g} robust sigmas of their baseline "
        f"after the onset, while {top.root_cause.service} moved strongly (the evidence "
        "contradicts it)"
    )


def _bad_change(claim: AgentClaim, index: EvidenceIndex) -> str | None:
    if claim.change is None and claim.category not in _CHANGE_CATEGORIES:
        return None
    mine = [c for c in index.changes if c.service == claim.service]
    if claim.change is not None:
        wanted = claim.change.strip()
        mine = [c for c in mine if wanted in c.names]
    if not mine:
        return "no change evidence of that service shows the change it blames"
    onset = index.diagnosis.onset
    if onset is not None and all(c.at is not None and c.at > onset + _CLOCK_SKEW for c in mine):
        when = min(c.at for c in mine if c.at is not None)
        return (
            f"the change it blames ({mine[0].evidence_id}) happened at {when:%H:%M} UTC, "
            f"after the onset at {onset:%H:%M} UTC"
        )
    return None


def _concerns(evidence: Evidence, service: str) -> bool:
    if evidence.data.get("service") == service:
        return True
    return _mentions(f"{evidence.summary} {evidence.query}", service)


def _mentions(text: str, service: str) -> bool:
    return re.search(rf"(?<![\w-]){re.escape(service)}(?![\w-])", text) is not None


def _name(service: str, index: EvidenceIndex) -> str:
    # Only a topology name is repeated; anything else is the model's free text.
    return service if service in index.services else "a service not in the topology"


def _tidy(claim: AgentClaim) -> AgentClaim:
    explanation = claim.explanation.strip()
    if len(explanation) > _MAX_EXPLANATION:
        explanation = explanation[: _MAX_EXPLANATION - 1] + "\u2026"
    fault = claim.fault if claim.fault and _FAULT.match(claim.fault) else None
    return claim.model_copy(
        update={
            "explanation": explanation,
            "fault": fault,
            "evidence_ids": list(dict.fromkeys(claim.evidence_ids)),
            "change": claim.change.strip() if claim.change else None,
        }
    )


def _from_evidence(evidence: Evidence) -> _ChangeSeen | None:
    service = evidence.data.get("service")
    if not isinstance(service, str):
        return None
    at_text = evidence.data.get("at")
    at = _parse_time(at_text) if isinstance(at_text, str) else None
    names = {str(evidence.data[k]) for k in ("version", "commit_sha") if evidence.data.get(k)}
    description = evidence.data.get("description")
    names.update(_words(description) if isinstance(description, str) else ())
    return _ChangeSeen(evidence.id, service, at, frozenset(names))


def _from_change(evidence_id: str, change: Change) -> _ChangeSeen:
    names = {n for n in (change.version, change.commit_sha) if n}
    names.update(_words(change.description))
    return _ChangeSeen(evidence_id, change.service, change.at, frozenset(names))


def _words(text: str) -> set[str]:
    # A config change is named by its key ("pool_size"), which its description holds.
    return set(re.findall(r"[\w.-]+", text))


def _normal(text: str) -> str:
    return " ".join(text.lower().split())


def _parse_time(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None
