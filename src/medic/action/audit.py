"""The audit log, pure: entries for each decision and action, chain verification, export.

The store appends (`Store.audit.append`) and keeps the chain's head; everything here is
pure so that the workflow, the CLI and the tests share one definition of "intact".
A chain is intact when its entries are numbered 1, 2, 3, ... without a gap, each
names the previous entry's hash, each hash is what its fields hash to, every entry
after the first sealed one carries a valid seal of the audit key, every checkpoint
written outside the database (signed with the key) names an entry that is there with
that hash, and the last entry is the head the store recorded. Entries from before the
log was keyed are reported as such: unkeyed, proven only as far as a later checkpoint
covers them.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial

from medic.domain import Approval, Execution, Plan, Verification
from medic.domain.audit import (
    GENESIS_HASH,
    AuditDraft,
    AuditEntry,
    AuditKind,
    Checkpoint,
    chain_hash,
    entry_mac,
)

__all__ = [
    "ChainReport",
    "approval_entry",
    "entry_key",
    "execution_entry",
    "export_line",
    "plan_entry",
    "policy_entry",
    "verification_entry",
    "verify_chain",
]


@dataclass(frozen=True)
class ChainReport:
    """The outcome of verifying a chain: `broken_seq` is the first entry that fails.

    Beyond intact or not, it says what could be proven: `legacy` entries (the first
    ones) were sealed before the log had a key; `checkpoint` is the newest checkpoint
    the log matches; `unsealed_key` is set when sealed entries exist but no key was
    available to check them."""

    checked: int
    broken_seq: int | None = None
    problem: str = ""
    legacy: int = 0
    sealed: int = 0
    checkpoint: Checkpoint | None = None
    checkpoints: int = 0
    keyed: bool = False

    @property
    def intact(self) -> bool:
        return self.broken_seq is None

    def proofs(self) -> list[str]:
        """What this verification proves and what it cannot, one sentence each."""
        lines: list[str] = []
        if self.legacy:
            lines.append(
                f"entries 1-{self.legacy} predate the audit key: unkeyed, so a rewrite of "
                "them (chain recomputed) made before the first checkpoint would not be found"
            )
        if self.sealed:
            lines.append(f"{self.sealed} entries carry a valid seal of the audit key")
        if self.checkpoint is not None:
            lines.append(
                f"chain intact up to checkpoint {self.checkpoint.seq} at {self.checkpoint.at} "
                f"({self.checkpoints} checkpoints checked)"
            )
            after = self.checked - self.checkpoint.seq
            if after > 0:
                lines.append(
                    f"the {after} entries after the last checkpoint cannot be proven "
                    "against truncation"
                )
        elif self.checked:
            lines.append("no checkpoint: a truncated log cannot be told from a short one")
        else:
            lines.append("the log is empty and no checkpoint says otherwise")
        return lines


@dataclass
class _Walk:
    """What verifying has found so far, entry by entry."""

    key: bytes | None
    expected_seq: int = 1
    prev_hash: str = GENESIS_HASH
    checked: int = 0
    legacy: int = 0
    sealed: int = 0


def verify_chain(
    entries: Iterable[AuditEntry],
    head: tuple[int, str] | None,
    key: bytes | None = None,
    checkpoints: Sequence[Checkpoint] = (),
) -> ChainReport:
    """Recompute the chain over `entries` (in seq order) and compare with the `head`
    (last seq, last hash) the store recorded (None: nothing was ever appended), each
    entry's seal with `key`, and the log with the `checkpoints` written outside it."""
    walk = _Walk(key)
    at_seq = {c.seq: c for c in checkpoints}
    report = partial(ChainReport, keyed=key is not None, checkpoints=len(checkpoints))
    forged = [c for c in checkpoints if key is None or not c.valid(key)]
    if forged:
        problem = (
            "no audit key to check the checkpoints with"
            if key is None
            else (f"checkpoint of entry {forged[0].seq} is not signed with the audit key (forged)")
        )
        return report(0, forged[0].seq, problem)
    for entry in entries:
        problem = _check(entry, walk) or _against(entry, at_seq.get(entry.seq))
        if problem:
            # A gap is reported at the first missing entry, anything else where it is.
            return report(walk.checked, min(entry.seq, walk.expected_seq), problem)
        walk.checked += 1
        walk.expected_seq, walk.prev_hash = entry.seq + 1, entry.hash
    last = (walk.expected_seq - 1, walk.prev_hash)
    newest = max(checkpoints, key=lambda c: c.seq, default=None)
    done = partial(report, walk.checked, legacy=walk.legacy, sealed=walk.sealed)
    if newest is not None and newest.seq > last[0]:
        problem = (
            f"the log ends at entry {last[0]} but a checkpoint shows entry {newest.seq} "
            f"existed at {newest.at} (entries deleted)"
        )
        return done(last[0] + 1, problem)
    if walk.sealed and newest is None:
        problem = (
            f"{walk.sealed} entries are sealed but no checkpoint was found (the checkpoint "
            "file was removed or emptied)"
        )
        return done(last[0], problem)
    if head is None:
        head = (0, GENESIS_HASH)
    if head != last:
        if head[0] > last[0]:
            problem = f"the log ends at entry {last[0]} but entry {head[0]} was appended"
            return done(last[0] + 1, f"{problem} (entries deleted)")
        return done(head[0] or 1, f"the recorded head (entry {head[0]}) does not match the log")
    return done(checkpoint=newest)


def _check(entry: AuditEntry, walk: _Walk) -> str:
    if entry.seq != walk.expected_seq:
        if entry.seq > walk.expected_seq:
            return f"entry {walk.expected_seq} is missing (deleted); the log jumps to {entry.seq}"
        return f"entry {entry.seq} is out of order (expected {walk.expected_seq})"
    if entry.prev_hash != walk.prev_hash:
        return "does not follow the previous entry (reordered, or a row was replaced)"
    if chain_hash(walk.prev_hash, entry.seq, entry.draft) != entry.hash:
        return "its fields do not match its hash (edited)"
    return _seal(entry, walk)


def _seal(entry: AuditEntry, walk: _Walk) -> str:
    if entry.mac is None:
        if walk.sealed:
            return "is not sealed although earlier entries are (inserted or rewritten)"
        walk.legacy += 1
        return ""
    if walk.key is None:
        return "is sealed, but the audit key is missing: the seals cannot be checked"
    if not hmac.compare_digest(entry.mac, entry_mac(walk.key, entry.hash)):
        return "its seal does not match the audit key (rewritten without the key)"
    walk.sealed += 1
    return ""


def _against(entry: AuditEntry, checkpoint: Checkpoint | None) -> str:
    if checkpoint is None or checkpoint.hash == entry.hash:
        return ""
    return f"differs from its checkpoint of {checkpoint.at} (rewritten)"


def export_line(entry: AuditEntry) -> str:
    """One JSON line of `medic audit export`."""
    at = entry.at.astimezone(UTC) if entry.at.tzinfo else entry.at.replace(tzinfo=UTC)
    return json.dumps(
        {
            "seq": entry.seq,
            "at": at.isoformat(),
            "actor": entry.actor,
            "kind": entry.kind.value,
            "incident_id": entry.incident_id,
            "plan_hash": entry.plan_hash,
            "outcome": entry.outcome,
            "data": dict(entry.data),
            "prev_hash": entry.prev_hash,
            "hash": entry.hash,
            "mac": entry.mac,
        },
        sort_keys=True,
        ensure_ascii=False,
    )


# -- entries for the loop's decisions and actions --------------------------------------


def entry_key(kind: AuditKind, incident_id: str, *names: str) -> str:
    """The idempotency key a workflow step appends its entry under (`Store.audit.append`):
    the same for every run of the step, so a step that runs again after a crash or a
    retry does not append a second entry. One per kind, incident and `names` (the plan
    hash; for an action, its idempotency key)."""
    return ":".join((kind.value, incident_id, *names))


def plan_entry(plan: Plan, at: datetime) -> AuditDraft:
    actions = ", ".join(f"{a.kind.value} {a.namespace}/{a.target}" for a in plan.immediate)
    return AuditDraft(
        at=at,
        actor="medic",
        kind=AuditKind.PLAN,
        outcome="proposed",
        incident_id=plan.incident_id,
        plan_hash=plan.hash,
        data={"immediate": actions or "nothing", "long_term": len(plan.long_term)},
    )


def policy_entry(
    incident_id: str, plan_hash: str, at: datetime, allowed: bool, needs_approval: bool, reason: str
) -> AuditDraft:
    if not allowed:
        outcome = "forbidden"
    else:
        outcome = "approval-required" if needs_approval else "auto-approved"
    return AuditDraft(
        at=at,
        actor="policy",
        kind=AuditKind.POLICY,
        outcome=outcome,
        incident_id=incident_id,
        plan_hash=plan_hash,
        data={"reason": reason[:500]},
    )


def approval_entry(approval: Approval, outcome: str | None = None) -> AuditDraft:
    """A decision; `outcome` overrides the decision's name (e.g. "first-approval")."""
    return AuditDraft(
        at=approval.at,
        actor=approval.actor,
        kind=AuditKind.APPROVAL,
        outcome=outcome or approval.decision.value,
        incident_id=approval.incident_id,
        plan_hash=approval.plan_hash,
        data={"channel": approval.channel, "reason": approval.reason[:500]},
    )


def execution_entry(
    incident_id: str, plan_hash: str, execution: Execution, *, undo: bool = False
) -> AuditDraft:
    action = execution.action
    return AuditDraft(
        at=execution.finished_at,
        actor="medic",
        kind=AuditKind.UNDO if undo else AuditKind.EXECUTION,
        outcome=execution.status.value,
        incident_id=incident_id,
        plan_hash=plan_hash,
        data={
            "action": action.kind.value,
            "namespace": action.namespace,
            "target": action.target,
            "idempotency_key": execution.idempotency_key,
            "detail": execution.detail[:500],
        },
    )


def verification_entry(incident_id: str, plan_hash: str, verification: Verification) -> AuditDraft:
    return AuditDraft(
        at=verification.checked_at,
        actor="medic",
        kind=AuditKind.VERIFICATION,
        outcome=verification.outcome.value,
        incident_id=incident_id,
        plan_hash=plan_hash,
        data={"detail": verification.detail[:500]},
    )
