"""The Prometheus adapter against a real VictoriaMetrics (same query API): range queries,
the query catalogue checked by the server, caps, services from labels, and the series
counts `medic doctor` reports, on series it scraped itself from a real node_exporter."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from medic.adapters.prometheus import PromAccess, PrometheusMetrics
from medic.adapters.prometheus_queries import catalogue
from medic.adapters.prometheus_topology import LabelTopology
from medic.bootstrap.prometheus import check_queries, count_series
from medic.domain.cluster import MetricName
from medic.domain.errors import InvalidInputError, PermanentError
from tests.live.exporters import Process, node_exporter, victoria_metrics
from tests.server import wait_until

MB = 1024 * 1024


@dataclass
class Vm:
    process: Process
    now: datetime

    def source(self, **queries: str | None) -> PrometheusMetrics:
        return PrometheusMetrics(
            self.process.url,
            queries=catalogue("node_exporter", queries),
            access=PromAccess(kind="VictoriaMetrics", max_series=50),
        )


@pytest.fixture
def vm(tmp_path: Path) -> Iterator[Vm]:
    with node_exporter(tmp_path / "node") as node:
        scrape = tmp_path / "scrape.yml"
        scrape.write_text(
            "global: {scrape_interval: 1s}\n"
            "scrape_configs:\n"
            f"  - job_name: node\n    static_configs: [{{targets: ['{node.address}']}}]\n"
        )
        with victoria_metrics(tmp_path / "vm", scrape) as process:
            now = datetime.now(UTC).replace(microsecond=0)
            # Ten minutes of a service's memory, 300 MB climbing 4 MB a minute.
            lines = [
                f'process_resident_memory_bytes{{job="shop"}} {(300 + 4 * i) * MB} '
                f"{int((now - timedelta(minutes=10 - i)).timestamp() * 1000)}"
                for i in range(11)
            ]
            lines += [f'fanout{{i="{i}"}} 1' for i in range(60)]
            imported = httpx.post(
                f"{process.url}/api/v1/import/prometheus", content="\n".join(lines) + "\n"
            )
            assert imported.status_code == 204, imported.text
            httpx.get(f"{process.url}/internal/force_flush")
            yield Vm(process, now)


def test_victoriametrics_answers_the_adapter_like_prometheus(vm: Vm) -> None:
    query = 'max(max_over_time(process_resident_memory_bytes{job="$service"}[$gauge_window]))'
    with vm.source(memory_working_set_bytes=query) as source:
        assert source.health().startswith("VictoriaMetrics")

        def climbed() -> list[float]:
            series = source.query(
                "default",
                "shop",
                MetricName.MEMORY_WORKING_SET_BYTES,
                vm.now - timedelta(minutes=10),
                vm.now,
                60,
            )
            return series.values()

        values = wait_until("the imported series", lambda: len(climbed()) >= 10 and climbed())
        # One point a minute (on step boundaries), each 4 MB above the one before.
        assert {b - a for a, b in itertools.pairwise(values)} == {4 * MB}
        assert values[-1] >= 336 * MB
    with PrometheusMetrics(vm.process.url) as uncapped:
        wait_until("the 60 imported series", lambda: len(uncapped.instant("fanout")) == 60)
    over = r"60 series, more than prometheus\.max_series"
    with vm.source() as capped, pytest.raises(PermanentError, match=over):
        capped.instant("fanout")


def test_the_catalogue_is_parsed_by_victoriametrics_naming_the_bad_key(vm: Vm) -> None:
    broken = 'sum(rate(node_cpu_seconds_total{job="$service"}['
    refused = r"prometheus\.queries\.cpu_usage_cores: "
    with vm.source(cpu_usage_cores=broken) as bad, pytest.raises(InvalidInputError, match=refused):
        check_queries(bad)
    with vm.source() as good:
        assert "queries of preset node_exporter parse" in check_queries(good)


def test_services_from_labels_and_series_per_service_on_scraped_node_exporter(vm: Vm) -> None:
    with vm.source() as source:
        topology = LabelTopology(source, service_label="job", services_query="up")
        wait_until("VictoriaMetrics to scrape node_exporter", lambda: topology.services("default"))
        assert [s.name for s in topology.services("default")] == ["node"]
        report = wait_until(
            "node_exporter series",
            lambda: (
                (r := count_series(source, topology, "default"))
                and "memory_working_set_bytes: 1 of 1" in r
                and "cpu_usage_cores: 1 of 1" in r
                and r
            ),
        )
        assert "available_replicas: 1 of 1 services" in report
        assert "disk_usage_ratio: 1 of 1 services" in report
