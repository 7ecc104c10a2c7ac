"""CAD OSE learns a repeating pattern, then flags the value that breaks it."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest

from medic.signals.cad import CadConfig, CadDetector, cad_scores

ALARM = 0.75  # CAD's own alarm level (its base threshold)
PATTERN = [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 6.0, 5.0, 4.0, 3.0, 2.0, 1.0]


def _pattern(repeats: int) -> npt.NDArray[np.float64]:
    return np.asarray(PATTERN * repeats, dtype=np.float64)


def test_a_learned_pattern_scores_low() -> None:
    scores = cad_scores(_pattern(60))
    learned = scores[len(PATTERN) * 20 :]
    assert learned.max() < 0.5
    assert ((scores >= 0.0) & (scores <= 1.0)).all()


def test_a_value_that_breaks_the_pattern_scores_high() -> None:
    values = _pattern(60)
    at = len(PATTERN) * 40 + 3  # where the pattern expects 3
    values[at] = 7.0
    scores = cad_scores(values)
    assert scores[at] >= ALARM
    assert scores[len(PATTERN) * 20 : at].max() < 0.5


def test_after_an_alarm_it_stays_silent_for_the_rest_period() -> None:
    values = _pattern(60)
    at = len(PATTERN) * 40 + 3
    values[at] = 7.0
    values[at + 5] = 0.0  # a second break, inside the rest period
    scores = cad_scores(values, CadConfig(rest_period=30))
    assert scores[at] >= ALARM
    assert scores[at + 1 : at + 31].max() == 0.0


def test_the_same_series_gives_the_same_scores() -> None:
    values = np.random.default_rng(3).normal(0.0, 1.0, 600)
    np.testing.assert_array_equal(cad_scores(values), cad_scores(values))


def test_memory_stops_growing_at_the_cap_and_novelty_is_still_flagged() -> None:
    values = np.random.default_rng(5).uniform(0.0, 1.0, 600).tolist()
    capped = CadDetector(0.0, 1.0, CadConfig(max_contexts=2000))
    free = CadDetector(0.0, 1.0)
    scores = [capped.update(v) for v in values]
    for v in values:
        free.update(v)
    assert capped.contexts == 2000
    assert free.contexts > 2000
    assert all(0.0 <= s <= 1.0 for s in scores)
    assert max(scores[-200:]) >= ALARM  # noise keeps making pairs it has never seen


@pytest.mark.parametrize("value", [-100.0, 100.0, float("inf"), float("-inf"), float("nan")])
def test_values_outside_the_given_range_are_scored_not_rejected(value: float) -> None:
    detector = CadDetector(0.0, 7.0)
    for v in PATTERN * 30:
        detector.update(v)
    assert 0.0 <= detector.update(value) <= 1.0


def test_a_constant_series_never_alarms() -> None:
    scores = cad_scores(np.full(500, 42.0))
    assert scores.max() < 0.5
