"""Layer 3, the hands: policy, the approval gate, executors and verification.

Owns whether a plan may run (policy), whether a decision on it is admissible (the gate:
bound to the plan hash, once, while the incident awaits it), performing exactly the
write an approved action names (idempotently), and checking that the system recovered
(missing data is inconclusive, never success).

Must not: choose *what* to do. It only carries out what an approved plan says; it does
not import the architect (`medic.remediation`) or the diagnostician.
"""

from medic.action.executor import execute
from medic.action.gate import check_decision, check_scope
from medic.action.policy import Autonomy, Policy
from medic.action.verify import verify

__all__ = [
    "Autonomy",
    "Policy",
    "check_decision",
    "check_scope",
    "execute",
    "verify",
]
