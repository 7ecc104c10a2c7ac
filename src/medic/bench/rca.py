"""`medic bench rca DIR`: offline root-cause ranking on RCAEval-format cases.

A case is a directory with `data.csv` (BENCHMARK.md §2); DIR is searched recursively,
so RCAEval's own nesting (`RE2/RE2-OB/checkoutservice_cpu/1/`) works as it is, and
DIR may itself be a case. A directory with neither `data.csv` nor subdirectories is a
malformed case and is reported as failed, like any case that cannot be read; the
others still run.

Each case is ranked by the diagnostician's statistical core
(`medic.diagnosis.ranking.rank_root_causes`) with its `inject_time.txt` as the onset
when there is one and its `graph.csv` as the call graph. The truth comes from
`truth.json`, or else from RCAEval's folder naming `<service>_<fault>/<n>/`.

Scores: AC@k is the fraction of scored cases whose true service is among the top k;
Avg@5 is the mean of AC@1..AC@5. A scored case is one with a truth, plus every failed
case (a case medic could not read counts as a miss, never as a free pass); a case
that ran but has no truth is listed and not scored.
"""

from __future__ import annotations

import csv
import json
import math
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from medic.analysis.stats import Array
from medic.bench.report import Report
from medic.diagnosis.ranking import Ranking, rank_root_causes
from medic.domain.errors import InvalidInputError

__all__ = ["RcaCase", "discover_cases", "load_case", "rank_case", "run_rca", "summarise"]

TOP_K = 5
_RCAEVAL_FOLDER = re.compile(r"^([A-Za-z0-9.-]+)_([A-Za-z0-9_.-]+)$")
# Columns RCAEval's exports carry that are not metrics of a service.
_NOT_METRICS = frozenset({"time", "timestamp", "Unnamed: 0", ""})


@dataclass(frozen=True)
class RcaCase:
    name: str
    times: Array  # Unix seconds, one per row
    metrics: dict[str, dict[str, Array]]  # service -> metric -> values (NaN: missing)
    inject_time: float | None
    calls: dict[str, tuple[str, ...]]
    truth: str | None
    fault: str | None


def discover_cases(root: Path) -> Iterator[tuple[str, Path]]:
    """(name, directory) of every case under `root`, sorted; `root` may be a case."""
    if (root / "data.csv").is_file():
        yield (root.name, root)
        return
    yield from _walk(root, root)


def _walk(root: Path, folder: Path) -> Iterator[tuple[str, Path]]:
    children = sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
    for child in children:
        name = child.relative_to(root).as_posix()
        if (child / "data.csv").is_file():
            yield (name, child)
        elif any(p.is_dir() for p in child.iterdir()):
            yield from _walk(root, child)
        else:
            yield (name, child)  # a leaf without data: load_case says what is missing


def load_case(name: str, folder: Path) -> RcaCase:
    """Read one case directory; InvalidInputError names the file and the problem."""
    data = folder / "data.csv"
    if not data.is_file():
        raise InvalidInputError(f"{folder}: no data.csv")
    times, metrics = _read_data(data)
    truth, fault = _read_truth(folder)
    return RcaCase(
        name=name,
        times=times,
        metrics=metrics,
        inject_time=_read_inject_time(folder / "inject_time.txt"),
        calls=_read_graph(folder / "graph.csv"),
        truth=truth,
        fault=fault,
    )


def _read_data(path: Path) -> tuple[Array, dict[str, dict[str, Array]]]:
    try:
        with path.open(encoding="utf-8", newline="") as f:
            rows = list(csv.reader(f))
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise InvalidInputError(f"{path}: cannot read: {e}") from e
    if not rows:
        raise InvalidInputError(f"{path}: empty file")
    header = [h.strip() for h in rows[0]]
    if "time" not in header:
        raise InvalidInputError(f"{path}: no `time` column (header: {', '.join(header[:5])}…)")
    body = rows[1:]
    if not body:
        raise InvalidInputError(f"{path}: no rows")
    width = len(header)
    short = next((i for i, r in enumerate(body, start=2) if len(r) != width), None)
    if short is not None:
        raise InvalidInputError(f"{path}: line {short} has {len(body[short - 2])} of {width} cells")
    table = np.array([[_float(cell) for cell in row] for row in body], dtype=np.float64)
    times = table[:, header.index("time")]
    if not np.isfinite(times).all():
        raise InvalidInputError(f"{path}: the `time` column has empty or non-numeric cells")
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


def _float(cell: str) -> float:
    try:
        return float(cell)
    except ValueError:
        return math.nan  # an empty or non-numeric cell is a missing point


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
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
        fields = rows[0].keys() if rows else set()
    if rows and not {"source", "target"} <= set(fields):
        raise InvalidInputError(f"{path}: the header must be `source,target`")
    calls: dict[str, list[str]] = {}
    for row in rows:
        source, target = (row.get("source") or "").strip(), (row.get("target") or "").strip()
        if source and target and target not in calls.setdefault(source, []):
            calls[source].append(target)
    return {k: tuple(v) for k, v in calls.items()}


def _read_truth(folder: Path) -> tuple[str | None, str | None]:
    path = folder / "truth.json"
    if path.is_file():
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as e:
            raise InvalidInputError(f"{path}: not JSON: {e}") from e
        if not isinstance(raw, dict) or not isinstance(raw.get("service"), str):
            raise InvalidInputError(f'{path}: expected {{"service": ..., "fault": ...}}')
        fault = raw.get("fault")
        return raw["service"], fault if isinstance(fault, str) else None
    # RCAEval: .../<service>_<fault>/<repetition>/data.csv
    match = _RCAEVAL_FOLDER.match(folder.parent.name)
    if match and folder.name.isdigit():
        return match.group(1), match.group(2)
    return None, None


def rank_case(case: RcaCase) -> Ranking:
    return rank_root_causes(case.times, case.metrics, case.inject_time, case.calls)


def _run_one(name: str, folder: Path) -> dict[str, object]:
    started = time.perf_counter()
    try:
        case = load_case(name, folder)
        ranking = rank_case(case)
    except (InvalidInputError, ValueError) as e:
        return {
            "name": name,
            "status": "failed",
            "reason": str(e),
            "truth": None,
            "fault": None,
            "top5": [],
            "rank": None,
            "onset": None,
            "onset_found": None,
            "seconds": round(time.perf_counter() - started, 3),
        }
    top: list[object] = [c.service for c in ranking.causes[:TOP_K]]
    return {
        "name": name,
        "status": "ok",
        "reason": None,
        "truth": case.truth,
        "fault": case.fault,
        "top5": top,
        "rank": ranking.rank_of(case.truth) if case.truth else None,
        "top_metric": ranking.causes[0].metric if ranking.causes else None,
        "onset": ranking.onset,
        "onset_found": ranking.onset_found,
        "seconds": round(time.perf_counter() - started, 3),
    }


def summarise(cases: list[dict[str, object]]) -> dict[str, object]:
    """`cases`, `ac_at_1`, `ac_at_3`, `avg_at_5` (plus `scored` and `failed`)."""
    scored = [c for c in cases if c["status"] == "failed" or c["truth"] is not None]
    ranks = [c["rank"] if isinstance(c["rank"], int) else None for c in scored]

    def ac(k: int) -> float | None:
        if not ranks:
            return None
        return sum(1 for r in ranks if r is not None and r <= k) / len(ranks)

    at = {k: ac(k) for k in range(1, TOP_K + 1)}
    values = [v for v in at.values() if v is not None]
    return {
        "cases": len(cases),
        "ac_at_1": at[1],
        "ac_at_3": at[3],
        "avg_at_5": sum(values) / len(values) if values else None,
        "scored": len(scored),
        "failed": sum(1 for c in cases if c["status"] == "failed"),
    }


def run_rca(root: Path) -> Report:
    """Rank every case under `root` and score the rankings."""
    if not root.is_dir():
        raise InvalidInputError(f"{root}: not a directory")
    cases = [_run_one(name, folder) for name, folder in discover_cases(root)]
    return Report(
        suite="rca",
        cases=cases,
        summary=summarise(cases),
        columns=("name", "truth", "rank", "top5", "status", "reason"),
    )
