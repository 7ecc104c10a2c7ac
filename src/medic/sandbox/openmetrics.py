"""A scenario's history as OpenMetrics text, for `promtool tsdb create-blocks-from openmetrics`.

Families are written one after the other (OpenMetrics forbids interleaving them),
each series' samples in time order, a histogram's buckets, count and sum of one
instant together, timestamps in Unix seconds, and `# EOF` last. Prometheus does
not accept samples far in the past through scraping; backfilling blocks is how a
real Prometheus gets the sandbox's hours of history.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from medic.domain.errors import InvalidInputError, PermanentError
from medic.sandbox.exposition import FAMILIES, Exposition, Family, Value, history_snapshot
from medic.sandbox.scenario import Scenario

__all__ = ["ExportSummary", "export_openmetrics", "format_labels", "write_openmetrics"]

_EPSILON = 1e-6

Labels = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class ExportSummary:
    families: int
    series: int
    samples: int
    start: datetime  # the first exported step (its counters' zero is one step earlier)
    end: datetime  # the scenario's "now = 0"


def format_labels(labels: Iterable[tuple[str, str]]) -> str:
    # Label values are data from the scenario file: escape what would end the string.
    escaped = (
        (k, v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")) for k, v in labels
    )
    inner = ",".join(f'{k}="{v}"' for k, v in escaped)
    return "{" + inner + "}" if inner else ""


def _number(value: float) -> str:
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


class _Groups:
    """Lines by family, series and instant; a series' name and labels are formatted once."""

    def __init__(self) -> None:
        # family -> series (suffix and labels; a histogram's without `le`) -> instant -> lines
        self.families: dict[str, dict[tuple[str, Labels], dict[float, list[str]]]] = {}
        self._prefixes: dict[tuple[str, str, Labels, str | None], str] = {}

    def add(self, value: Value, at: float) -> None:
        prefix = self._prefixes.get(value.key)
        if prefix is None:
            labels = value.labels if value.le is None else (*value.labels, ("le", value.le))
            prefix = value.family.name + value.suffix + format_labels(labels)
            self._prefixes[value.key] = prefix
        # A histogram's samples of one instant stay together; other series stand alone.
        suffix = "" if value.family.kind == "histogram" else value.suffix
        series = self.families.setdefault(value.family.name, {})
        instants = series.setdefault((suffix, value.labels), {})
        instants.setdefault(at, []).append(f"{prefix} {_number(value.value)} {_number(at)}")


def export_openmetrics(
    scenario: Scenario, out: TextIO, *, origin: datetime, hours: float | None = None
) -> ExportSummary:
    """Write the last `hours` of history (default: all of it) before "now = 0" = `origin`."""
    span = scenario.history if hours is None else min(hours * 3600.0, scenario.history)
    if span <= 0:
        raise InvalidInputError(f"--hours must be > 0, not {hours}")
    step = scenario.step
    snapshot = history_snapshot(scenario, origin)
    exposition = Exposition(scenario)
    groups = _Groups()
    first = math.ceil(-span / step - _EPSILON)
    for k in range(first, 1):
        values = exposition.advance(snapshot, k)
        for value in values.values:
            groups.add(value, values.at)
        for zero in values.born:
            groups.add(zero, values.at - step)
    series = samples = 0
    families = [f for f in FAMILIES if f.name in groups.families]
    for family in families:
        _header(out, family)
        for instants in groups.families[family.name].values():
            series += 1
            for at in sorted(instants):
                samples += len(instants[at])
                out.write("\n".join(instants[at]) + "\n")
    out.write("# EOF\n")
    origin_unix = snapshot.telemetry.origin_unix
    return ExportSummary(
        families=len(families),
        series=series,
        samples=samples,
        start=datetime.fromtimestamp(origin_unix + first * step, tz=UTC),
        end=datetime.fromtimestamp(origin_unix, tz=UTC),
    )


def _header(out: TextIO, family: Family) -> None:
    out.write(f"# HELP {family.name} {family.help}\n# TYPE {family.name} {family.kind}\n")
    if family.unit:
        out.write(f"# UNIT {family.name} {family.unit}\n")


def write_openmetrics(
    scenario: Scenario, path: Path, *, origin: datetime, hours: float | None = None
) -> ExportSummary:
    """`export_openmetrics` into a file (written whole, then renamed into place)."""
    partial = path.with_name(path.name + ".partial")
    try:
        with partial.open("w", encoding="utf-8") as out:
            summary = export_openmetrics(scenario, out, origin=origin, hours=hours)
        partial.replace(path)
    except OSError as e:
        raise PermanentError(f"{path}: cannot write the OpenMetrics export: {e}") from e
    return summary
