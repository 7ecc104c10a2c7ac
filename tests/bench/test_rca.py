"""`medic bench rca` and `medic sandbox export-rca`, end to end through the CLI."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

from medic.cli import app

SEED = "auth-memory-leak-after-deploy"
SUMMARY_KEYS = {"cases", "ac_at_1", "ac_at_3", "avg_at_5"}
runner = CliRunner()


def bench_json(folder: Path) -> dict[str, object]:
    result = runner.invoke(app, ["bench", "rca", str(folder), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert isinstance(report, dict)
    return report


def summary_of(report: dict[str, object]) -> dict[str, object]:
    summary = report["summary"]
    assert isinstance(summary, dict)
    return summary


def cases_of(report: dict[str, object]) -> dict[str, dict[str, object]]:
    cases = report["cases"]
    assert isinstance(cases, list)
    return {str(c["name"]): c for c in cases}


def export(scenario: str, out: Path) -> None:
    result = runner.invoke(app, ["sandbox", "export-rca", scenario, str(out)])
    assert result.exit_code == 0, result.output


def write_case(
    folder: Path,
    shifts: dict[str, float],
    truth: str | None,
    graph: list[tuple[str, str]] | None = None,
    inject: bool = True,
    moved: dict[str, tuple[str, ...]] | None = None,
) -> None:
    """Services a..e with two noisy metrics; each of `shifts` jumps by that much at t=600
    (in every metric, or in those `moved` names for the service)."""
    folder.mkdir(parents=True)
    rng = np.random.default_rng(len(folder.name))
    t = 1_700_000_000 + np.arange(240) * 5
    columns: dict[str, np.ndarray] = {}
    for i, service in enumerate("abcde"):
        for metric in ("cpu", "latency-90"):
            values = 1.0 + i + 0.02 * rng.standard_normal(t.size)
            if moved is None or metric in moved.get(service, (metric,)):
                values[120:] += shifts.get(service, 0.0) * (1.0 if metric == "cpu" else 0.5)
            columns[f"{service}_{metric}"] = values
    with (folder / "data.csv").open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["time", *columns])
        for k in range(t.size):
            writer.writerow([int(t[k]), *(f"{columns[c][k]:.5f}" for c in columns)])
    if inject:
        (folder / "inject_time.txt").write_text(f"{int(t[120])}\n")
    if graph is not None:
        rows = "".join(f"{s},{d}\n" for s, d in graph)
        (folder / "graph.csv").write_text("source,target\n" + rows)
    if truth is not None:
        (folder / "truth.json").write_text(json.dumps({"service": truth, "fault": "cpu"}))


def test_known_ranks_give_known_scores(tmp_path: Path) -> None:
    # b moves most, then a: the truth ranks 1, 2, and not at all (z never moves).
    shifts = {"b": 2.0, "a": 1.0}
    write_case(tmp_path / "first", shifts, truth="b")
    write_case(tmp_path / "second", shifts, truth="a")
    write_case(tmp_path / "absent", shifts, truth="z")
    report = bench_json(tmp_path)
    assert report["suite"] == "rca"
    summary = summary_of(report)
    assert set(summary) >= SUMMARY_KEYS
    assert summary["cases"] == 3
    assert summary["ac_at_1"] == pytest.approx(1 / 3)
    assert summary["ac_at_3"] == pytest.approx(2 / 3)
    # AC@1..AC@5 = 1/3, 2/3, 2/3, 2/3, 2/3.
    assert summary["avg_at_5"] == pytest.approx((1 / 3 + 4 * 2 / 3) / 5)
    cases = cases_of(report)
    assert [cases[n]["rank"] for n in ("first", "second", "absent")] == [1, 2, None]
    top5 = cases["first"]["top5"]
    assert isinstance(top5, list) and top5[:2] == ["b", "a"] and len(top5) == 5
    assert cases["first"]["truth"] == "b" and cases["first"]["status"] == "ok"


def test_the_call_graph_moves_the_blame_to_the_callee(tmp_path: Path) -> None:
    # a calls b; a got slower by more, but b's CPU moved at the same time.
    moved: dict[str, tuple[str, ...]] = {"a": ("latency-90",), "b": ("cpu",)}
    shifts = {"a": 4.0, "b": 1.0}
    write_case(tmp_path / "plain", shifts, truth="b", moved=moved)
    write_case(tmp_path / "graph", shifts, truth="b", graph=[("a", "b")], moved=moved)
    cases = cases_of(bench_json(tmp_path))
    assert cases["plain"]["rank"] == 2
    assert cases["graph"]["rank"] == 1


def test_without_inject_time_the_onset_is_found(tmp_path: Path) -> None:
    write_case(tmp_path / "case", {"c": 1.5}, truth="c", inject=False)
    case = cases_of(bench_json(tmp_path))["case"]
    assert case["rank"] == 1 and case["onset_found"] is True
    assert isinstance(case["onset"], float)
    assert abs(case["onset"] - (1_700_000_000 + 120 * 5)) <= 10


def test_malformed_cases_fail_alone(tmp_path: Path) -> None:
    write_case(tmp_path / "good", {"d": 1.0}, truth="d")
    (tmp_path / "empty").mkdir()
    write_case(tmp_path / "no-time", {"d": 1.0}, truth="d")
    data = tmp_path / "no-time" / "data.csv"
    data.write_text(data.read_text().replace("time,", "when,", 1))
    write_case(tmp_path / "bad-inject", {"d": 1.0}, truth="d")
    (tmp_path / "bad-inject" / "inject_time.txt").write_text("yesterday\n")
    write_case(tmp_path / "ragged", {"d": 1.0}, truth="d")
    with (tmp_path / "ragged" / "data.csv").open("a") as f:
        f.write("1700009999,1.0\n")
    report = bench_json(tmp_path)
    cases = cases_of(report)
    assert cases["good"]["status"] == "ok" and cases["good"]["rank"] == 1
    reasons = {n: str(c["reason"]) for n, c in cases.items() if c["status"] == "failed"}
    assert set(reasons) == {"empty", "no-time", "bad-inject", "ragged"}
    assert "no data.csv" in reasons["empty"]
    assert "no `time` column" in reasons["no-time"]
    assert "not a Unix time" in reasons["bad-inject"]
    assert "line 242 has 2 of 11 cells" in reasons["ragged"]
    summary = summary_of(report)
    assert summary["cases"] == 5 and summary["failed"] == 4
    assert summary["ac_at_1"] == pytest.approx(1 / 5)  # a case medic cannot read is a miss


def test_a_missing_directory_is_an_error_not_a_report(tmp_path: Path) -> None:
    result = runner.invoke(app, ["bench", "rca", str(tmp_path / "nowhere")])
    assert result.exit_code == 2
    assert "not a directory" in " ".join(result.output.split())  # wrapped at any width


def test_the_seed_exports_as_a_case_that_ranks_the_leaking_service_first(
    tmp_path: Path,
) -> None:
    case = tmp_path / "cases" / "seed"
    export(SEED, case)
    assert json.loads((case / "truth.json").read_text())["service"] == "auth-service"
    graph = (case / "graph.csv").read_text().splitlines()
    assert graph[0] == "source,target" and "api-gateway,auth-service" in graph
    with (case / "data.csv").open() as f:
        header = next(csv.reader(f))
    assert header[0] == "time"
    assert "auth-service_memory_working_set_bytes" in header
    inject = float((case / "inject_time.txt").read_text())
    times = np.loadtxt(case / "data.csv", delimiter=",", skiprows=1, usecols=0)
    # 3 h of history at 15 s, and the deploy 75 minutes before the end.
    assert times.size == 721 and np.all(np.diff(times) == 15.0)
    assert times[-1] - inject == 75 * 60
    report = bench_json(tmp_path / "cases")
    seed = cases_of(report)["seed"]
    # the leak shows in its memory and in the GC-pause lines its logs gained
    top = str(seed["top_metric"])
    assert seed["rank"] == 1
    assert top == "memory_working_set_bytes" or top.startswith("log_template_")
    assert summary_of(report)["ac_at_1"] == 1.0


def test_export_is_reproducible_and_keeps_a_live_fault_in_the_window(tmp_path: Path) -> None:
    scenario = yaml.safe_load(
        (Path(__file__).parents[2] / "src/medic/sandbox/scenarios" / f"{SEED}.yaml").read_text()
    )
    scenario["name"] = "live-leak"
    scenario["timeline"][0]["at"] = "5m"  # the leaking deploy happens after "now"
    del scenario["timeline"][1]
    path = tmp_path / "live.yaml"
    path.write_text(yaml.safe_dump(scenario))
    export(str(path), tmp_path / "one" / "live")
    export(str(path), tmp_path / "two" / "live")
    first = (tmp_path / "one" / "live" / "data.csv").read_bytes()
    assert first == (tmp_path / "two" / "live" / "data.csv").read_bytes()
    times = np.loadtxt(tmp_path / "one" / "live" / "data.csv", delimiter=",", skiprows=1, usecols=0)
    inject = float((tmp_path / "one" / "live" / "inject_time.txt").read_text())
    assert times[-1] - inject == 30 * 60  # the fault's first half hour is in the case
    assert cases_of(bench_json(tmp_path / "one"))["live"]["rank"] == 1


def test_a_scenario_without_an_expected_cause_exports_without_truth(tmp_path: Path) -> None:
    scenario = yaml.safe_load(
        (Path(__file__).parents[2] / "src/medic/sandbox/scenarios" / f"{SEED}.yaml").read_text()
    )
    scenario["name"] = "quiet"
    scenario["timeline"] = [scenario["timeline"][1]]  # only the healthy deploy
    del scenario["expect"]
    path = tmp_path / "quiet.yaml"
    path.write_text(yaml.safe_dump(scenario))
    export(str(path), tmp_path / "cases" / "quiet")
    assert not (tmp_path / "cases" / "quiet" / "truth.json").exists()
    assert not (tmp_path / "cases" / "quiet" / "inject_time.txt").exists()
    report = bench_json(tmp_path / "cases")
    quiet = cases_of(report)["quiet"]
    assert quiet["status"] == "ok" and quiet["rank"] is None
    assert summary_of(report)["cases"] == 1
    assert summary_of(report)["ac_at_1"] is None  # nothing to score
    assert not any(isinstance(v, float) and math.isnan(v) for v in summary_of(report).values())


def test_an_unknown_scenario_is_a_clear_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["sandbox", "export-rca", "no-such-scenario", str(tmp_path)])
    assert result.exit_code == 2
    assert "unknown scenario" in result.output
