"""The detectors `medic bench nab` streams: CAD OSE run with NAB's settings."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from medic.bench.nab_detectors import DETECTORS, cad_ose_scores, medic_scores

PATTERN = [10.0, 12.0, 15.0, 19.0, 24.0, 19.0, 15.0, 12.0]


def _series(n: int) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    times = np.arange(n, dtype=np.float64) * 300.0
    values = np.resize(np.asarray(PATTERN, dtype=np.float64), n)
    return times, values


def test_every_detector_is_listed_by_name() -> None:
    assert {"medic", "cad_ose", "streaming", "windowed_gaussian", "null"} <= DETECTORS.keys()


def test_cad_ose_flags_the_break_and_then_rests_for_three_percent_of_the_file() -> None:
    times, values = _series(1000)
    values[600] = 24.0  # the pattern expects 10
    values[610] = 24.0  # a second break inside the rest period
    scores = cad_ose_scores(times, values)
    assert scores[600] >= 0.75
    assert scores[200:600].max() < 0.5
    # NAB's probationary period is 15% of the file, the rest period a fifth of it: 30 rows.
    assert scores[601:631].max() == 0.0


def test_cad_ose_bins_values_against_the_file_range() -> None:
    # Told each file's minimum and maximum, it sees only the shape of a series: the
    # same series on another scale and offset scores the same.
    times, values = _series(1000)
    values[600] = 24.0
    scores = cad_ose_scores(times, values)
    assert np.array_equal(cad_ose_scores(times, values * 2.0 + 5.0), scores)


def test_medic_flags_the_break_in_the_pattern() -> None:
    times, values = _series(800)
    values[504] = 24.0  # the pattern expects 10
    scores = medic_scores(times, values)
    assert scores[504] >= 0.75
    assert np.delete(scores[100:], 404).max() < 0.5
