"""The sandbox: a simulated Kubernetes-style cluster that implements medic's ports.

Owns the scenario format (BENCHMARK.md §1) and its loader, simulated time, the world
(services, Deployments with revisions, pods placed on nodes, every fault type of the
table, distractors), telemetry, logs and Kubernetes events that are a deterministic
function of (scenario, seed, time, applied writes), the journal of writes with
idempotency keys, and the git repositories the local code host reverts.

Ports it implements: `Sandbox.metrics` (MetricsSource, PodMetricsSource), `.logs`
(LogSource), `.changes` (ChangeSource), `.events` (EventSource), `.cluster`
(ClusterReader, PodReader, ClusterWriter).
Used by `medic demo`, the embedded `medic serve` and the tests.

Must not: be imported by layers 1-3 (signals, diagnosis, remediation, scribe,
action), import adapters, or read configuration; it sees only ports and the domain.
"""

from medic.sandbox.clock import ManualClock, SimClock, SteppedClock
from medic.sandbox.sandbox import Sandbox
from medic.sandbox.scenario import Scenario, list_scenarios, load_scenario
from medic.sandbox.state import JournalEntry

__all__ = [
    "JournalEntry",
    "ManualClock",
    "Sandbox",
    "Scenario",
    "SimClock",
    "SteppedClock",
    "list_scenarios",
    "load_scenario",
]
