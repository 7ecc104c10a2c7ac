"""NAB's scoring rules on handmade files, with the expected scores worked out by hand.

A 20-row file with one window over rows 8..11 (width 4) and no probation:
- inside, row i is worth S(-(11 - i + 1) / 4) / S(-1), S the scaled sigmoid
  2 / (1 + e^{5x}) - 1: row 8 -> 1.0, row 11 -> S(-0.25) / S(-1);
- after it, row i costs fp * S((i - 11) / 3): row 12 -> S(1/3);
- before it, a detection costs the full fp weight.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from medic.bench.nab_scoring import (
    CostMatrix,
    SweepFile,
    normalise,
    optimise_threshold,
    probation_length,
    scaled_sigmoid,
    score_file,
    sweep_file,
)

STANDARD = CostMatrix(tp=1.0, fp=0.11, fn=1.0)
LOW_FP = CostMatrix(tp=1.0, fp=0.22, fn=1.0)
LOW_FN = CostMatrix(tp=1.0, fp=0.11, fn=2.0)


def _s(x: float) -> float:
    return 2.0 / (1.0 + math.exp(5.0 * x)) - 1.0


def _file() -> SweepFile:
    return sweep_file("handmade.csv", 20, [(8, 11)], probation_percent=0.0)


def _detect(*rows: int, n: int = 20) -> np.ndarray:
    scores = np.zeros(n)
    scores[list(rows)] = 1.0
    return scores


def test_scaled_sigmoid_matches_nab_at_its_landmarks() -> None:
    values = scaled_sigmoid(np.array([-1.0, -0.5, 0.0, 1.0, 3.5]))
    assert values.tolist() == pytest.approx([0.98661, 0.84828, 0.0, -0.98661, -1.0], abs=1e-5)


def test_a_detection_at_the_window_start_earns_the_full_true_positive() -> None:
    assert score_file(_file(), _detect(8), 0.5, STANDARD).score == pytest.approx(1.0)


def test_a_detection_at_the_window_end_earns_little() -> None:
    expected = _s(-0.25) / _s(-1.0)  # 0.5 * 0.98661 ~ 0.574
    assert score_file(_file(), _detect(11), 0.5, STANDARD).score == pytest.approx(expected)


def test_only_the_first_detection_in_a_window_counts() -> None:
    early_and_late = score_file(_file(), _detect(9, 10, 11), 0.5, STANDARD)
    assert early_and_late.score == pytest.approx(_s(-0.75) / _s(-1.0))
    assert early_and_late.detected_windows == 1
    assert early_and_late.tp == 3


def test_a_false_positive_right_after_a_window_costs_little_and_later_ones_more() -> None:
    right_after = score_file(_file(), _detect(8, 12), 0.5, STANDARD).score
    later = score_file(_file(), _detect(8, 19), 0.5, STANDARD).score
    assert right_after == pytest.approx(1.0 + 0.11 * _s(1.0 / 3.0))
    assert later == pytest.approx(1.0 + 0.11 * _s(8.0 / 3.0))  # S(2.67) ~ -1
    assert later < right_after < 1.0


def test_a_false_positive_before_any_window_costs_the_full_weight() -> None:
    scored = score_file(_file(), _detect(2), 0.5, STANDARD)
    assert scored.score == pytest.approx(-1.0 - 0.11)
    assert scored.fp == 1


def test_profiles_weigh_misses_and_false_alarms_differently() -> None:
    missed = _detect(2)
    assert score_file(_file(), missed, 0.5, STANDARD).score == pytest.approx(-1.11)
    assert score_file(_file(), missed, 0.5, LOW_FP).score == pytest.approx(-1.22)
    assert score_file(_file(), missed, 0.5, LOW_FN).score == pytest.approx(-2.11)


def test_rows_in_the_probationary_period_do_not_count() -> None:
    sweep = sweep_file("p.csv", 100, [(50, 59)])
    assert probation_length(100) == 15
    assert score_file(sweep, _detect(3, n=100), 0.5, STANDARD).score == pytest.approx(-1.0)
    assert score_file(sweep, _detect(15, n=100), 0.5, STANDARD).score == pytest.approx(-1.11)
    assert probation_length(100_000) == 750  # capped at 15% of 5000 rows


def test_the_optimiser_picks_the_threshold_that_separates_the_anomaly() -> None:
    sweep = _file()
    scores = np.full(20, 0.1)
    scores[9] = 0.9  # in the window
    scores[3] = 0.7  # a false positive: only worth detecting if it brought more
    best = optimise_threshold([sweep], [scores], STANDARD)
    assert best.threshold == 0.9
    assert best.score == pytest.approx(_s(-0.75) / _s(-1.0))


def test_the_optimiser_prefers_detecting_nothing_to_a_flood_of_false_positives() -> None:
    sweep = sweep_file("long.csv", 200, [(100, 103)], probation_percent=0.0)
    best = optimise_threshold([sweep], [np.full(200, 0.5)], STANDARD)
    assert best.threshold == 1.1
    assert best.score == -1.0


def test_the_optimiser_agrees_with_scoring_at_its_threshold_on_random_files() -> None:
    rng = np.random.default_rng(3)
    sweeps = [
        sweep_file("a.csv", 300, [(100, 129), (200, 229)]),
        sweep_file("b.csv", 500, [(400, 449)]),
        sweep_file("c.csv", 200, []),
    ]
    scores = [np.round(rng.random(s.rows), 2) for s in sweeps]
    for cost in (STANDARD, LOW_FP, LOW_FN):
        best = optimise_threshold(sweeps, scores, cost)
        total = sum(
            score_file(s, a, best.threshold, cost).score
            for s, a in zip(sweeps, scores, strict=True)
        )
        assert total == pytest.approx(best.score)
        # No other candidate threshold does better.
        for t in np.unique(np.concatenate(scores)):
            other = sum(
                score_file(s, a, float(t), cost).score for s, a in zip(sweeps, scores, strict=True)
            )
            assert other <= best.score + 1e-9


def test_normalisation_puts_null_at_zero_and_perfect_at_a_hundred() -> None:
    assert normalise(-116.0, -116.0, 116, STANDARD) == 0.0
    assert normalise(116.0, -116.0, 116, STANDARD) == 100.0
    assert normalise(-232.0, -232.0, 116, LOW_FN) == 0.0
