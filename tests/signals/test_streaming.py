"""The streaming detector raises its score at a level shift and a spike, not on noise."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest

from medic.signals.streaming import StreamingDetector, score_series

# The NAB benchmark settles on thresholds around 0.42-0.50 for these scores; an
# alarm level of 0.5 is what a user of the scores would pick.
ALARM = 0.5
N = 3000
TIMES = np.arange(N, dtype=np.float64) * 60.0


def _noise(seed: int) -> npt.NDArray[np.float64]:
    return 100.0 + np.random.default_rng(seed).normal(0.0, 2.0, N)


@pytest.mark.parametrize("seed", range(3))
def test_plain_noise_stays_below_the_alarm(seed: int) -> None:
    scores = score_series(TIMES, _noise(seed))
    assert scores.max() < ALARM
    assert ((scores >= 0.0) & (scores <= 1.0)).all()


def test_a_level_shift_is_flagged_at_its_onset() -> None:
    values = _noise(7)
    values[2000:] += 15.0  # 7.5 sigmas, sustained
    scores = score_series(TIMES, values)
    assert scores[:2000].max() < ALARM
    assert scores[2000:2010].max() >= ALARM


def test_a_spike_is_flagged_and_only_the_spike() -> None:
    values = _noise(8)
    values[2000] += 40.0
    scores = score_series(TIMES, values)
    assert scores[2000] >= ALARM
    assert np.delete(scores, 2000).max() < ALARM


def test_a_daily_peak_is_not_news_but_a_break_in_the_pattern_is() -> None:
    step = 300.0  # 5-minute points: 288 a day
    n = 288 * 14
    t = np.arange(n, dtype=np.float64) * step
    rng = np.random.default_rng(4)
    daily = 100.0 + 60.0 * np.clip(np.sin(2 * np.pi * t / 86400.0), 0.0, None) ** 4
    values = daily + rng.normal(0.0, 1.0, n)
    broken = values.copy()
    day = 12 * 288
    broken[day : day + 288] = 100.0 + rng.normal(0.0, 1.0, 288)  # the daily peak never comes
    calm = score_series(t, values)
    alarmed = score_series(t, broken)
    assert calm[3 * 288 :].max() < ALARM
    assert alarmed[day : day + 288].max() >= ALARM


def test_streaming_point_by_point_equals_scoring_the_series() -> None:
    values = _noise(9)
    values[1500:] += 10.0
    detector = StreamingDetector()
    one_by_one = [
        detector.update(t, v) for t, v in zip(TIMES.tolist(), values.tolist(), strict=True)
    ]
    assert np.array_equal(np.asarray(one_by_one), score_series(TIMES, values))


def test_missing_values_score_zero_and_do_not_poison_the_baseline() -> None:
    values = _noise(10)
    values[100:110] = np.nan
    scores = score_series(TIMES, values)
    assert (scores[100:110] == 0.0).all()
    assert np.isfinite(scores).all()
    assert scores.max() < ALARM
