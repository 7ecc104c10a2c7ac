"""Values and axis ticks read as an SRE reads a Grafana panel."""

from __future__ import annotations

import pytest

from medic.web.units import format_value, nice_ticks, time_ticks

MIB = 1024.0**2


@pytest.mark.parametrize(
    ("value", "unit", "shown"),
    [
        (314_940_000.0, "bytes", "300 MiB"),
        (1024 * MIB, "bytes", "1.00 GiB"),
        (1.5 * MIB, "bytes", "1.50 MiB"),
        (0.2404, "seconds", "240 ms"),
        (2.5, "seconds", "2.50 s"),
        (0.0321, "ratio", "3.21%"),
        (120.4, "requests/s", "120 req/s"),
        (0.25, "cores", "0.25 cores"),
        (7.0, "count", "7.00"),
        (float("nan"), "bytes", "no data"),
    ],
)
def test_values_carry_their_unit(value: float, unit: str, shown: str) -> None:
    assert format_value(value, unit) == shown


def test_ticks_are_round_and_cover_the_range() -> None:
    assert nice_ticks(0.21, 1.04) == [0.25, 0.5, 0.75, 1.0]
    assert nice_ticks(280.0, 620.0) == [300.0, 400.0, 500.0, 600.0]
    assert nice_ticks(3.0, 3.0) == [3.0]


def test_time_ticks_fall_on_round_clock_times() -> None:
    start = 1_777_896_000.0 + 7 * 60  # 12:07 UTC
    ticks = time_ticks(start, start + 3 * 3600)
    assert all(t % 1800 == 0 for t in ticks) and ticks[0] >= start
