"""`medic bench nab` on the real NAB v1.1 corpus and on a small handmade one.

On the real corpus the scorer reproduces NAB's scoreboard: the null detector scores
0.0 on every profile, and NAB's windowed Gaussian scores 39.6 / 20.9 / 47.4.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from medic.bench.nab import NabResult, round_scores, score_corpus
from medic.bench.nab_corpus import NabFile, load_corpus, load_profiles
from medic.bench.nab_detectors import null_scores, windowed_gaussian_scores
from medic.bench.nab_scoring import sweep_file
from medic.cli import app
from tests.shared_data import SHARED_DATA

NAB = SHARED_DATA / "nab"
SCOREBOARD = {  # NAB README, "Windowed Gaussian"
    "standard": 39.6,
    "reward_low_FP_rate": 20.9,
    "reward_low_FN_rate": 47.4,
}
runner = CliRunner()

# The corpus is part of the shared data every machine here has: missing is a failure.
needs_corpus = pytest.mark.usefixtures("nab_corpus_present")


@pytest.fixture
def nab_corpus_present() -> None:
    if not (NAB / "labels").is_dir():
        pytest.fail(f"the NAB corpus is missing: expected it at {NAB}")


@pytest.fixture(scope="module")
def corpus() -> list[NabFile]:
    return load_corpus(NAB)


def _run(files: list[NabFile], detector: str) -> NabResult:
    sweeps = [sweep_file(f.name, f.values.size, f.windows) for f in files]
    scorer = null_scores if detector == "null" else windowed_gaussian_scores
    scores = [round_scores(scorer(f.times, f.values)) for f in files]
    return score_corpus(sweeps, scores, load_profiles(NAB), sum(len(f.windows) for f in files))


@needs_corpus
def test_the_null_detector_scores_zero_on_every_profile(corpus: list[NabFile]) -> None:
    result = _run(corpus, "null")
    assert sum(result.windows) == 116
    assert {name: p.score for name, p in result.profiles.items()} == {
        "standard": 0.0,
        "reward_low_FP_rate": 0.0,
        "reward_low_FN_rate": 0.0,
    }


@needs_corpus
def test_the_windowed_gaussian_reproduces_the_published_scoreboard(
    corpus: list[NabFile],
) -> None:
    result = _run(corpus, "windowed_gaussian")
    for profile, published in SCOREBOARD.items():
        assert result.profiles[profile].score == pytest.approx(published, abs=1.0)
    # NAB's results file for this detector totals -24.0131054891 at threshold 1.0.
    assert result.profiles["standard"].raw == pytest.approx(-24.0131054891, abs=1e-6)
    assert result.profiles["standard"].threshold == 1.0


def _tiny_corpus(root: Path) -> None:
    (root / "data" / "demo").mkdir(parents=True)
    (root / "labels").mkdir()
    (root / "config").mkdir()
    rng = np.random.default_rng(0)
    values = 10.0 + rng.normal(0.0, 1.0, 400)
    values[300:] += 30.0  # a level shift at row 300
    lines = ["timestamp,value"] + [
        f"2024-01-01 {i // 60:02d}:{i % 60:02d}:00,{v:.4f}" for i, v in enumerate(values)
    ]
    (root / "data" / "demo" / "shift.csv").write_text("\n".join(lines) + "\n")
    window = ["2024-01-01 04:50:00.000000", "2024-01-01 05:09:00.000000"]  # rows 290..309
    (root / "labels" / "combined_windows.json").write_text(json.dumps({"demo/shift.csv": [window]}))
    profiles = {
        "standard": {"CostMatrix": {"tpWeight": 1.0, "fnWeight": 1.0, "fpWeight": 0.11}},
        "reward_low_FP_rate": {"CostMatrix": {"tpWeight": 1.0, "fnWeight": 1.0, "fpWeight": 0.22}},
        "reward_low_FN_rate": {"CostMatrix": {"tpWeight": 1.0, "fnWeight": 2.0, "fpWeight": 0.11}},
    }
    (root / "config" / "profiles.json").write_text(json.dumps(profiles))


@pytest.mark.parametrize(
    ("detector", "expect_found"),
    [("null", False), ("medic", True), ("cad_ose", True), ("streaming", True)],
)
def test_the_command_reports_per_file_scores_and_the_three_profiles(
    tmp_path: Path, detector: str, expect_found: bool
) -> None:
    _tiny_corpus(tmp_path)
    result = runner.invoke(
        app, ["bench", "nab", str(tmp_path), "--detector", detector, "--workers", "1", "--json"]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["suite"] == "nab"
    summary = report["summary"]
    assert {"standard", "reward_low_fp", "reward_low_fn"} <= summary.keys()
    (case,) = report["cases"]
    assert case["file"] == "demo/shift.csv"
    assert case["windows"] == 1
    if expect_found:
        assert case["detected"] == 1
        assert summary["standard"] > 50.0
    else:
        assert summary["standard"] == 0.0


def test_a_missing_corpus_is_a_clear_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["bench", "nab", str(tmp_path / "nowhere")])
    assert result.exit_code == 2
    assert "labels" in result.output
