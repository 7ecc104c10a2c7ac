"""`medic bench rca DIR`: offline root-cause ranking on RCAEval-format cases.

A case is a directory with `data.csv` (BENCHMARK.md §2, read by `rca_case`); DIR is
searched recursively, so RCAEval's own nesting (`RE2/RE2-OB/checkoutservice_cpu/1/`)
works as it is, and DIR may itself be a case. The first folder under DIR names the
case's dataset. A directory with neither `data.csv` nor subdirectories is a malformed
case and is reported as failed, like any case that cannot be read; the others still
run.

Each case is ranked by the diagnostician's own ranking
(`medic.diagnosis.ranking.rank_root_causes`, the code the live loop runs) with its
`inject_time.txt` as the onset (unless told to ignore it: the onset is then found from
the data), its `graph.csv` as the call graph, its `symptom.json` as the symptom, and
the series its `logs.csv` and `traces.csv` give (`analysis.logseries`,
`analysis.traces`) scored together with the metrics.

Scores: AC@k is the fraction of scored cases whose true service is among the top k;
Avg@5 is the mean of AC@1..AC@5. A scored case is one with a truth, plus every failed
case (a case medic could not read counts as a miss, never as a free pass); a case
that ran but has no truth is listed and not scored. `conclusive_rate` is the share of
scored cases medic called conclusive and `ac_at_1_conclusive` its accuracy on those.
With baselines, random (expected value), N-sigma and BARO are scored on the same
cases and the same split (`rca_baselines`).
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

from medic.analysis.logseries import log_series
from medic.analysis.stats import Array
from medic.analysis.traces import span_series
from medic.bench.rca_baselines import BASELINES, random_at
from medic.bench.rca_case import RcaCase, load_case
from medic.bench.report import Report
from medic.diagnosis.ranking import Ranking, rank_root_causes
from medic.domain.errors import InvalidInputError

__all__ = [
    "TOP_K",
    "RcaCase",
    "case_series",
    "discover_cases",
    "load_case",
    "rank_case",
    "run_rca",
    "summarise",
]

TOP_K = 5
_SHOWN_PASSED = 3


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


def case_series(case: RcaCase) -> dict[str, dict[str, Array]]:
    """The case's metrics plus the series its logs and spans give, per service."""
    merged = {service: dict(m) for service, m in case.metrics.items()}
    records = [(r.time, r.service, r.message) for r in case.logs]
    for extra in (log_series(records, case.times), span_series(case.spans, case.times)):
        for service, per_metric in extra.items():
            merged.setdefault(service, {}).update(per_metric)
    return merged


def rank_case(case: RcaCase, use_inject_time: bool = True) -> Ranking:
    onset = case.inject_time if use_inject_time else None
    return rank_root_causes(case.times, case_series(case), onset, case.calls, symptom=case.symptom)


def _dataset(name: str) -> str:
    return name.split("/", 1)[0] if "/" in name else ""


def _failed(name: str, reason: str, seconds: float) -> dict[str, object]:
    return {
        "name": name,
        "dataset": _dataset(name),
        "status": "failed",
        "reason": reason,
        "truth": None,
        "fault": None,
        "top5": [],
        "rank": None,
        "confidence": 0.0,
        "conclusive": False,
        "onset": None,
        "onset_found": None,
        "seconds": round(seconds, 3),
    }


def _run_one(name: str, folder: Path, use_inject_time: bool, baselines: bool) -> dict[str, object]:
    started = time.perf_counter()
    try:
        case = load_case(name, folder)
        ranking = rank_case(case, use_inject_time)
    except (InvalidInputError, ValueError) as e:
        return _failed(name, str(e), time.perf_counter() - started)
    seconds = time.perf_counter() - started
    entry: dict[str, object] = {
        "name": name,
        "dataset": _dataset(name),
        "status": "ok",
        "reason": None,
        "truth": case.truth,
        "fault": case.fault,
        "top5": [c.service for c in ranking.causes[:TOP_K]],
        "rank": ranking.rank_of(case.truth) if case.truth else None,
        "top_metric": ranking.causes[0].metric if ranking.causes else None,
        "confidence": ranking.confidence,
        "conclusive": ranking.conclusive,
        "explanation": ranking.reason,
        "check_next": list(ranking.check_next),
        "passed_over": dict(list(ranking.passed_over.items())[:_SHOWN_PASSED]),
        "symptom_path": list(ranking.symptom_path),
        "onset": ranking.onset,
        "onset_found": ranking.onset_found,
        "seconds": round(seconds, 3),
    }
    if baselines:
        entry["baselines"] = _baseline_ranks(case, ranking)
    return entry


def _baseline_ranks(case: RcaCase, ranking: Ranking) -> dict[str, object]:
    onset = case.inject_time if case.inject_time is not None else ranking.onset
    ranks: dict[str, object] = {"services": len(case.metrics)}
    for name, method in BASELINES.items():
        if onset is None or case.truth is None:
            ranks[name] = None
            continue
        ranked = method(case.times, case.metrics, onset)
        ranks[name] = ranked.index(case.truth) + 1 if case.truth in ranked else None
    return ranks


def _scored(cases: Sequence[Mapping[str, object]]) -> list[Mapping[str, object]]:
    return [c for c in cases if c["status"] == "failed" or c["truth"] is not None]


def _accuracy(ranks: Sequence[int | None]) -> dict[str, float | None]:
    if not ranks:
        return {"ac_at_1": None, "ac_at_3": None, "avg_at_5": None}
    at = [sum(1 for r in ranks if r is not None and r <= k) / len(ranks) for k in range(1, 6)]
    return {"ac_at_1": at[0], "ac_at_3": at[2], "avg_at_5": sum(at) / len(at)}


def _rank(case: Mapping[str, object], method: str | None) -> int | None:
    if method is None:
        rank = case["rank"]
    else:
        per = case.get("baselines")
        rank = per.get(method) if isinstance(per, dict) else None
    return rank if isinstance(rank, int) else None


def _random(cases: Sequence[Mapping[str, object]]) -> dict[str, float | None]:
    if not cases:
        return {"ac_at_1": None, "ac_at_3": None, "avg_at_5": None}
    sizes = []
    for c in cases:
        per = c.get("baselines")
        n = per.get("services") if isinstance(per, dict) else None
        sizes.append(n if isinstance(n, int) else 0)
    at = [sum(random_at(k, n) for n in sizes) / len(sizes) for k in range(1, 6)]
    return {"ac_at_1": at[0], "ac_at_3": at[2], "avg_at_5": sum(at) / len(at)}


def _breakdown(
    cases: Sequence[Mapping[str, object]], key: str, method: str | None
) -> dict[str, dict[str, object]]:
    groups: dict[str, list[Mapping[str, object]]] = {}
    for c in cases:
        groups.setdefault(str(c.get(key) or "-"), []).append(c)
    out: dict[str, dict[str, object]] = {}
    for name, group in sorted(groups.items()):
        if method == "random":
            figures = _random(group)
        else:
            figures = _accuracy([_rank(c, method) for c in group])
        out[name] = {"cases": len(group), **figures}
    return out


def summarise(
    cases: list[dict[str, object]], seconds: float | None = None, baselines: bool = False
) -> dict[str, object]:
    """`cases`, AC@1/3, Avg@5, conclusiveness, speed, and breakdowns (BENCHMARK.md §3)."""
    scored = _scored(cases)
    conclusive = [c for c in scored if c.get("conclusive") is True]
    right = [c for c in conclusive if _rank(c, None) == 1]
    summary: dict[str, object] = {
        "cases": len(cases),
        **_accuracy([_rank(c, None) for c in scored]),
        "conclusive_rate": len(conclusive) / len(scored) if scored else None,
        "ac_at_1_conclusive": len(right) / len(conclusive) if conclusive else None,
        "cases_per_second": round(len(cases) / seconds, 2) if seconds else None,
        "scored": len(scored),
        "failed": sum(1 for c in cases if c["status"] == "failed"),
        "by_dataset": _breakdown(scored, "dataset", None),
        "by_fault": _breakdown(scored, "fault", None),
    }
    if baselines:
        ran = [c for c in scored if c["status"] == "ok"]
        summary["baselines"] = {
            method: {
                **(
                    _random(ran)
                    if method == "random"
                    else _accuracy([_rank(c, method) for c in ran])
                ),
                "by_dataset": _breakdown(ran, "dataset", method),
                "by_fault": _breakdown(ran, "fault", method),
            }
            for method in ("random", *BASELINES)
        }
    return summary


def run_rca(root: Path, *, baselines: bool = False, use_inject_time: bool = True) -> Report:
    """Rank every case under `root` and score the rankings."""
    if not root.is_dir():
        raise InvalidInputError(f"{root}: not a directory")
    cases = [
        _run_one(name, folder, use_inject_time, baselines) for name, folder in discover_cases(root)
    ]
    # medic's own time: reading and ranking each case (not the baselines)
    elapsed = sum(float(c["seconds"]) for c in cases if isinstance(c["seconds"], int | float))
    return Report(
        suite="rca",
        cases=cases,
        summary=summarise(cases, elapsed, baselines),
        columns=("name", "truth", "rank", "top5", "confidence", "conclusive", "status", "reason"),
    )
