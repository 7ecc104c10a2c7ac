"""`medic bench nab DIR`: stream the NAB corpus through a detector and score it as NAB does.

Every file is streamed through the detector on its own (in worker processes when
there are several cores); then, per profile, the corpus threshold is optimised, each
file is scored at it, and the total is normalised against the null detector.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from medic.bench.nab_corpus import PROFILE_KEYS, NabFile, load_corpus, load_profiles
from medic.bench.nab_detectors import DETECTORS
from medic.bench.nab_scoring import (
    CostMatrix,
    SweepFile,
    normalise,
    optimise_threshold,
    score_file,
    sweep_file,
)
from medic.bench.report import Report
from medic.domain.errors import InvalidInputError

__all__ = ["NabResult", "ProfileResult", "round_scores", "run_nab", "score_corpus"]

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class ProfileResult:
    threshold: float
    raw: float
    null: float
    score: float  # normalised: null 0, perfect 100
    per_file: tuple[float, ...]
    detected: tuple[int, ...]
    false_positives: tuple[int, ...]


@dataclass(frozen=True)
class NabResult:
    files: tuple[str, ...]
    windows: tuple[int, ...]
    profiles: dict[str, ProfileResult]


def score_corpus(
    sweeps: Sequence[SweepFile],
    scores: Sequence[FloatArray],
    profiles: dict[str, CostMatrix],
    total_windows: int,
) -> NabResult:
    """Optimise, score and normalise `scores` (one array per file) for every profile."""
    nulls = [np.zeros(s.rows, dtype=np.float64) for s in sweeps]
    results = {}
    for name, cost in profiles.items():
        best = optimise_threshold(sweeps, scores, cost)
        null = optimise_threshold(sweeps, nulls, cost).score
        scored = [
            score_file(s, a, best.threshold, cost) for s, a in zip(sweeps, scores, strict=True)
        ]
        results[name] = ProfileResult(
            threshold=best.threshold,
            raw=best.score,
            null=null,
            score=normalise(best.score, null, total_windows, cost),
            per_file=tuple(f.score for f in scored),
            detected=tuple(f.detected_windows for f in scored),
            false_positives=tuple(f.fp for f in scored),
        )
    return NabResult(
        files=tuple(s.name for s in sweeps),
        windows=tuple(len(s.windows) for s in sweeps),
        profiles=results,
    )


# NAB's published results went through CSV files written by Python 2, whose str()
# keeps 12 significant digits: a windowed-Gaussian score of 0.9999999999997738 was
# scored as 1.0. Rounding every detector's scores the same way reproduces the
# published figures exactly (windowed Gaussian: 39.65 / 20.87 / 47.41).
SIGNIFICANT_DIGITS = 12


def round_scores(scores: FloatArray, digits: int = SIGNIFICANT_DIGITS) -> FloatArray:
    return np.asarray([float(f"{x:.{digits}g}") for x in scores.tolist()], dtype=np.float64)


def _stream(job: tuple[str, FloatArray, FloatArray]) -> FloatArray:
    detector, times, values = job
    scores = np.asarray(DETECTORS[detector](times, values), dtype=np.float64)
    if scores.shape != values.shape or np.any((scores < 0) | (scores > 1) | ~np.isfinite(scores)):
        raise InvalidInputError(f"detector {detector!r} returned scores outside [0, 1]")
    return round_scores(scores)


def _detect(files: Sequence[NabFile], detector: str, workers: int) -> list[FloatArray]:
    jobs = [(detector, f.times, f.values) for f in files]
    if workers <= 1:
        return [_stream(job) for job in jobs]
    # Longest files first, so that no worker is left with a long tail.
    order = sorted(range(len(jobs)), key=lambda i: -files[i].values.size)
    with ProcessPoolExecutor(max_workers=workers) as pool:
        done = list(pool.map(_stream, [jobs[i] for i in order]))
    scores: list[FloatArray] = [np.zeros(0)] * len(jobs)
    for i, result in zip(order, done, strict=True):
        scores[i] = result
    return scores


def run_nab(root: Path, detector: str = "medic", workers: int | None = None) -> Report:
    """The `nab` suite's report: per-file raw scores and the three normalised figures."""
    if detector not in DETECTORS:
        raise InvalidInputError(f"unknown detector {detector!r}; one of {sorted(DETECTORS)}")
    started = time.monotonic()
    files = load_corpus(root)
    profiles = load_profiles(root)
    sweeps = [sweep_file(f.name, f.values.size, f.windows) for f in files]
    scores = _detect(files, detector, workers if workers is not None else os.cpu_count() or 1)
    result = score_corpus(sweeps, scores, profiles, sum(len(f.windows) for f in files))
    summary: dict[str, object] = {
        PROFILE_KEYS.get(name, name): round(p.score, 2) for name, p in result.profiles.items()
    }
    summary["detector"] = detector
    summary["files"] = len(files)
    summary["windows"] = sum(result.windows)
    summary["thresholds"] = {
        PROFILE_KEYS.get(name, name): p.threshold for name, p in result.profiles.items()
    }
    summary["seconds"] = round(time.monotonic() - started, 2)
    return Report(suite="nab", cases=_cases(result), summary=summary, columns=_COLUMNS)


_COLUMNS = (
    "file",
    "windows",
    "detected",
    "false_positives",
    "standard",
    "reward_low_fp",
    "reward_low_fn",
)


def _cases(result: NabResult) -> list[dict[str, object]]:
    standard = result.profiles.get("standard")
    cases = []
    for i, name in enumerate(result.files):
        case: dict[str, object] = {"file": name, "windows": result.windows[i]}
        if standard is not None:
            case["detected"] = standard.detected[i]
            case["false_positives"] = standard.false_positives[i]
        for profile, p in result.profiles.items():
            case[PROFILE_KEYS.get(profile, profile)] = round(p.per_file[i], 4)
        cases.append(case)
    return cases
