"""Policy: how much autonomy medic has, and which actions it may take without asking.

Minimal for now (one object, set in code); a later version reads it from YAML per
namespace and service.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from medic.domain import ActionKind, Plan, Risk

__all__ = ["Autonomy", "Policy"]

Autonomy = Literal["observe", "propose", "approve", "auto"]


@dataclass(frozen=True)
class Policy:
    """`observe` and `propose` never execute; `approve` executes after a human approves;
    `auto` executes allow-listed, non-high-risk actions unasked and asks for the rest."""

    autonomy: Autonomy = "propose"
    auto_actions: frozenset[ActionKind] = field(default_factory=frozenset)

    def allows(self, plan: Plan) -> bool:
        """Whether the plan may be executed at all (with an approval if one is required)."""
        return self.autonomy in ("approve", "auto") and plan.acts

    def requires_approval(self, plan: Plan) -> bool:
        """Whether a human must approve the plan before it runs.

        A plan that changes nothing (escalation only) needs no approval; under `auto`
        every acting immediate action must be allow-listed and not high-risk.
        """
        if not plan.acts:
            return False
        if self.autonomy != "auto":
            return True
        acting = [a for a in plan.immediate if a.kind is not ActionKind.ESCALATE]
        return not all(a.kind in self.auto_actions and a.risk is not Risk.HIGH for a in acting)
