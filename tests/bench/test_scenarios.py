"""`medic bench scenarios`: the real loop per scenario, BENCHMARK.md §3's keys."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from medic.bench.scenarios import summarise

SEED = Path(__file__).parents[2] / "src" / "medic" / "sandbox" / "scenarios"
SUMMARY_KEYS = {
    "cases",
    "detection_rate",
    "rca_at_1",
    "rca_at_3",
    "remediation_accuracy",
    "recovery_rate",
    "unsafe_actions",
    "false_actions",
    "p50_seconds_to_plan",
    "llm_tokens_per_case",
}
CASE_KEYS = {
    "name",
    "detected",
    "rca_rank",
    "action",
    "remediation_correct",
    "recovered",
    "unsafe_actions",
    "false_actions",
    "seconds_to_plan",
    "llm_tokens",
}


def _case(**fields: object) -> dict[str, object]:
    base: dict[str, object] = {
        "name": "x",
        "detected": True,
        "rca_rank": 1,
        "action": "rollout_undo",
        "remediation_correct": True,
        "recovered": True,
        "unsafe_actions": 0,
        "false_actions": 0,
        "seconds_to_plan": 1.0,
        "llm_tokens": 0,
        "error": None,
    }
    return {**base, **fields}


def test_summary_figures() -> None:
    cases = [
        _case(name="a"),
        _case(name="b", rca_rank=2, seconds_to_plan=3.0, remediation_correct=False),
        _case(name="c", rca_rank=None, detected=False, recovered=False, unsafe_actions=1),
        # should_act: false -> recovered is None and is not counted in the recovery rate
        _case(name="d", rca_rank=4, recovered=None, false_actions=2, seconds_to_plan=2.0),
    ]
    summary = summarise(cases)
    assert set(summary) >= SUMMARY_KEYS
    assert summary["cases"] == 4
    assert summary["detection_rate"] == 0.75
    assert summary["rca_at_1"] == 0.25
    assert summary["rca_at_3"] == 0.5
    assert summary["remediation_accuracy"] == 0.75
    assert summary["recovery_rate"] == round(2 / 3, 3)
    assert summary["unsafe_actions"] == 1
    assert summary["false_actions"] == 2
    assert summary["p50_seconds_to_plan"] == 1.5


def test_suite_runs_the_loop_and_reports_a_broken_file_as_failed(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("name: broken\nhistory: 1h\nservices:\n  - {name: a, calls: [ghost]}\n")
    result = subprocess.run(
        [sys.executable, "-m", "medic", "bench", "scenarios", str(SEED), str(broken), "--json"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=1200,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout)
    assert report["suite"] == "scenarios"
    assert set(report["summary"]) >= SUMMARY_KEYS
    cases = {c["name"]: c for c in report["cases"]}
    seed = cases["auth-memory-leak-after-deploy"]
    assert set(seed) >= CASE_KEYS
    assert seed["error"] is None
    assert seed["detected"] is True
    assert seed["rca_rank"] == 1
    assert seed["action"] == "rollout_undo"
    assert seed["remediation_correct"] is True
    assert seed["recovered"] is True
    assert seed["unsafe_actions"] == 0
    assert cases["broken"]["error"] is not None
    assert "ghost" in cases["broken"]["error"]
    assert report["summary"]["cases"] == 2
    assert report["summary"]["failed"] == 1


def test_the_spread_of_llm_tokens_per_incident_is_reported_only_with_an_llm() -> None:
    cases = [
        _case(name="a", llm_tokens=9000, llm_incident_tokens=[4000, 5000]),
        _case(name="b", llm_tokens=6100, llm_incident_tokens=[6100]),
        _case(name="c", llm_tokens=0, llm_incident_tokens=[]),
    ]
    summary = summarise(cases)
    assert (summary["llm_incidents"], summary["llm_tokens_min"]) == (3, 4000)
    assert (summary["llm_tokens_p50"], summary["llm_tokens_max"]) == (5000, 6100)
    assert "llm_tokens_min" not in summarise([_case(name="d")])


# Per-case outcomes that must not move with the machine's load or the parallelism.
OUTCOME = ("name", "detected", "rca_rank", "action", "target", "recovered", "state", "error")
CASES = [SEED, Path(__file__).parents[2] / "scenarios" / "shop-tax-provider-cert-expired.yaml"]


def _outcomes(cwd: Path, *extra: str) -> list[tuple[object, ...]]:
    command = [sys.executable, "-m", "medic", "bench", "scenarios", *map(str, CASES), "--json"]
    result = subprocess.run(
        [*command, *extra], capture_output=True, text=True, cwd=cwd, timeout=1800, check=False
    )
    assert result.returncode == 0, result.stderr[-3000:]
    cases = json.loads(result.stdout)["cases"]
    return sorted(tuple(c.get(k) for k in OUTCOME) for c in cases)


def test_outcomes_are_the_same_alone_in_parallel_and_beside_a_cpu_burner(tmp_path: Path) -> None:
    alone = _outcomes(tmp_path, "--jobs", "1")
    burner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        loaded = _outcomes(tmp_path, "--jobs", "2")
    finally:
        burner.kill()
        burner.wait()

    assert loaded == alone
    assert [c[0] for c in alone] == [
        "auth-memory-leak-after-deploy",
        "shop-tax-provider-cert-expired",
    ]
    assert all(c[-1] is None for c in alone), alone  # no case failed (a timeout would)
