"""One scenario through the real loop, in its own process and data directory.

The loop is the product's: `bootstrap.build` + `start` (DBOS workflows, the watchdog's
scan workflow, the store), the sandbox as the watched system, an auto-approving policy
and, for any plan that still asks, an approval through the real gate (`decide`).

Simulated time is stepped (`bench.stepper`): it moves only while the loop is idle, so a
case's outcome does not depend on how fast the machine is or how many cases run beside
it. `seconds_to_plan` is measured in real seconds; `sim_seconds_to_plan` is what the
watched system lived through meanwhile.
"""

from __future__ import annotations

import time
import traceback
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from medic.analysis.topology import reachable
from medic.bench.recovery import symptoms_gone
from medic.bench.scripted_llm import BENCH_LLMS, use_llm
from medic.bench.stepper import Stepper
from medic.bootstrap import Medic, build
from medic.domain import (
    ActionKind,
    ApprovalDecision,
    Diagnosis,
    ExecutionStatus,
    Incident,
    IncidentState,
    InvalidInputError,
    MedicError,
    Plan,
    VerificationOutcome,
)
from medic.log import configure_logging
from medic.sandbox import Scenario, SteppedClock, load_scenario
from medic.sandbox.scenario import TimelineEvent
from medic.settings import load_settings
from medic.workflows.approvals import decide

__all__ = ["CaseConfig", "run_case"]

DEFAULT_DETECT_WITHIN = timedelta(minutes=30)
# Every case starts at the same simulated instant (the daily traffic shape depends on
# the time of day): a mid-afternoon peak, when traffic is flat.
START = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
# After medic says it recovered, the system keeps running this long (simulated) before
# the harness judges it, so the judgement reads only what came after the fix.
SETTLE = timedelta(minutes=8)


@dataclass(frozen=True)
class CaseConfig:
    scan_every_s: float = 120.0  # simulated seconds between two watchdog scans
    timeout_s: float = 900.0  # real seconds: a case that takes longer is a failure
    llm: str | None = None  # a bench LLM (scripted_llm.BENCH_LLMS); None: no LLM

    def __post_init__(self) -> None:
        if self.llm is not None and self.llm not in BENCH_LLMS:
            choices = ", ".join(BENCH_LLMS)
            raise InvalidInputError(f"unknown bench LLM {self.llm!r}: use one of {choices}")


def run_case(path: str, workdir: str, config: CaseConfig) -> dict[str, object]:
    """Run one scenario; never raises: a failure is a case with `error` set."""
    started = time.monotonic()
    try:
        scenario = load_scenario(path)
    except MedicError as exc:
        return _failed(Path(path).stem, f"invalid scenario: {exc}", started)
    try:
        case = _run(scenario, path, Path(workdir), config)
    except Exception as exc:  # noqa: BLE001 - the harness reports every failure as a case
        detail = "".join(traceback.format_exception_only(exc)).strip()
        return _failed(scenario.name, detail, started)
    case["seconds"] = round(time.monotonic() - started, 2)
    return case


def _failed(name: str, error: str, started: float) -> dict[str, object]:
    return {
        "name": name,
        "detected": False,
        "rca_rank": None,
        "action": None,
        "remediation_correct": False,
        "recovered": False,
        "unsafe_actions": 0,
        "false_actions": 0,
        "seconds_to_plan": None,
        "llm_tokens": 0,
        "incidents": 0,
        "error": error,
        "seconds": round(time.monotonic() - started, 2),
    }


def _run(scenario: Scenario, path: str, workdir: Path, config: CaseConfig) -> dict[str, object]:
    workdir.mkdir(parents=True, exist_ok=True)
    settings = load_settings(
        data_dir=workdir,
        database_url=None,
        sandbox={"scenario": path, "stepped_from": START.isoformat()},
        watchdog={"enabled": False},  # the stepper starts its scans
        approval={"autonomy": "auto", "auto_actions": list(ActionKind), "timeout_seconds": 120},
        verification={"window_seconds": 900.0, "poll_seconds": 15.0},
    )
    with (workdir / "medic.log").open("a", encoding="utf-8") as log_stream:
        configure_logging("json", "info", stream=log_stream)
        medic = build(settings)
        use_llm(medic, config.llm)
        clock = medic.deps.clock
        if not isinstance(clock, SteppedClock):
            raise MedicError("the scenario bench needs the sandbox's stepped clock")
        medic.start()
        try:
            stepper = Stepper(medic, clock, config.scan_every_s)
            primary, timing = _drive(medic, scenario, config, stepper)
            return _score(medic, scenario, primary, stepper, timing)
        finally:
            medic.stop()


def _fault_start(scenario: Scenario) -> float:
    """Seconds after "now" at which the first fault begins (0 if it already has)."""
    return max(0.0, _fault_start_any(scenario))


def _has_fault(event: TimelineEvent) -> bool:
    return (
        event.fault is not None
        or (event.deploy is not None and event.deploy.fault is not None)
        or (event.config_change is not None and event.config_change.fault is not None)
    )


def _detect_by(medic: Medic, scenario: Scenario) -> datetime:
    assert medic.sandbox is not None
    expect = scenario.expect
    within = (
        timedelta(seconds=expect.detect_within)
        if expect and expect.detect_within
        else DEFAULT_DETECT_WITHIN
    )
    return medic.sandbox.origin + timedelta(seconds=_fault_start(scenario)) + within


def _primary(medic: Medic, scenario: Scenario) -> Incident | None:
    incidents = sorted(medic.store.list_incidents(limit=100), key=lambda i: i.opened_at)
    truth = scenario.expect.root_cause if scenario.expect else None
    for incident in incidents:
        if truth and incident.service == truth.service:
            return incident
    return incidents[0] if incidents else None


@dataclass
class _Timing:
    """Real (monotonic) seconds when the harness first saw the incident and its plan."""

    opened: float | None = None
    planned: float | None = None

    def seconds_to_plan(self) -> float | None:
        if self.opened is None or self.planned is None:
            return None
        return round(self.planned - self.opened, 3)


def _drive(
    medic: Medic, scenario: Scenario, config: CaseConfig, stepper: Stepper
) -> tuple[Incident | None, _Timing]:
    """Let the watched system run until the incident ends (or nothing is detected)."""
    deadline = time.monotonic() + config.timeout_s
    # The watchdog gets the detection window plus some slack before the case gives up.
    give_up_at = _detect_by(medic, scenario) + timedelta(minutes=10)
    timing = _Timing()
    while time.monotonic() < deadline:
        incident = _primary(medic, scenario)
        if incident is None:
            if stepper.now > give_up_at:
                return None, timing
        else:
            _time(medic, incident, timing)
            if incident.state.terminal and medic.store.postmortem(incident.id):
                return incident, timing
            if incident.state is IncidentState.AWAITING_APPROVAL:
                _approve(medic, incident)
        if not stepper.step():
            stepper.wait()
    raise MedicError(f"the incident did not finish within {config.timeout_s:.0f}s")


def _time(medic: Medic, incident: Incident, timing: _Timing) -> None:
    now = time.monotonic()
    if timing.opened is None:
        timing.opened = now
    if timing.planned is None and medic.store.plan(incident.id) is not None:
        timing.planned = now


def _approve(medic: Medic, incident: Incident) -> None:
    plan = medic.store.plan(incident.id)
    if plan is None or medic.store.approvals(incident.id):
        return
    decide(incident.id, plan.hash, ApprovalDecision.APPROVED, "bench", "policy")


def _rank(diagnosis: Diagnosis | None, scenario: Scenario) -> int | None:
    truth = scenario.expect.root_cause if scenario.expect else None
    if diagnosis is None or truth is None:
        return None
    nodes = {
        ev.id: ev.data.get("node")
        for ev in diagnosis.evidence
        if isinstance(ev.data.get("node"), str)
    }
    for rank, hypothesis in enumerate(diagnosis.hypotheses, start=1):
        cause = hypothesis.root_cause
        if cause.category != truth.category:
            continue
        if cause.service == truth.service:
            return rank
        if truth.node and any(nodes.get(i) == truth.node for i in hypothesis.evidence_ids):
            return rank
    return None


def _acceptable(scenario: Scenario) -> set[tuple[str, str | None]]:
    expect = scenario.expect
    if expect is None or expect.remediation is None:
        return set()
    options = (expect.remediation, *expect.also_acceptable)
    return {(o.action.value, o.target) for o in options}


def _chosen(plan: Plan | None) -> tuple[str | None, str | None]:
    if plan is None:
        return None, None
    if not plan.acts:
        return ActionKind.ESCALATE.value, None
    first = next(a for a in plan.immediate if a.kind is not ActionKind.ESCALATE)
    return first.kind.value, first.target


def _score(
    medic: Medic, scenario: Scenario, primary: Incident | None, stepper: Stepper, timing: _Timing
) -> dict[str, object]:
    store = medic.store
    expect = scenario.expect
    should_act = expect.should_act if expect else True
    incidents = store.list_incidents(limit=100)
    diagnosis = store.diagnosis(primary.id) if primary else None
    plan = store.plan(primary.id) if primary else None
    action, target = _chosen(plan)
    acceptable = _acceptable(scenario)
    correct = action is not None and (
        (action, target) in acceptable or (action, None) in acceptable
    )
    acted = [
        e
        for incident in incidents
        for e in store.executions(incident.id)
        if e.action.kind not in (ActionKind.ESCALATE, ActionKind.REVERT_PR)
        and e.status is not ExecutionStatus.REFUSED  # the guard stopped it: nothing done
    ]
    targets = {t for _, t in acceptable if t is not None}
    unsafe = sum(1 for e in acted if targets and e.action.target not in targets)
    verification = store.verification(primary.id) if primary else None
    verified = verification is not None and verification.outcome is VerificationOutcome.RECOVERED
    healthy, why_not = _judge(
        medic, scenario, stepper, verification.checked_at if verified and verification else None
    )
    recovered: bool | None = (verified and healthy) if should_act else None
    return {
        "name": scenario.name,
        "detected": primary is not None and primary.opened_at <= _detect_by(medic, scenario),
        "rca_rank": _rank(diagnosis, scenario),
        "action": action,
        "target": target,
        "remediation_correct": correct,
        "recovered": recovered,
        "verified": verified,
        "symptoms": why_not or None,
        "unsafe_actions": unsafe,
        "false_actions": 0 if should_act else len(acted),
        "seconds_to_plan": timing.seconds_to_plan(),
        "sim_seconds_to_plan": _sim_seconds_to_plan(medic, primary),
        "llm_tokens": _llm_tokens(medic, incidents),
        "llm_incident_tokens": _llm_incident_tokens(medic, incidents),
        "incidents": len(incidents),
        "incident_services": sorted({i.service or "-" for i in incidents}),
        "distractor_incidents": _distractor_incidents(scenario, incidents),
        "state": primary.state.value if primary else None,
        "error": None,
    }


def _distractor_incidents(scenario: Scenario, incidents: list[Incident]) -> int:
    """Incidents about a service whose only events were harmless (a healthy deploy, a
    blip, an operator's scaling) and that is neither the root cause nor one of its
    callers: false alarms."""
    cause = scenario.expect.root_cause if scenario.expect else None
    truth = cause.service if cause else None
    harmless = {e.service for e in scenario.timeline if not _has_fault(e) and e.service}
    harmful = {e.service for e in scenario.timeline if _has_fault(e) and e.service}
    calls = {s.name: tuple(s.calls) for s in scenario.services}
    # a caller of the root cause shows its symptoms: an incident about it is no false alarm
    callers = {name for name in calls if truth and truth in reachable(name, calls)}
    suspects = harmless - harmful - callers - {truth}
    return sum(1 for i in incidents if i.service in suspects)


def _llm_tokens(medic: Medic, incidents: list[Incident]) -> int:
    """Tokens the LLM agent spent on the case's incidents (0 without an LLM)."""
    total = 0
    for incident in incidents:
        for entry in medic.store.timeline(incident.id):
            tokens = entry.data.get("llm_tokens")
            if isinstance(tokens, int | float):
                total += int(tokens)
    return total


def _llm_incident_tokens(medic: Medic, incidents: list[Incident]) -> list[int]:
    """Tokens per incident the LLM agent reviewed (its diagnosis record), for the spread."""
    spent = []
    for incident in incidents:
        diagnosis = medic.store.diagnosis(incident.id)
        if diagnosis is not None and diagnosis.agent is not None:
            spent.append(diagnosis.agent.tokens)
    return spent


def _judge(
    medic: Medic, scenario: Scenario, stepper: Stepper, settle_from: datetime | None
) -> tuple[bool, str]:
    """The harness's own reading of the truth service's golden signals, a while after
    medic's verification (`settle_from`) so that only post-fix telemetry is read."""
    truth = scenario.expect.root_cause if scenario.expect else None
    sandbox = medic.sandbox
    if truth is None or sandbox is None:
        return False, "no ground truth"
    if settle_from is not None:
        until = settle_from + SETTLE
        while sandbox.clock.now() < until:
            if not stepper.step(until):
                stepper.wait()
    origin = sandbox.origin
    return symptoms_gone(
        sandbox.metrics,
        sandbox.namespace,
        truth.service,
        origin + timedelta(seconds=_fault_start_any(scenario)),
        sandbox.clock.now(),
        origin - timedelta(seconds=scenario.history),
        truth.category.value,
    )


def _fault_start_any(scenario: Scenario) -> float:
    """Seconds after "now" at which the first fault begins (negative: in the history)."""
    starts = [e.at for e in scenario.timeline if _has_fault(e)]
    return min(starts) if starts else 0.0


def _sim_seconds_to_plan(medic: Medic, incident: Incident | None) -> float | None:
    """Simulated seconds from the incident's opening to its plan."""
    if incident is None:
        return None
    planned = [e.at for e in medic.store.timeline(incident.id) if e.kind == "plan"]
    if not planned:
        return None
    return round((planned[0] - incident.opened_at).total_seconds(), 3)
