"""Hosts on a real Prometheus: node_exporter's series for two machines, three hours of them
backfilled with promtool, one machine's root filesystem filling up for the last hour.
medic reads them through the `node_exporter` preset's real PromQL: the watchdog finds
the disk filling up, the diagnosis blames that host's disk, and the plan hands a human
the commands to run on that machine (ssh, df, du), never kubectl."""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from medic.adapters.prometheus import PrometheusMetrics
from medic.adapters.prometheus_queries import catalogue
from medic.adapters.prometheus_topology import LabelTopology
from medic.bootstrap.observer import NoChanges
from medic.diagnosis import diagnose
from medic.domain import ActionKind, Incident, IncidentState, Signal, SignalSource
from medic.domain.cluster import MetricName
from medic.remediation import plan
from medic.remediation.handover import hand_over
from medic.signals.watchdog import DISK_FILLING_UP, scan
from tests.services import prometheus, promtool

pytestmark = pytest.mark.integration

HOSTS = {"db-host": "db-1:9100", "web-host": "web-1:9100"}
SIZE = 100e9  # a 100 GB root filesystem
STEP = 15
HOURS = 3
FILLING_FOR = 3600.0  # the last hour
PER_SECOND = 0.02 / 600  # two points of the disk every ten minutes: full in about 4 h


@dataclass(frozen=True)
class Hosts:
    url: str
    end: datetime


def _openmetrics(end: float) -> str:
    """node_exporter's series of both hosts, every 15 s for three hours before `end`."""
    rng = random.Random(11)
    times = [end - HOURS * 3600 + i * STEP for i in range(HOURS * 3600 // STEP + 1)]
    families: dict[str, tuple[str, list[str]]] = {
        "up": ("gauge", []),
        "node_filesystem_avail_bytes": ("gauge", []),
        "node_filesystem_size_bytes": ("gauge", []),
        "node_load1": ("gauge", []),
        "node_cpu_seconds": ("counter", []),
        "node_memory_MemTotal_bytes": ("gauge", []),
        "node_memory_MemAvailable_bytes": ("gauge", []),
    }
    for job, instance in HOSTS.items():
        base = f'job="{job}",instance="{instance}"'
        fs = f'{base},device="/dev/sda1",fstype="ext4",mountpoint="/"'
        idle = 0.0
        for t in times:
            used = 0.40 + rng.gauss(0.0, 0.001)
            if job == "db-host":
                used += max(0.0, t - (end - FILLING_FOR)) * PER_SECOND
            idle += STEP * 1.6
            rows = {
                "up": (base, 1.0),
                "node_filesystem_avail_bytes": (fs, SIZE * (1.0 - used)),
                "node_filesystem_size_bytes": (fs, SIZE),
                "node_load1": (base, 0.5 + rng.gauss(0.0, 0.02)),
                "node_cpu_seconds": (f'{base},cpu="0",mode="idle"', idle),
                "node_memory_MemTotal_bytes": (base, 8e9),
                "node_memory_MemAvailable_bytes": (base, 5e9 + rng.gauss(0.0, 1e7)),
            }
            for name, (labels, value) in rows.items():
                sample = f"{name}_total" if families[name][0] == "counter" else name
                families[name][1].append(f"{sample}{{{labels}}} {value!r} {t:.3f}")
    out = []
    for name, (kind, lines) in families.items():
        out.append(f"# TYPE {name} {kind}")
        out.extend(lines)
    out.append("# EOF")
    return "\n".join(out) + "\n"


@pytest.fixture(scope="module")
def hosts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hosts]:
    tmp = tmp_path_factory.mktemp("hosts")
    end = math.floor(datetime.now(UTC).timestamp() / STEP) * STEP - 60.0
    (tmp / "hosts.om").write_text(_openmetrics(end))
    promtool("tsdb", "create-blocks-from", "openmetrics", str(tmp / "hosts.om"), str(tmp / "tsdb"))
    with prometheus(tmp / "prometheus", "global: {scrape_interval: 15s}\n", tmp / "tsdb") as url:
        yield Hosts(url, datetime.fromtimestamp(end, tz=UTC))


def _source(url: str) -> PrometheusMetrics:
    return PrometheusMetrics(url, queries=catalogue("node_exporter", {}))


def test_a_host_whose_disk_fills_up_is_found_blamed_and_handed_over_with_host_commands(
    hosts: Hosts,
) -> None:
    with _source(hosts.url) as metrics:
        topology = LabelTopology(
            metrics, service_label="job", services_query="up", host_label="instance"
        )
        services = topology.services("default")
        assert {s.name: s.nodes for s in services} == {
            "db-host": ("db-1",),
            "web-host": ("web-1",),
        }

        # The watchdog, on the real series, through the preset's real PromQL.
        found = scan(metrics, topology, "default", hosts.end, step_seconds=60.0)
        assert [(s.name, s.service) for s in found] == [(DISK_FILLING_UP, "db-host")], found
        (evidence,) = found[0].evidence
        assert evidence.query.startswith('max(1 - node_filesystem_avail_bytes{job="db-host"')
        assert evidence.data["promql"] == evidence.query
        assert str(evidence.data["graph_url"]).startswith(f"{hosts.url}/graph?g0.expr=")
        seconds = evidence.data["seconds_to_full"]
        assert isinstance(seconds, int | float)
        hours_left = seconds / 3600
        assert 3.0 < hours_left < 5.0, hours_left  # 60 % used, 2 points per 10 minutes

        # The diagnosis blames the host's disk, citing what it read.
        signal = Signal(
            source=SignalSource.WATCHDOG,
            fingerprint="disk",
            name=DISK_FILLING_UP,
            starts_at=found[0].starts_at,
            service="db-host",
            namespace="default",
            summary=found[0].summary,
        )
        incident = Incident(
            id="inc-disk",
            title="DiskFillingUp on db-host",
            state=IncidentState.DIAGNOSING,
            opened_at=hosts.end,
            updated_at=hosts.end,
            group_key="default/db-host",
            service="db-host",
            namespace="default",
        )
        diagnosis = diagnose(
            incident, [signal], metrics, NoChanges(), topology, None, hosts.end, namespace="default"
        )
    top = diagnosis.top
    assert top is not None and (top.root_cause.service, top.fault) == ("db-host", "disk_full")
    cited = [e for e in diagnosis.evidence if e.id in top.evidence_ids]
    disk = [e for e in cited if e.data.get("metric") == MetricName.DISK_USAGE_RATIO.value]
    assert disk and disk[0].query.startswith("max(1 - node_filesystem_avail_bytes")
    assert all(m != "no data" for m in diagnosis.missing)

    # No executor: a human gets the commands for that machine.
    handed = hand_over(
        plan(diagnosis, services, {}),
        "no executor",
        hosts={s.name: s.nodes for s in services},
        fault=top.fault,
        service="db-host",
    )
    (action,) = handed.immediate
    assert action.kind is ActionKind.ESCALATE
    assert action.command.startswith("ssh db-1 'df -h")
    assert "kubectl" not in action.command and "kubectl" not in action.reason
