"""The audit log's entries and their hash chain, as plain data.

Here rather than in `medic.action.audit` because both the store (which seals entries
as it appends them, inside its write transaction) and the action layer (which verifies
the chain) need the one hash function, and neither may import the other.

An entry's hash is ``sha256(prev_hash + canonical JSON of the entry)``, where the
canonical JSON holds every field but the two hashes, with sorted keys (at every level
of nested data), no spaces and the time as UTC with microseconds. Changing any field,
removing an entry or moving one breaks the chain from that entry on.

Anyone who can write the database can recompute such a chain, so each entry is also
sealed: its `mac` is an HMAC of its hash under a key kept outside the database, and
checkpoints of the chain's head, MACed the same way, are written outside it too (see
`medic.store.audit_seal`). A rewrite without the key breaks a seal; a cut-off tail
misses a checkpoint.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum

__all__ = [
    "FIRST_APPROVAL",
    "GENESIS_HASH",
    "AuditDraft",
    "AuditEntry",
    "AuditKind",
    "AuditValue",
    "Checkpoint",
    "canonical_json",
    "chain_hash",
    "checkpoint_mac",
    "entry_mac",
    "seal",
]

GENESIS_HASH = "0" * 64
# The outcome of an approval that counts as the first of the two a high-risk plan needs.
FIRST_APPROVAL = "first-approval"

# JSON: nested objects and lists are kept and hashed, never dropped.
AuditValue = str | int | float | bool | None | list["AuditValue"] | dict[str, "AuditValue"]


class AuditKind(StrEnum):
    SIGNAL = "signal"
    INCIDENT = "incident"
    DIAGNOSIS = "diagnosis"
    PLAN = "plan"
    APPROVAL = "approval"
    EXECUTION = "execution"
    VERIFICATION = "verification"
    UNDO = "undo"
    POLICY = "policy"
    CONTROL = "control"


@dataclass(frozen=True)
class AuditDraft:
    """What a caller appends; the store gives it its place (seq) and its hashes."""

    at: datetime
    actor: str
    kind: AuditKind
    outcome: str
    incident_id: str | None = None
    plan_hash: str | None = None
    data: Mapping[str, AuditValue] = field(default_factory=dict)


@dataclass(frozen=True)
class AuditEntry:
    """One sealed entry of the chain."""

    seq: int
    at: datetime
    actor: str
    kind: AuditKind
    outcome: str
    incident_id: str | None
    plan_hash: str | None
    data: Mapping[str, AuditValue]
    prev_hash: str
    hash: str
    mac: str | None = None  # the seal under the audit key; None before the log was keyed

    @property
    def draft(self) -> AuditDraft:
        return AuditDraft(
            at=self.at,
            actor=self.actor,
            kind=self.kind,
            outcome=self.outcome,
            incident_id=self.incident_id,
            plan_hash=self.plan_hash,
            data=self.data,
        )


def _utc(at: datetime) -> str:
    at = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
    return at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical_json(seq: int, draft: AuditDraft) -> str:
    """The exact text an entry's hash covers."""
    body = {
        "seq": seq,
        "at": _utc(draft.at),
        "actor": draft.actor,
        "kind": draft.kind.value,
        "outcome": draft.outcome,
        "incident_id": draft.incident_id,
        "plan_hash": draft.plan_hash,
        "data": dict(draft.data),
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def chain_hash(prev_hash: str, seq: int, draft: AuditDraft) -> str:
    return hashlib.sha256((prev_hash + canonical_json(seq, draft)).encode()).hexdigest()


def entry_mac(key: bytes, entry_hash: str) -> str:
    """The seal of an entry: HMAC-SHA256 of its hash (which covers the whole chain
    before it) under the audit key."""
    return hmac.new(key, f"entry:{entry_hash}".encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Checkpoint:
    """The chain's head as written outside the database after an append: entry `seq`
    had `hash` at `at`; `mac` proves the key's holder wrote it."""

    seq: int
    hash: str
    at: str
    mac: str

    def valid(self, key: bytes) -> bool:
        return hmac.compare_digest(self.mac, checkpoint_mac(key, self.seq, self.hash, self.at))


def checkpoint_mac(key: bytes, seq: int, entry_hash: str, at: str) -> str:
    message = f"checkpoint:{seq}:{entry_hash}:{at}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def seal(draft: AuditDraft, seq: int, prev_hash: str, key: bytes | None = None) -> AuditEntry:
    """`draft` as entry `seq` of the chain whose previous entry hashed to `prev_hash`,
    sealed under `key` when one is given."""
    entry_hash = chain_hash(prev_hash, seq, draft)
    return AuditEntry(
        seq=seq,
        at=draft.at,
        actor=draft.actor,
        kind=draft.kind,
        outcome=draft.outcome,
        incident_id=draft.incident_id,
        plan_hash=draft.plan_hash,
        data=dict(draft.data),
        prev_hash=prev_hash,
        hash=entry_hash,
        mac=entry_mac(key, entry_hash) if key is not None else None,
    )
