"""Same seed, same world: logs, events and per-pod series do not depend on query order."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from medic.domain.cluster import MetricName
from medic.domain.errors import InvalidInputError
from medic.sandbox import load_scenario
from tests.sandbox.helpers import START, write
from tests.sandbox.shop import NS, open_shop

_FAULTS = """  - at: -25m
    fault: {type: node_pressure, node: node-a, cpu_steal: 0.4}
  - at: -15m
    deploy: {service: checkout, version: v2, fault: {type: error_regression, error_rate: 0.1}}
  - at: -8m
    blip: {service: web}
"""


def test_two_sandboxes_of_one_seed_say_the_same_whatever_is_asked_first(tmp_path: Path) -> None:
    one, _ = open_shop(tmp_path, _FAULTS, name="one")
    two, _ = open_shop(tmp_path, _FAULTS, name="two")
    start, end = START - timedelta(minutes=10), START
    # Opposite orders: logs then metrics, metrics then logs.
    logs_one = one.logs.lines(NS, "checkout", start, end, 500)
    pods_one = one.metrics.query_pods(
        NS, "checkout", MetricName.LATENCY_P99_SECONDS, start, end, 15
    )
    pods_two = two.metrics.query_pods(
        NS, "checkout", MetricName.LATENCY_P99_SECONDS, start, end, 15
    )
    logs_two = two.logs.lines(NS, "checkout", start, end, 500)
    assert [(x.at, x.pod, x.message) for x in logs_one] == [
        (x.at, x.pod, x.message) for x in logs_two
    ]
    assert [s.points for s in pods_one] == [s.points for s in pods_two]
    assert one.events.events(NS, start, end) == two.events.events(NS, start, end)
    # A narrower window agrees with the wider one on what they share.
    narrow = one.logs.lines(NS, "checkout", end - timedelta(minutes=2), end, 500)
    assert {(x.at, x.message) for x in narrow} <= {(x.at, x.message) for x in logs_one}


def test_healthy_pods_log_routine_warnings_now_and_then(tmp_path: Path) -> None:
    sandbox, _ = open_shop(tmp_path, "")
    lines = sandbox.logs.lines(NS, "web", START - timedelta(minutes=30), START, 10_000)
    levels = {line.level for line in lines}
    assert "warning" in levels
    warnings = [line for line in lines if line.level == "warning"]
    assert len(warnings) < 0.1 * len(lines)


@pytest.mark.parametrize(
    ("event", "key", "what"),
    [
        (
            "deploy: {service: web, version: v2, fault: {type: dependency_outage, "
            "target: orders-db}}",
            "timeline[0].deploy.fault.target",
            "'web' does not call 'orders-db'",
        ),
        (
            "fault: {type: node_pressure, node: node-q, cpu_steal: 0.5}",
            "timeline[0].fault.params.node",
            "unknown node 'node-q'",
        ),
        (
            "fault: {type: node_pressure, node: node-a, cpu_steal: 1.5}",
            "timeline[0].fault.params.cpu_steal",
            "within (0, 1)",
        ),
        (
            "fault: {type: traffic_surge, target: checkout, factor: 3}",
            "timeline[0].fault.target",
            "no entry_rps",
        ),
        (
            "fault: {type: crashloop, target: checkout, reason: cosmic_rays}",
            "timeline[0].fault.params.reason",
            "expected one of bad_config",
        ),
        (
            "config_change: {service: web, key: A, value: b, fault: {type: node_pressure, "
            "node: node-a, cpu_steal: 0.2}}",
            "timeline[0].config_change.fault.type",
            "use a fault event",
        ),
        (
            "fault: {type: disk_full}",
            "timeline[0].fault.target",
            "missing key",
        ),
    ],
)
def test_bad_faults_are_reported_with_file_and_key(
    tmp_path: Path, event: str, key: str, what: str
) -> None:
    text = f"""name: bad
namespace: shop
history: 1h
nodes: [{{name: node-a}}, {{name: node-b}}]
services:
  - {{name: web, entry_rps: 10, calls: [checkout]}}
  - {{name: checkout, calls: [orders-db]}}
  - {{name: orders-db, kind: database}}
timeline:
  - at: -10m
    {event}
"""
    path = write(tmp_path, text)
    with pytest.raises(InvalidInputError) as caught:
        load_scenario(str(path))
    message = str(caught.value)
    assert str(path) in message and f"{key}:" in message and what in message


def test_a_negative_entry_rate_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "name: n\nhistory: 1h\nservices: [{name: web, entry_rps: -5}]\n")
    with pytest.raises(InvalidInputError, match=r"services\[0\]\.entry_rps"):
        load_scenario(str(path))
