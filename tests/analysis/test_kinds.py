"""What a series is, read from its name, and which way it hurts."""

from __future__ import annotations

import pytest

from medic.analysis.kinds import PROPAGATING, SeriesKind, harm_of, kind_of


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("memory_working_set_bytes", SeriesKind.MEMORY),
        ("container_cpu_usage_seconds_total", SeriesKind.CPU),
        ("http_server_request_duration_seconds", SeriesKind.LATENCY),
        ("latency-90", SeriesKind.LATENCY),
        ("lat_99", SeriesKind.LATENCY),
        ("spanDurationMs", SeriesKind.LATENCY),
        ("error_ratio", SeriesKind.ERRORS),
        ("http_requests_failed_total", SeriesKind.ERRORS),
        ("kube_pod_container_status_restarts_total", SeriesKind.RESTARTS),
        ("available_replicas", SeriesKind.REPLICAS),
        ("success_ratio", SeriesKind.AVAILABILITY),
        ("up", SeriesKind.AVAILABILITY),
        ("request_rate", SeriesKind.THROUGHPUT),
        ("workload", SeriesKind.THROUGHPUT),
        ("memory_rss", SeriesKind.MEMORY),
        ("node_filesystem_avail_bytes", SeriesKind.AVAILABILITY),
        ("disk", SeriesKind.DISK),
        ("net_rx_bytes", SeriesKind.NETWORK),
        ("db_pool_pending", SeriesKind.SATURATION),
        ("power", SeriesKind.UNKNOWN),
        ("lod", SeriesKind.UNKNOWN),
    ],
)
def test_a_series_kind_comes_from_the_words_of_its_name(name: str, kind: SeriesKind) -> None:
    assert kind_of(name) is kind


def test_each_kind_hurts_in_its_own_direction() -> None:
    for rising in (SeriesKind.LATENCY, SeriesKind.ERRORS, SeriesKind.CPU, SeriesKind.MEMORY):
        assert harm_of(rising).up == 1.0 and harm_of(rising).down == 0.0
    assert harm_of(SeriesKind.AVAILABILITY).down == 1.0 and harm_of(SeriesKind.AVAILABILITY).up == 0
    assert harm_of(SeriesKind.THROUGHPUT).down == 1.0  # served traffic falling
    unknown = harm_of(SeriesKind.UNKNOWN)
    assert unknown.up == unknown.down == 0.5  # two-sided, with less weight


def test_resources_do_not_travel_up_the_calls() -> None:
    assert SeriesKind.LATENCY in PROPAGATING and SeriesKind.ERRORS in PROPAGATING
    assert (
        not {SeriesKind.CPU, SeriesKind.MEMORY, SeriesKind.DISK, SeriesKind.REPLICAS} & PROPAGATING
    )
