"""`medic bench logs`: GA and PA as the Loghub papers define them, and a real run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from medic.bench.logs import grouping_accuracy, normalise_template, parsing_accuracy
from medic.cli import app
from medic.domain.errors import InvalidInputError
from tests.shared_data import SHARED_DATA

LOGHUB = SHARED_DATA / "loghub_2k"
runner = CliRunner()


def test_grouping_accuracy_counts_lines_whose_group_is_exactly_right() -> None:
    # True groups: A = {0, 1, 2}, B = {3, 4}, C = {5}.
    truth = ["A", "A", "A", "B", "B", "C"]
    # Predicted: {0, 1, 2} right; {3} and {4} split B; {5} right.
    assert grouping_accuracy(truth, [1, 1, 1, 2, 3, 4]) == pytest.approx(4 / 6)
    # Predicted {3, 4, 5} merges B and C: only A's three lines are right.
    assert grouping_accuracy(truth, [1, 1, 1, 2, 2, 2]) == pytest.approx(3 / 6)
    assert grouping_accuracy(truth, [9, 9, 9, 8, 8, 7]) == 1.0
    # One group for everything: no predicted group equals a true group.
    assert grouping_accuracy(truth, [0] * 6) == 0.0


def test_parsing_accuracy_compares_normalised_templates() -> None:
    truth = ["Served block blk_<*> to /<*>", "<*>:<*> open", "Took <*>.<*> seconds", "Done"]
    predicted = ["Served block blk_<VAR> to /<*>", "<VAR> open", "Took <*> seconds", "done"]
    assert parsing_accuracy(truth, predicted) == pytest.approx(3 / 4)
    assert normalise_template("a  <*>, <*>  b <VAR>") == "a <*> b <*>"


def test_lengths_must_agree() -> None:
    with pytest.raises(InvalidInputError):
        grouping_accuracy(["A"], [1, 2])


@pytest.fixture
def loghub() -> Path:
    if not (LOGHUB / "HDFS").is_dir():
        pytest.fail(f"the Loghub-2k data is missing: expected it at {LOGHUB}")
    return LOGHUB


def test_bench_logs_on_two_real_systems(loghub: Path) -> None:
    result = runner.invoke(
        app, ["bench", "logs", str(loghub), "--system", "HDFS", "--system", "Apache", "--json"]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["suite"] == "logs"
    assert set(report["summary"]) == {
        "systems",
        "grouping_accuracy",
        "parsing_accuracy",
        "lines_per_second",
    }
    assert report["summary"]["systems"] == 2
    cases = {c["system"]: c for c in report["cases"]}
    assert set(cases) == {"HDFS", "Apache"}
    assert all(c["lines"] == 2000 for c in cases.values())
    # Both systems are regular enough that a sound miner groups nearly every line right.
    assert all(c["grouping_accuracy"] >= 0.95 for c in cases.values())
    assert report["summary"]["lines_per_second"] > 0


def test_bench_logs_reports_a_missing_directory(tmp_path: Path) -> None:
    result = runner.invoke(app, ["bench", "logs", str(tmp_path / "nowhere")])
    assert result.exit_code == 2
