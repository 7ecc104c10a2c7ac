"""The NAB corpus on disk: data/*/*.csv, labels/combined_windows.json, config/profiles.json."""

from __future__ import annotations

import csv
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import numpy.typing as npt

from medic.bench.nab_scoring import CostMatrix
from medic.domain.errors import InvalidInputError

__all__ = ["PROFILE_KEYS", "NabFile", "load_corpus", "load_profiles"]

FloatArray = npt.NDArray[np.float64]

# NAB's profile names -> the summary keys of BENCHMARK.md §3.
PROFILE_KEYS: Mapping[str, str] = {
    "standard": "standard",
    "reward_low_FP_rate": "reward_low_fp",
    "reward_low_FN_rate": "reward_low_fn",
}


@dataclass(frozen=True)
class NabFile:
    """One labelled series: Unix-second timestamps, values and inclusive window rows."""

    name: str  # relative path, e.g. "realKnownCause/nyc_taxi.csv"
    times: FloatArray
    values: FloatArray
    windows: tuple[tuple[int, int], ...]


def _seconds(text: str) -> float:
    return datetime.fromisoformat(text.strip()).replace(tzinfo=UTC).timestamp()


def _read_series(path: Path) -> tuple[FloatArray, FloatArray]:
    times: list[float] = []
    values: list[float] = []
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None or [h.strip() for h in header[:2]] != ["timestamp", "value"]:
            raise InvalidInputError(f"{path}: expected a 'timestamp,value' header")
        for row in reader:
            if not row:
                continue
            try:
                times.append(_seconds(row[0]))
                values.append(float(row[1]))
            except (ValueError, IndexError) as e:
                raise InvalidInputError(f"{path}: bad row {row!r}") from e
    return np.asarray(times, dtype=np.float64), np.asarray(values, dtype=np.float64)


def _window_rows(
    name: str, times: FloatArray, limits: list[list[str]]
) -> tuple[tuple[int, int], ...]:
    """Map [start, end] timestamps to rows as NAB does: the first row with that exact time.

    NAB's data is not always in order (machine_temperature_system_failure.csv steps
    back an hour once), so the lookup is by value, not by binary search. A limit
    that names no row falls back to the rows with start <= t <= end.
    """
    first_row: dict[float, int] = {}
    for i, t in enumerate(times.tolist()):
        first_row.setdefault(t, i)
    rows = []
    for limit in limits:
        start, end = _seconds(limit[0]), _seconds(limit[1])
        after = np.flatnonzero(times >= start)
        before = np.flatnonzero(times <= end)
        first = first_row.get(start, int(after[0]) if after.size else times.size)
        last = first_row.get(end, int(before[-1]) if before.size else -1)
        if first > last:
            raise InvalidInputError(f"{name}: window {limit} covers no row")
        rows.append((first, last))
    return tuple(rows)


def load_corpus(root: Path) -> list[NabFile]:
    """Every file named in labels/combined_windows.json, in the order of that file."""
    labels_path = root / "labels" / "combined_windows.json"
    try:
        labels = json.loads(labels_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise InvalidInputError(f"{labels_path}: cannot read the NAB labels") from e
    files = []
    for name, limits in labels.items():
        times, values = _read_series(root / "data" / name)
        files.append(NabFile(name, times, values, _window_rows(name, times, limits)))
    return files


def load_profiles(root: Path) -> dict[str, CostMatrix]:
    """config/profiles.json: profile name -> its cost matrix."""
    path = root / "config" / "profiles.json"
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        return {
            name: CostMatrix(
                tp=float(p["CostMatrix"]["tpWeight"]),
                fp=float(p["CostMatrix"]["fpWeight"]),
                fn=float(p["CostMatrix"]["fnWeight"]),
            )
            for name, p in raw.items()
        }
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise InvalidInputError(f"{path}: cannot read the NAB profiles") from e
