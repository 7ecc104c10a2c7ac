"""Policy: how much autonomy medic has where, who may approve, and when nothing may run.

`Policy(autonomy, auto_actions)` is the whole policy when no policy file is configured;
`Policy.from_document(doc)` adds the rules of a policy file (docs/policy.md): per
namespace and service autonomy, approvers, a second approver for named risks, change
freezes and rate limits. `decide_policy` is the one question the workflow asks, with
the kill switch and the recent actions in a `PolicyContext`; it is pure.

Precedence: the policy's own defaults, then the file's `defaults`, then each matching
rule from the least to the most specific (a service rule overrides a namespace rule;
an exact name overrides a wildcard; between equals, the later rule in the file). A
rule overrides only the fields it sets.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from fnmatch import fnmatchcase
from typing import Literal

from medic.action.policy_file import PolicyDocument, RateLimit, Rule, RuleSettings
from medic.domain import (
    Action,
    ActionKind,
    ConflictError,
    Execution,
    ExecutionStatus,
    Incident,
    Plan,
    Risk,
)

__all__ = [
    "Autonomy",
    "Policy",
    "PolicyContext",
    "PolicyDecision",
    "RecentAction",
    "Resolved",
    "check_approver",
    "decide_policy",
    "needs_another_approver",
    "recent_actions",
]

Autonomy = Literal["observe", "propose", "approve", "auto"]

# Actions that change nothing in the watched system are never rate-limited: an
# escalation pages a human, a revert pull request waits for a review.
_UNCOUNTED = frozenset({ActionKind.ESCALATE, ActionKind.REVERT_PR})


@dataclass(frozen=True)
class Resolved:
    """The settings that apply to one namespace/service after precedence."""

    autonomy: Autonomy
    auto_actions: frozenset[ActionKind]
    approvers: frozenset[str] | None  # None: any authenticated user
    second_approver_for: frozenset[Risk]
    rate_limit: RateLimit | None
    stateful_actions: frozenset[ActionKind] = frozenset()


@dataclass(frozen=True)
class RecentAction:
    """An action medic executed, for rate limits."""

    namespace: str
    service: str
    at: datetime


@dataclass(frozen=True)
class PolicyContext:
    """What the policy needs from the store: the kill switch and recent actions."""

    paused: bool = False
    paused_by: str = ""
    pause_reason: str = ""
    recent: tuple[RecentAction, ...] = ()


@dataclass(frozen=True)
class PolicyDecision:
    """`allowed`: the plan may execute at all; `requires_approval`: a human first;
    `approvers`: who may approve (empty: any authenticated user); `second_approver`:
    two different people must approve; `reason`: why, for the timeline and the audit."""

    allowed: bool
    requires_approval: bool
    approvers: frozenset[str]
    second_approver: bool
    reason: str


@dataclass(frozen=True)
class Policy:
    """`observe` and `propose` never execute; `approve` executes after a human approves;
    `auto` executes allow-listed, non-high-risk actions unasked and asks for the rest."""

    autonomy: Autonomy = "propose"
    auto_actions: frozenset[ActionKind] = field(default_factory=frozenset)
    document: PolicyDocument = field(default_factory=PolicyDocument)

    @classmethod
    def from_document(
        cls,
        document: PolicyDocument,
        autonomy: Autonomy = "propose",
        auto_actions: Iterable[ActionKind] = (),
    ) -> Policy:
        """A policy from a policy file; `autonomy`/`auto_actions` apply where it is silent."""
        return cls(autonomy, frozenset(auto_actions), document)

    @property
    def longest_rate_window(self) -> timedelta:
        """How far back the recent actions in a PolicyContext must reach."""
        windows = [r.rate_limit.window for r in self._all_settings() if r.rate_limit]
        return timedelta(seconds=max(windows, default=0.0))

    def resolve(self, namespace: str, service: str) -> Resolved:
        autonomy: Autonomy = self.autonomy
        auto_actions, approvers = self.auto_actions, None
        second: frozenset[Risk] = frozenset()
        rate: RateLimit | None = None
        stateful: frozenset[ActionKind] = frozenset()
        for settings in self._matching(namespace, service):
            autonomy = settings.autonomy or autonomy
            if settings.auto_actions is not None:
                auto_actions = frozenset(settings.auto_actions)
            if settings.approvers is not None:
                approvers = self.document.members(settings.approvers)
            if settings.second_approver_for is not None:
                second = frozenset(settings.second_approver_for)
            rate = settings.rate_limit or rate
            if settings.stateful_actions is not None:
                stateful = frozenset(settings.stateful_actions)
        return Resolved(autonomy, auto_actions, approvers, second, rate, stateful)

    def allows(self, plan: Plan) -> bool:
        """Whether the plan may be executed at all, by autonomy alone (no freezes,
        rate limits or kill switch: `decide_policy` adds those)."""
        acting = _acting(plan)
        return bool(acting) and all(
            self._at(a, None).autonomy in ("approve", "auto") for a in acting
        )

    def requires_approval(self, plan: Plan) -> bool:
        """Whether a human must approve the plan before it runs.

        A plan that changes nothing (escalation only) needs no approval; under `auto`
        every acting immediate action must be allow-listed and not high-risk.
        """
        return any(_asks(a, self._at(a, None)) for a in _acting(plan))

    def _at(self, action: Action, incident: Incident | None) -> Resolved:
        return self.resolve(action.namespace, _service_of(action, incident))

    def _all_settings(self) -> list[RuleSettings]:
        return [self.document.defaults, *self.document.rules]

    def _matching(self, namespace: str, service: str) -> list[RuleSettings]:
        rules = [
            (i, r)
            for i, r in enumerate(self.document.rules)
            if fnmatchcase(namespace, r.namespace) and fnmatchcase(service, r.service)
        ]
        rules.sort(key=lambda item: (*_specificity(item[1]), item[0]))
        return [self.document.defaults, *(r for _, r in rules)]


def decide_policy(
    policy: Policy, plan: Plan, incident: Incident, now: datetime, context: PolicyContext
) -> PolicyDecision:
    """May `plan` run now, and who must approve it? Pure: the caller supplies the time,
    the kill switch and the recent actions. The most restrictive answer over the plan's
    acting actions wins; a refusal names its reason."""
    acting = _acting(plan)
    if not acting:
        return _refuse("the plan changes nothing (escalation only): nothing to execute")
    if context.paused:
        by = f" by {context.paused_by}" if context.paused_by else ""
        why = f": {context.pause_reason}" if context.pause_reason else ""
        return _refuse(f"medic is paused (kill switch){by}{why}")
    approvers: frozenset[str] | None = None
    asks = second = False
    for action in acting:
        service = _service_of(action, incident)
        where = f"{action.namespace}/{service}"
        resolved = policy.resolve(action.namespace, service)
        refusal = _refusal(policy, resolved, action.namespace, service, where, now, context)
        if refusal:
            return _refuse(refusal)
        needs_two = action.risk in resolved.second_approver_for
        asks = asks or needs_two or _asks(action, resolved)
        second = second or needs_two
        if resolved.approvers is not None:
            approvers = resolved.approvers if approvers is None else approvers & resolved.approvers
    need = 2 if second else 1
    if asks and approvers is not None and len(approvers) < need:
        named = ", ".join(sorted(approvers)) or "no one"
        return _refuse(
            f"needs {need} different approver(s) allowed for every action; the policy "
            f"names only: {named}"
        )
    who = ", ".join(sorted(approvers)) if approvers is not None else "any user"
    if not asks:
        reason = "auto: every action is allow-listed and low-risk"
    else:
        two = "two different approvers" if second else "one approver"
        reason = f"needs {two} ({who})"
    return PolicyDecision(True, asks, approvers or frozenset(), second, reason)


def _refusal(
    policy: Policy,
    resolved: Resolved,
    namespace: str,
    service: str,
    where: str,
    now: datetime,
    context: PolicyContext,
) -> str:
    for freeze in policy.document.freezes:
        if fnmatchcase(namespace, freeze.namespace) and fnmatchcase(service, freeze.service):
            until = freeze.active_until(now)
            if until is not None:
                return f"change freeze {freeze.name!r} on {where} until {until.isoformat()}"
    if resolved.autonomy in ("observe", "propose"):
        return f"autonomy on {where} is {resolved.autonomy!r}: medic does not act there"
    limit = resolved.rate_limit
    if limit is not None:
        since = now - timedelta(seconds=limit.window)
        done = sum(
            1
            for r in context.recent
            if r.namespace == namespace and r.service == service and since <= r.at <= now
        )
        if done >= limit.max_actions:
            return (
                f"rate limit on {where}: {done} action(s) in the last {_span(limit.window)} "
                f"(at most {limit.max_actions})"
            )
    return ""


def check_approver(decision: PolicyDecision, actor: str) -> None:
    """Raise ConflictError unless `actor` may approve a plan the policy decided on."""
    if decision.approvers and actor not in decision.approvers:
        raise ConflictError(
            f"{actor!r} may not approve this plan; the policy allows: "
            f"{', '.join(sorted(decision.approvers))}"
        )


def needs_another_approver(decision: PolicyDecision, actor: str, earlier: Collection[str]) -> bool:
    """After `actor` approves (given who approved before, `earlier`): True when the
    plan still waits for a second, different approver. ConflictError when `actor`
    already approved it (one person cannot be both approvers)."""
    if not decision.second_approver:
        return False
    if actor in earlier:
        raise ConflictError(
            f"{actor!r} already approved this plan; a second, different approver is required"
        )
    return not earlier


def recent_actions(executions: Iterable[Execution]) -> tuple[RecentAction, ...]:
    """The executions that count towards rate limits (an idempotent retry that found
    the action done does not, nor does an action that changes nothing)."""
    return tuple(
        RecentAction(e.action.namespace, e.action.target, e.started_at)
        for e in executions
        if e.status not in (ExecutionStatus.ALREADY_APPLIED, ExecutionStatus.REFUSED)
        and e.action.kind not in _UNCOUNTED
    )


def _refuse(reason: str) -> PolicyDecision:
    return PolicyDecision(False, False, frozenset(), False, reason)


def _acting(plan: Plan) -> Sequence[Action]:
    return [a for a in plan.immediate if a.kind is not ActionKind.ESCALATE]


def _asks(action: Action, resolved: Resolved) -> bool:
    if resolved.autonomy != "auto":
        return True
    return action.kind not in resolved.auto_actions or action.risk is Risk.HIGH


def _service_of(action: Action, incident: Incident | None) -> str:
    # A node is not a service: a cordon is governed by the incident's service's rules.
    if action.kind is ActionKind.CORDON_NODE:
        return (incident.service if incident else None) or action.target
    return action.target


def _pattern_rank(pattern: str) -> int:
    if pattern == "*":
        return 0
    return 1 if any(c in pattern for c in "*?[") else 2


def _specificity(rule: Rule) -> tuple[int, int]:
    return _pattern_rank(rule.service), _pattern_rank(rule.namespace)


def _span(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"
