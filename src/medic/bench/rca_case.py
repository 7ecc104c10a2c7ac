"""Reading one offline root-cause case (BENCHMARK.md §2), strictly.

A case is a directory with `data.csv` and optional `inject_time.txt`, `graph.csv`,
`truth.json`, `symptom.json`, `logs.csv` and `traces.csv`. Anything malformed is an
InvalidInputError naming the file and the problem (non-numeric or duplicate columns,
unsorted or repeated timestamps, a graph or symptom naming a service the data does
not have, log or span rows with missing fields, a case of one row), so the bench
reports that case as failed and goes on with the others.
"""

from __future__ import annotations

import csv
import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from medic.analysis.stats import Array
from medic.analysis.traces import Span
from medic.diagnosis.ranking import Symptom
from medic.domain.errors import InvalidInputError

__all__ = ["LogRecord", "RcaCase", "load_case"]

_RCAEVAL_FOLDER = re.compile(r"^([A-Za-z0-9.-]+)_([A-Za-z0-9_.-]+)$")
# Columns RCAEval's exports carry that are not metrics of a service.
_NOT_METRICS = frozenset({"time", "timestamp", "Unnamed: 0", ""})
_MISSING = frozenset({"", "nan", "NaN", "NA", "null", "None"})
_LOG_FIELDS = ("time", "service", "message")
_SPAN_FIELDS = (
    "time",
    "trace_id",
    "span_id",
    "parent_span_id",
    "service",
    "operation",
    "duration_ms",
    "status",
)


@dataclass(frozen=True)
class LogRecord:
    time: float
    service: str
    message: str  # untrusted text: mined into templates and counted, never obeyed


@dataclass(frozen=True)
class RcaCase:
    name: str
    times: Array  # Unix seconds, one per row, strictly increasing
    metrics: dict[str, dict[str, Array]]  # service -> metric -> values (NaN: missing)
    inject_time: float | None
    calls: dict[str, tuple[str, ...]]
    truth: str | None
    fault: str | None
    symptom: Symptom | None = None
    logs: tuple[LogRecord, ...] = field(default=())
    spans: tuple[Span, ...] = field(default=())


def load_case(name: str, folder: Path) -> RcaCase:
    """Read one case directory; InvalidInputError names the file and the problem."""
    data = folder / "data.csv"
    if not data.is_file():
        raise InvalidInputError(f"{folder}: no data.csv")
    times, metrics = _read_data(data)
    truth, fault = _read_truth(folder)
    calls = _read_graph(folder / "graph.csv")
    known = set(metrics)
    unknown = sorted({s for k, v in calls.items() for s in (k, *v)} - known)
    if unknown:
        raise InvalidInputError(
            f"{folder / 'graph.csv'}: names services with no column in data.csv: "
            + ", ".join(unknown[:5])
        )
    symptom = _read_symptom(folder / "symptom.json", known)
    return RcaCase(
        name=name,
        times=times,
        metrics=metrics,
        inject_time=_read_inject_time(folder / "inject_time.txt"),
        calls=calls,
        truth=truth,
        fault=fault,
        symptom=symptom,
        logs=_read_logs(folder / "logs.csv"),
        spans=_read_spans(folder / "traces.csv"),
    )


def _rows(path: Path) -> list[list[str]]:
    try:
        with path.open(encoding="utf-8", newline="") as f:
            return list(csv.reader(f))
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise InvalidInputError(f"{path}: cannot read: {e}") from e


def _read_data(path: Path) -> tuple[Array, dict[str, dict[str, Array]]]:
    rows = _rows(path)
    if not rows:
        raise InvalidInputError(f"{path}: empty file")
    header = [h.strip() for h in rows[0]]
    if "time" not in header:
        raise InvalidInputError(f"{path}: no `time` column (header: {', '.join(header[:5])}…)")
    duplicates = sorted({h for h in header if h and header.count(h) > 1})
    if duplicates:
        raise InvalidInputError(f"{path}: duplicate columns: {', '.join(duplicates[:5])}")
    body = rows[1:]
    if len(body) < 2:
        raise InvalidInputError(f"{path}: {len(body)} row(s); a case needs at least two")
    width = len(header)
    short = next((i for i, r in enumerate(body, start=2) if len(r) != width), None)
    if short is not None:
        raise InvalidInputError(f"{path}: line {short} has {len(body[short - 2])} of {width} cells")
    table = np.empty((len(body), width), dtype=np.float64)
    for j, column in enumerate(header):
        for i, row in enumerate(body):
            table[i, j] = _number(row[j], path, column, i + 2)
    times = table[:, header.index("time")]
    if not np.isfinite(times).all():
        raise InvalidInputError(f"{path}: the `time` column has empty cells")
    steps = np.diff(times)
    if (steps <= 0).any():
        line = int(np.nonzero(steps <= 0)[0][0]) + 3
        what = "repeated" if steps[line - 3] == 0 else "unsorted"
        raise InvalidInputError(f"{path}: {what} timestamps at line {line}")
    metrics: dict[str, dict[str, Array]] = {}
    for i, column in enumerate(header):
        if column in _NOT_METRICS or "_" not in column:
            continue
        service, metric = column.split("_", 1)
        if service and metric:
            metrics.setdefault(service, {})[metric] = table[:, i]
    if not metrics:
        raise InvalidInputError(f"{path}: no `<service>_<metric>` column")
    return times, metrics


def _number(cell: str, path: Path, column: str, line: int) -> float:
    text = cell.strip()
    if text in _MISSING:
        return math.nan
    try:
        return float(text)
    except ValueError:
        raise InvalidInputError(
            f"{path}: column {column!r} is not numeric (line {line}: {text[:20]!r})"
        ) from None


def _read_inject_time(path: Path) -> float | None:
    if not path.is_file():
        return None
    text = path.read_text(encoding="utf-8").strip()
    try:
        value = float(text)
    except ValueError as e:
        raise InvalidInputError(f"{path}: not a Unix time: {text[:40]!r}") from e
    if not math.isfinite(value):
        raise InvalidInputError(f"{path}: not a Unix time: {text[:40]!r}")
    return value


def _read_graph(path: Path) -> dict[str, tuple[str, ...]]:
    if not path.is_file():
        return {}
    rows = _rows(path)
    if not rows:
        return {}
    header = [h.strip() for h in rows[0]]
    if not {"source", "target"} <= set(header):
        raise InvalidInputError(f"{path}: the header must be `source,target`")
    si, ti = header.index("source"), header.index("target")
    calls: dict[str, list[str]] = {}
    for line, row in enumerate(rows[1:], start=2):
        if len(row) <= max(si, ti):
            raise InvalidInputError(f"{path}: line {line} has {len(row)} of {len(header)} cells")
        source, target = row[si].strip(), row[ti].strip()
        if not source or not target:
            raise InvalidInputError(f"{path}: line {line}: an empty source or target")
        if target not in calls.setdefault(source, []):
            calls[source].append(target)
    return {k: tuple(v) for k, v in calls.items()}


def _read_json(path: Path) -> object:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise InvalidInputError(f"{path}: not JSON: {e}") from e


def _read_truth(folder: Path) -> tuple[str | None, str | None]:
    path = folder / "truth.json"
    if path.is_file():
        raw = _read_json(path)
        if not isinstance(raw, dict) or not isinstance(raw.get("service"), str):
            raise InvalidInputError(f'{path}: expected {{"service": ..., "fault": ...}}')
        fault = raw.get("fault")
        return raw["service"], fault if isinstance(fault, str) else None
    # RCAEval: .../<service>_<fault>/<repetition>/data.csv
    match = _RCAEVAL_FOLDER.match(folder.parent.name)
    if match and folder.name.isdigit():
        return match.group(1), match.group(2)
    return None, None


def _read_symptom(path: Path, known: set[str]) -> Symptom | None:
    if not path.is_file():
        return None
    raw = _read_json(path)
    if not isinstance(raw, dict) or not isinstance(raw.get("service"), str):
        raise InvalidInputError(f'{path}: expected {{"service": ..., "metric": ..., "time": ...}}')
    service = raw["service"]
    if service not in known:
        raise InvalidInputError(f"{path}: names {service!r}, which has no column in data.csv")
    metric, at = raw.get("metric"), raw.get("time")
    if metric is not None and not isinstance(metric, str):
        raise InvalidInputError(f"{path}: `metric` must be a string")
    if at is not None and (
        isinstance(at, bool) or not isinstance(at, int | float) or not math.isfinite(at)
    ):
        raise InvalidInputError(f"{path}: `time` must be Unix seconds")
    return Symptom(service, metric, float(at) if at is not None else None)


def _dict_rows(path: Path, fields: Sequence[str]) -> list[tuple[int, dict[str, str]]]:
    rows = _rows(path)
    if not rows:
        raise InvalidInputError(f"{path}: empty file")
    header = [h.strip() for h in rows[0]]
    missing = [f for f in fields if f not in header]
    if missing:
        raise InvalidInputError(f"{path}: missing columns: {', '.join(missing)}")
    out: list[tuple[int, dict[str, str]]] = []
    for line, row in enumerate(rows[1:], start=2):
        if len(row) != len(header):
            raise InvalidInputError(f"{path}: line {line} has {len(row)} of {len(header)} cells")
        out.append((line, dict(zip(header, row, strict=True))))
    return out


def _time(text: str, path: Path, line: int) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise InvalidInputError(f"{path}: line {line}: `time` is not Unix seconds")
    return value


def _read_logs(path: Path) -> tuple[LogRecord, ...]:
    if not path.is_file():
        return ()
    records: list[LogRecord] = []
    for line, row in _dict_rows(path, _LOG_FIELDS):
        service = row["service"].strip()
        if not service:
            raise InvalidInputError(f"{path}: line {line}: an empty `service`")
        records.append(LogRecord(_time(row["time"], path, line), service, row["message"]))
    return tuple(records)


def _read_spans(path: Path) -> tuple[Span, ...]:
    if not path.is_file():
        return ()
    spans: list[Span] = []
    for line, row in _dict_rows(path, _SPAN_FIELDS):
        service, span_id = row["service"].strip(), row["span_id"].strip()
        if not service or not span_id or not row["trace_id"].strip():
            raise InvalidInputError(f"{path}: line {line}: empty trace_id, span_id or service")
        try:
            duration = float(row["duration_ms"])
        except ValueError:
            duration = math.nan
        if not math.isfinite(duration) or duration < 0:
            raise InvalidInputError(f"{path}: line {line}: `duration_ms` is not a duration")
        status = row["status"].strip().lower()
        if status not in ("ok", "error"):
            raise InvalidInputError(f"{path}: line {line}: `status` must be ok or error")
        spans.append(
            Span(
                time=_time(row["time"], path, line),
                trace_id=row["trace_id"].strip(),
                span_id=span_id,
                parent_span_id=row["parent_span_id"].strip() or None,
                service=service,
                operation=row["operation"],
                duration_ms=duration,
                error=status == "error",
            )
        )
    return tuple(spans)
