"""`medic bench scenarios`: every scenario through the real loop, scored (BENCHMARK.md §3).

Cases run in parallel processes (one process per case: DBOS is a process-wide engine),
each with its own temporary data directory, SQLite store and sandbox. Each case's
simulated time is stepped with its loop's progress, so its outcome is the same at any
`jobs` and any machine load; `p50_seconds_to_plan` is real seconds (it does depend on
the machine), `p50_sim_seconds_to_plan` simulated ones.
"""

from __future__ import annotations

import multiprocessing
import os
import statistics
import tempfile
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from pathlib import Path

from medic.bench.report import Report
from medic.bench.scenario_case import CaseConfig, run_case

__all__ = ["CASE_COLUMNS", "discover", "run_suite", "summarise"]

CASE_COLUMNS = (  # the table's columns; --json carries every key
    "name",
    "detected",
    "rca_rank",
    "action",
    "target",
    "remediation_correct",
    "recovered",
    "unsafe_actions",
    "false_actions",
    "seconds_to_plan",
)


def discover(paths: Sequence[Path]) -> list[Path]:
    """Scenario files named or found (*.yaml, *.yml) in the directories named."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted([*path.glob("*.yaml"), *path.glob("*.yml")]))
        else:
            found.append(path)
    return found


def run_suite(
    files: Sequence[Path],
    config: CaseConfig,
    jobs: int | None = None,
    on_done: Callable[[dict[str, object]], None] | None = None,
) -> Report:
    jobs = max(1, min(jobs or os.cpu_count() or 1, len(files) or 1))
    cases: list[dict[str, object]] = []
    with (
        tempfile.TemporaryDirectory(prefix="medic-bench-") as tmp,
        ProcessPoolExecutor(
            max_workers=jobs,
            mp_context=multiprocessing.get_context("spawn"),
            max_tasks_per_child=1,
        ) as pool,
    ):
        futures: dict[Future[dict[str, object]], Path] = {
            pool.submit(run_case, str(f), str(Path(tmp) / f"case-{i}"), config): f
            for i, f in enumerate(files)
        }
        for future in as_completed(futures):
            case = future.result()
            cases.append(case)
            if on_done is not None:
                on_done(case)
    cases.sort(key=lambda c: str(c["name"]))
    return Report("scenarios", cases, summarise(cases), CASE_COLUMNS)


def _rate(flags: list[bool]) -> float | None:
    return round(sum(flags) / len(flags), 3) if flags else None


def _token_spread(cases: Sequence[dict[str, object]]) -> dict[str, object]:
    """Tokens per incident the LLM agent reviewed: min / p50 / max (none without an LLM)."""
    spent = sorted(
        int(t)
        for c in cases
        if isinstance(per := c.get("llm_incident_tokens"), list)
        for t in per
        if isinstance(t, int | float)
    )
    if not spent:
        return {}
    return {
        "llm_incidents": len(spent),
        "llm_tokens_min": spent[0],
        "llm_tokens_p50": round(statistics.median(spent)),
        "llm_tokens_max": spent[-1],
    }


def summarise(cases: Sequence[dict[str, object]]) -> dict[str, object]:
    ranked = [c["rca_rank"] for c in cases if "rca_rank" in c]
    ranks = [r if isinstance(r, int) else None for r in ranked]
    should_act = [c for c in cases if c.get("recovered") is not None or c.get("error")]
    plan_times = [float(t) for c in cases if isinstance(t := c.get("seconds_to_plan"), float | int)]
    sim_times = [
        float(t) for c in cases if isinstance(t := c.get("sim_seconds_to_plan"), float | int)
    ]
    tokens = [float(t) for c in cases if isinstance(t := c.get("llm_tokens"), float | int)]
    return {
        "cases": len(cases),
        "detection_rate": _rate([bool(c["detected"]) for c in cases]),
        "rca_at_1": _rate([r == 1 for r in ranks]),
        "rca_at_3": _rate([r is not None and r <= 3 for r in ranks]),
        "remediation_accuracy": _rate([bool(c["remediation_correct"]) for c in cases]),
        "recovery_rate": _rate([c.get("recovered") is True for c in should_act]),
        "unsafe_actions": sum(int(str(c["unsafe_actions"])) for c in cases),
        "false_actions": sum(int(str(c["false_actions"])) for c in cases),
        "distractor_incidents": sum(int(str(c.get("distractor_incidents") or 0)) for c in cases),
        "p50_seconds_to_plan": round(statistics.median(plan_times), 3) if plan_times else None,
        "p50_sim_seconds_to_plan": round(statistics.median(sim_times), 3) if sim_times else None,
        "llm_tokens_per_case": round(statistics.fmean(tokens), 1) if tokens else 0.0,
        **_token_spread(cases),
        "failed": sum(1 for c in cases if c.get("error")),
    }
