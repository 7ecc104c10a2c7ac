"""The scenario suite in `scenarios/`: every file loads, and the suite as a whole
exercises what the benchmark must measure (BENCHMARK.md §1, issue 3 item 8).

The composition checks read the YAML files themselves, not the loader's model, so a
loader change cannot quietly make the suite look better than it is.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from medic.sandbox import load_scenario
from medic.sandbox.durations import parse_duration

SUITE = Path(__file__).resolve().parents[2] / "scenarios"
FILES = sorted(SUITE.glob("*.yaml"))

# The fault types and crash reasons of the BENCHMARK.md §1 table.
FAULT_TYPES = frozenset(
    {
        "memory_leak",
        "cpu_hog",
        "latency_regression",
        "error_regression",
        "crashloop",
        "dependency_outage",
        "dependency_latency",
        "traffic_surge",
        "connection_pool_exhaustion",
        "node_pressure",
        "disk_full",
        "cert_expiry",
    }
)
CRASH_REASONS = frozenset({"bad_config", "missing_env", "bad_image"})

# Fault types the sandbox cannot simulate yet: scenarios using them are expected to be
# rejected by the loader (strict xfail, so the test fails loudly once they load).
NOT_SIMULATED_YET: frozenset[str] = frozenset()

DISTRACTOR_WINDOW_S = 30 * 60
MIN_SCENARIOS = 24
MIN_DISTRACTED = 6
MIN_HANDS_OFF = 3
MIN_WITHOUT_CHANGE = 3
MIN_SERVICES, MAX_SERVICES = 4, 25
CHANGE_CATEGORIES = {"bad_deploy": "deploy", "config_change": "config_change"}
UNDO_OF_CHANGE = {"deploy": "rollout_undo", "config_change": "revert_config"}


@dataclass(frozen=True)
class Event:
    at: float
    kind: str  # deploy, config_change, fault, scale, blip
    service: str | None  # the changed service, or the fault event's target
    fault: dict[str, Any] | None  # the fault this event brings, if any
    body: dict[str, Any]


@dataclass(frozen=True)
class Case:
    path: Path
    raw: dict[str, Any]
    events: tuple[Event, ...]

    @property
    def name(self) -> str:
        return str(self.raw["name"])

    @property
    def expect(self) -> dict[str, Any]:
        expect = self.raw.get("expect")
        assert isinstance(expect, dict), f"{self.path.name}: no expect"
        return expect

    @property
    def kinds(self) -> dict[str, str]:
        return {s["name"]: s.get("kind", "service") for s in self.raw["services"]}

    @property
    def nodes(self) -> set[str]:
        return {n["name"] for n in self.raw.get("nodes", [])}

    @property
    def faulty(self) -> Event:
        """The one event that introduces the fault."""
        faults = [e for e in self.events if e.fault is not None]
        assert len(faults) == 1, f"{self.path.name}: expected one faulty event, got {len(faults)}"
        return faults[0]

    @property
    def fault_type(self) -> str:
        fault = self.faulty.fault
        assert fault is not None
        return str(fault["type"])

    def distractors_near_fault(self) -> list[Event]:
        """Harmless events on other services within the window around the fault."""
        faulty = self.faulty
        root = self.expect["root_cause"]["service"]
        return [
            e
            for e in self.events
            if e.fault is None
            and e.service != root
            and abs(e.at - faulty.at) <= DISTRACTOR_WINDOW_S
        ]


def _event(raw: dict[str, Any]) -> Event:
    kinds = [k for k in ("deploy", "config_change", "fault", "scale", "blip") if k in raw]
    assert len(kinds) == 1, f"an event needs exactly one kind: {raw}"
    kind = kinds[0]
    body: dict[str, Any] = raw[kind]
    if kind == "fault":
        target = body.get("target", (body.get("params") or {}).get("target"))
        return Event(parse_duration(raw["at"]), kind, target, body, body)
    return Event(parse_duration(raw["at"]), kind, body["service"], body.get("fault"), body)


def _case(path: Path) -> Case:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(raw, dict), f"{path.name}: not a mapping"
    return Case(path, raw, tuple(_event(e) for e in raw.get("timeline", [])))


CASES = [_case(path) for path in FILES]


def _load_param(case: Case) -> Any:
    missing = {case.fault_type} & NOT_SIMULATED_YET
    marks = [
        pytest.mark.xfail(
            strict=True, reason=f"fault type {', '.join(sorted(missing))} is not simulated yet"
        )
    ] * bool(missing)
    return pytest.param(case.path, id=case.path.stem, marks=marks)


@pytest.mark.parametrize("path", [_load_param(c) for c in CASES])
def test_every_scenario_loads(path: Path) -> None:
    scenario = load_scenario(str(path))
    assert scenario.name == path.stem
    assert scenario.expect is not None


@pytest.mark.parametrize("case", CASES, ids=[c.path.stem for c in CASES])
def test_each_scenario_is_complete(case: Case) -> None:
    raw, where = case.raw, case.path.name
    assert case.name == case.path.stem, f"{where}: name must match the file name"
    description = raw.get("description", "")
    assert description and "\n" not in description.strip(), f"{where}: one-line description"
    assert isinstance(raw.get("seed"), int), f"{where}: seed"
    assert raw.get("namespace"), f"{where}: namespace"
    history = parse_duration(raw["history"])
    assert 3600 <= history <= 4 * 3600, f"{where}: history must be 1h-4h"
    at = case.faulty.at
    assert -history <= at <= 15 * 60, f"{where}: the fault starts in the history or soon after"
    expect = case.expect
    assert {"service", "category"} <= expect["root_cause"].keys(), f"{where}: root_cause"
    assert expect["remediation"].get("action"), f"{where}: remediation.action"
    assert isinstance(expect.get("should_act"), bool), f"{where}: should_act"
    assert parse_duration(expect["detect_within"]) > 0, f"{where}: detect_within"


@pytest.mark.parametrize("case", CASES, ids=[c.path.stem for c in CASES])
def test_ground_truth_follows_from_the_timeline(case: Case) -> None:
    """The expected cause is the event that brought the fault; a change is undone."""
    where, root, faulty = case.path.name, case.expect["root_cause"], case.faulty
    remedy = case.expect["remediation"]
    assert root["service"] == faulty.service, f"{where}: root cause is not the faulty event's"
    expected_kind = CHANGE_CATEGORIES.get(root["category"], "fault")
    assert faulty.kind == expected_kind, f"{where}: {root['category']} but a {faulty.kind} event"
    if faulty.kind == "fault":
        assert root.get("change") is None, f"{where}: no change caused this fault"
    else:
        change = faulty.body["version" if faulty.kind == "deploy" else "key"]
        assert root.get("change") == change, f"{where}: root_cause.change"
        assert remedy["action"] == UNDO_OF_CHANGE[faulty.kind], f"{where}: undo the change"
        assert remedy.get("target") == faulty.service, f"{where}: undo it where it happened"


@pytest.mark.parametrize("case", CASES, ids=[c.path.stem for c in CASES])
def test_remediation_targets_are_ours_to_act_on(case: Case) -> None:
    """Every target exists; a third party never is one; a cordon targets a node."""
    expect, where, kinds = case.expect, case.path.name, case.kinds
    for action in [expect["remediation"], *expect.get("also_acceptable", [])]:
        target = action.get("target")
        if action["action"] == "escalate":
            continue  # changes nothing; the root cause names who must act
        assert target is not None, f"{where}: {action['action']} needs a target"
        if action["action"] == "cordon_node":
            assert target in case.nodes, f"{where}: cordon of an undeclared node {target!r}"
        else:
            assert target in kinds, f"{where}: undefined target {target!r}"
            assert kinds[target] != "external", f"{where}: {target} is a third party"
    if not expect["should_act"]:
        assert expect["remediation"]["action"] == "escalate", f"{where}: hands off = escalate"
        assert not expect.get("also_acceptable"), f"{where}: nothing else is acceptable"


def test_the_suite_is_large_and_every_fault_type_appears() -> None:
    assert len(CASES) >= MIN_SCENARIOS
    types = Counter(c.fault_type for c in CASES)
    assert set(types) == FAULT_TYPES, f"missing: {FAULT_TYPES - set(types)}"
    reasons = {c.faulty.fault["reason"] for c in CASES if c.fault_type == "crashloop"}  # type: ignore[index]
    assert reasons == CRASH_REASONS


def test_names_and_seeds_are_unique() -> None:
    names = Counter(c.name for c in CASES)
    seeds = Counter(c.raw["seed"] for c in CASES)
    assert [n for n, k in names.items() if k > 1] == []
    assert [s for s, k in seeds.items() if k > 1] == []


def test_enough_scenarios_put_a_distractor_near_the_fault() -> None:
    distracted = [c.name for c in CASES if c.distractors_near_fault()]
    assert len(distracted) >= MIN_DISTRACTED, distracted
    kinds = {e.kind for c in CASES for e in c.distractors_near_fault()}
    assert {"deploy", "blip", "scale"} <= kinds  # healthy deploys, blips, benign scaling


def test_enough_scenarios_want_hands_off_for_a_third_party() -> None:
    hands_off = [c for c in CASES if c.expect["should_act"] is False]
    third_party = [c for c in hands_off if c.kinds[c.expect["root_cause"]["service"]] == "external"]
    assert len(third_party) >= MIN_HANDS_OFF, [c.name for c in third_party]


def test_enough_faults_have_no_change_behind_them() -> None:
    without_change = [c.name for c in CASES if c.faulty.kind == "fault"]
    assert len(without_change) >= MIN_WITHOUT_CHANGE, without_change
    acting = [c for c in CASES if c.faulty.kind == "fault" and c.expect["should_act"]]
    assert acting, "some faults without a change still need an action (scale, cordon...)"


def test_topologies_span_small_to_large() -> None:
    sizes = {c.name: len(c.raw["services"]) for c in CASES}
    outside = {n: s for n, s in sizes.items() if not MIN_SERVICES <= s <= MAX_SERVICES}
    assert outside == {}
    assert min(sizes.values()) == MIN_SERVICES
    assert max(sizes.values()) == MAX_SERVICES


def test_some_faults_start_live_to_measure_detection() -> None:
    live = [c.name for c in CASES if c.faulty.at > 0]
    assert len(live) >= 2, live
