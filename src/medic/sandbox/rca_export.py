"""Write a sandbox scenario as an offline root-cause case (BENCHMARK.md §2, RCAEval).

The case directory gets:

- `data.csv`: `time` (Unix seconds) and one column `<service>_<metric>` per metric the
  sandbox's MetricsSource answers for each service (medic's `MetricName` values, e.g.
  `auth-service_memory_working_set_bytes`), one row per scenario step from the start of
  the history to the end of the window (see below). An empty cell is a point the
  service does not have (an external service has no pods, so no memory).
- `inject_time.txt`: the Unix time of the first timeline event that carries a fault
  (the one on the expected root-cause service when there are several).
- `graph.csv`: `source,target` for every call edge.
- `logs.csv`: `time,service,message`, the sandbox pods' log lines (the newest
  `_MAX_LOG_LINES` per service).
- `traces.csv`: spans (`sandbox.rca_traces`): per step, one trace per entry service
  down its call graph, each span's duration its service's latency.
- `symptom.json`: the entry service's latency, as an alert ten minutes after the
  fault began would report it.
- `truth.json`: `{"service": expect.root_cause.service, "fault": <fault type>,
  "category": expect.root_cause.category}`; absent when the scenario expects no cause.

Service names: the case format splits a column at the first underscore, so every
underscore in a service name becomes a hyphen (`orders_db` -> `orders-db`) in the
columns, the graph and the truth alike. Scenario names already forbid underscores, so
for valid scenarios the mapping is the identity; two names that would collide are an
error rather than a silent merge.

The window: from `-history` to `max(0, fault start + AFTER_FAULT)`, so a fault that
starts live (after "now = 0") still has a stretch of symptoms to rank. Simulated time
starts at the fixed `ORIGIN`, so the same scenario always exports the same file.
"""

from __future__ import annotations

import csv
import json
import math
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from medic.domain.cluster import MetricName
from medic.domain.errors import InvalidInputError
from medic.sandbox.clock import ManualClock
from medic.sandbox.rca_traces import write_traces
from medic.sandbox.sandbox import Sandbox
from medic.sandbox.scenario import FaultSpec, Scenario, TimelineEvent, load_scenario

__all__ = ["AFTER_FAULT", "ORIGIN", "RcaExport", "case_service_name", "export_rca"]

# A fixed "now = 0" (a Monday noon, UTC): exports are byte-for-byte reproducible.
ORIGIN = datetime(2024, 1, 1, 12, 0, tzinfo=UTC)
# How much of a fault's aftermath the window keeps at least.
AFTER_FAULT = 30 * 60.0
# The symptom: an alert on the entry service this long after the fault began.
_ALERT_AFTER = 10 * 60.0
# Per service, at most this many log lines (the newest) go into logs.csv.
_MAX_LOG_LINES = 5000


@dataclass(frozen=True)
class RcaExport:
    directory: Path
    services: tuple[str, ...]  # case names, in scenario order
    columns: int  # metric columns written (without `time`)
    rows: int
    inject_time: float | None
    truth: str | None


def case_service_name(name: str) -> str:
    """A service's name in the case: no underscore (the column separator)."""
    return name.replace("_", "-")


def export_rca(scenario: str, out: Path) -> RcaExport:
    """Write `scenario` (a packaged name or a file) as a case directory `out`."""
    loaded = load_scenario(scenario)
    names = _name_map(loaded)
    fault_event = _fault_event(loaded)
    end = 0.0 if fault_event is None else max(0.0, fault_event.at + AFTER_FAULT)
    with tempfile.TemporaryDirectory(prefix="medic-rca-export-") as state:
        clock = ManualClock(ORIGIN)
        sandbox = Sandbox.open(scenario, Path(state), clock=clock)
        origin = sandbox.origin
        clock.set(origin + timedelta(seconds=end))
        start = origin - timedelta(seconds=loaded.history)
        columns: dict[str, dict[float, float]] = {}
        for service in loaded.services:
            for metric in MetricName:
                series = sandbox.metrics.query(
                    sandbox.namespace, service.name, metric, start, clock.now(), loaded.step
                )
                if series.points:
                    key = f"{names[service.name]}_{metric.value}"
                    columns[key] = {p.t: p.v for p in series.points}
        logs = [
            (line.at.timestamp(), names[service.name], line.message)
            for service in loaded.services
            for line in sandbox.logs.lines(
                sandbox.namespace, service.name, start, clock.now(), _MAX_LOG_LINES
            )
        ]
    times = sorted({t for values in columns.values() for t in values})
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    _write_data(out / "data.csv", times, columns)
    _write_logs(out / "logs.csv", logs)
    write_traces(out / "traces.csv", loaded, names, columns, times)
    _write_graph(out / "graph.csv", loaded, names)
    inject = None
    if fault_event is not None:
        inject = origin.timestamp() + fault_event.at
        (out / "inject_time.txt").write_text(f"{inject:.0f}\n", encoding="utf-8")
    else:
        (out / "inject_time.txt").unlink(missing_ok=True)
    truth = _write_truth(out / "truth.json", loaded, names, fault_event)
    _write_symptom(out / "symptom.json", loaded, names, inject)
    return RcaExport(
        directory=out,
        services=tuple(names[s.name] for s in loaded.services),
        columns=len(columns),
        rows=len(times),
        inject_time=inject,
        truth=truth,
    )


def _name_map(scenario: Scenario) -> dict[str, str]:
    names: dict[str, str] = {}
    for service in scenario.services:
        mapped = case_service_name(service.name)
        clash = next((k for k, v in names.items() if v == mapped), None)
        if clash is not None:
            raise InvalidInputError(
                f"{scenario.name}: services {clash!r} and {service.name!r} both become "
                f"{mapped!r} in a case (underscores turn into hyphens)"
            )
        names[service.name] = mapped
    return names


def _fault_of(event: TimelineEvent) -> FaultSpec | None:
    if event.fault is not None:
        return event.fault
    if event.deploy is not None:
        return event.deploy.fault
    if event.config_change is not None:
        return event.config_change.fault
    return None


def _fault_target(event: TimelineEvent, fault: FaultSpec) -> str | None:
    return fault.target or event.service


def _fault_event(scenario: Scenario) -> TimelineEvent | None:
    """The first event with a fault, preferring one on the expected root cause."""
    events = sorted((e for e in scenario.timeline if _fault_of(e) is not None), key=lambda e: e.at)
    cause = scenario.expect.root_cause if scenario.expect else None
    if cause is not None:
        for event in events:
            fault = _fault_of(event)
            if fault is not None and _fault_target(event, fault) == cause.service:
                return event
    return events[0] if events else None


def _write_data(path: Path, times: list[float], columns: dict[str, dict[float, float]]) -> None:
    header = ["time", *columns]
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        for t in times:
            row = [_number(t)]
            for values in columns.values():
                value = values.get(t)
                row.append("" if value is None or not math.isfinite(value) else repr(value))
            writer.writerow(row)


def _number(t: float) -> str:
    return str(int(t)) if float(t).is_integer() else repr(t)


def _write_graph(path: Path, scenario: Scenario, names: dict[str, str]) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["source", "target"])
        for service in scenario.services:
            for callee in service.calls:
                writer.writerow([names[service.name], names.get(callee, callee)])


def _write_logs(path: Path, logs: list[tuple[float, str, str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["time", "service", "message"])
        for at, service, message in sorted(logs, key=lambda r: r[0]):
            writer.writerow([_number(at), service, message])


def _write_symptom(
    path: Path, scenario: Scenario, names: dict[str, str], inject: float | None
) -> None:
    """Where users feel it: the service external traffic enters, as its alert would say."""
    entry = max(scenario.services, key=lambda s: s.entry_rps, default=None)
    if entry is None or entry.entry_rps <= 0 or inject is None:
        path.unlink(missing_ok=True)
        return
    symptom = {"service": names[entry.name], "metric": "latency", "time": inject + _ALERT_AFTER}
    path.write_text(json.dumps(symptom) + "\n", encoding="utf-8")


def _write_truth(
    path: Path, scenario: Scenario, names: dict[str, str], fault_event: TimelineEvent | None
) -> str | None:
    cause = scenario.expect.root_cause if scenario.expect else None
    if cause is None:
        path.unlink(missing_ok=True)
        return None
    fault = _fault_of(fault_event) if fault_event is not None else None
    service = names.get(cause.service, case_service_name(cause.service))
    truth = {
        "service": service,
        "fault": fault.type if fault is not None else cause.category.value,
        "category": cause.category.value,
    }
    path.write_text(json.dumps(truth, indent=2) + "\n", encoding="utf-8")
    return service
