"""Scenario files: the packaged seed loads, and every mistake names file and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from medic.domain.errors import InvalidInputError
from medic.sandbox import list_scenarios, load_scenario
from tests.sandbox.helpers import SEED, write

_GOOD = """
name: tiny
history: 1h
namespace: shop
services:
  - {name: web, entry_rps: 10, calls: [db]}
  - {name: db, kind: database}
timeline:
  - at: -30m
    deploy: {service: web, version: v2}
"""


def test_the_seed_scenario_is_packaged_and_loads_by_name() -> None:
    assert SEED in list_scenarios()
    scenario = load_scenario(SEED)
    assert scenario.namespace == "production"
    assert scenario.history == 3 * 3600
    assert scenario.step == 15
    assert [s.name for s in scenario.services][:2] == ["api-gateway", "auth-service"]
    deploy = scenario.timeline[0].deploy
    assert deploy is not None and deploy.fault is not None
    assert scenario.timeline[0].at == -75 * 60
    assert deploy.fault.type == "memory_leak"
    assert deploy.fault.params == {"rate_mb_per_min": 4}
    assert scenario.expect is not None and scenario.expect.detect_within == 1800


def test_defaults_fill_what_a_service_leaves_out(tmp_path: Path) -> None:
    scenario = load_scenario(str(write(tmp_path, _GOOD)))
    web, db = scenario.services
    assert (web.replicas, web.version, web.memory_limit_mb) == (2, "v1.0.0", 1024)
    assert db.kind == "database" and db.memory_mb > web.memory_mb
    assert scenario.step == 15


def test_an_unknown_name_lists_the_packaged_scenarios() -> None:
    with pytest.raises(InvalidInputError, match=SEED):
        load_scenario("no-such-scenario")


@pytest.mark.parametrize(
    ("old", "new", "key", "what"),
    [
        ("deploy: {service: web,", "deploy: {service: wbe,", "timeline[0].deploy.service", "wbe"),
        ("calls: [db]", "calls: [db, cache]", "services[0].calls[1]", "cache"),
        ("history: 1h", "history: 1x", "history", "bad duration"),
        ("at: -30m", "at: -2h", "timeline[0].at", "outside the history"),
        ("version: v2}", "}", "timeline[0].deploy.version", "missing key"),
        (
            "version: v2}",
            "version: v2, fault: {type: gremlins}}",
            "timeline[0].deploy.fault.type",
            "unknown fault type 'gremlins'",
        ),
        (
            "version: v2}",
            "version: v2, fault: {type: cpu_hog, extra_millicores: -500}}",
            "timeline[0].deploy.fault.params.extra_millicores",
            "must be > 0",
        ),
        (
            "version: v2}",
            "version: v2, fault: {type: memory_leak}}",
            "timeline[0].deploy.fault.params.rate_mb_per_min",
            "missing key",
        ),
        ("namespace: shop", "namespace: shop\nsurprise: 1", "surprise", "unknown key"),
    ],
)
def test_each_mistake_names_the_file_the_key_and_the_problem(
    tmp_path: Path, old: str, new: str, key: str, what: str
) -> None:
    assert old in _GOOD
    path = write(tmp_path, _GOOD.replace(old, new, 1))
    with pytest.raises(InvalidInputError) as caught:
        load_scenario(str(path))
    message = str(caught.value)
    assert str(path) in message
    assert f"{key}:" in message
    assert what in message


def test_a_fault_event_needs_a_known_target(tmp_path: Path) -> None:
    text = (
        _GOOD + "  - at: -10m\n    fault: {type: memory_leak, target: ghost, rate_mb_per_min: 1}\n"
    )
    with pytest.raises(InvalidInputError, match=r"timeline\[1\]\.fault\.target: unknown service"):
        load_scenario(str(write(tmp_path, text)))


def test_a_call_cycle_is_refused(tmp_path: Path) -> None:
    text = _GOOD.replace("{name: db, kind: database}", "{name: db, kind: database, calls: [web]}")
    with pytest.raises(InvalidInputError, match="cycle"):
        load_scenario(str(write(tmp_path, text)))


def test_a_file_that_is_not_yaml_is_reported(tmp_path: Path) -> None:
    path = write(tmp_path, "name: [unclosed\n")
    with pytest.raises(InvalidInputError, match="not valid YAML"):
        load_scenario(str(path))
