"""The statistical root-cause ranking on synthetic multivariate metrics."""

from __future__ import annotations

import math

import numpy as np
import pytest

from medic.analysis.stats import Array
from medic.diagnosis.ranking import RankingParams, rank_root_causes, robust_z

STEP = 15.0
N = 480  # two hours
T0 = 1_700_000_000.0
FAULT_AT = T0 + 300 * STEP  # 75 minutes in


def times() -> Array:
    return T0 + STEP * np.arange(N, dtype=np.float64)


def noise(seed: int, level: float, spread: float) -> Array:
    rng = np.random.default_rng(seed)
    return level + spread * rng.standard_normal(N)


def step_at(at: float, height: float, delay: float = 0.0) -> Array:
    return np.where(times() >= at + delay, height, 0.0)


def ramp_at(at: float, per_second: float) -> Array:
    return np.maximum(0.0, times() - at) * per_second


def chain_metrics(victim_delay: float = 30.0) -> dict[str, dict[str, Array]]:
    """frontend -> orders -> db; db's latency jumps, the callers follow (and add more)."""
    return {
        "frontend": {
            "latency": noise(1, 0.10, 0.002) + step_at(FAULT_AT, 0.30, victim_delay),
            "cpu": noise(2, 0.5, 0.02),
        },
        "orders": {
            "latency": noise(3, 0.05, 0.002) + step_at(FAULT_AT, 0.25, victim_delay / 2),
            "errors": noise(4, 0.01, 0.001),
        },
        "db": {
            "latency": noise(5, 0.02, 0.004) + step_at(FAULT_AT, 0.20),
            "cpu": noise(6, 1.0, 0.05) + step_at(FAULT_AT, 0.8),
        },
        "cache": {"latency": noise(7, 0.001, 0.0001)},
    }


CALLS = {"frontend": ("orders", "cache"), "orders": ("db",)}


def test_the_service_that_moved_most_is_ranked_first_with_its_metric() -> None:
    metrics = {
        "payments": {
            "memory": noise(1, 300.0, 2.0) + ramp_at(FAULT_AT, 0.06),
            "cpu": noise(2, 1, 0.05),
        },
        "shipping": {"memory": noise(3, 200.0, 2.0), "cpu": noise(4, 1, 0.05)},
    }
    ranking = rank_root_causes(times(), metrics, onset=FAULT_AT)
    top = ranking.causes[0]
    assert (top.service, top.metric) == ("payments", "memory")
    assert top.anomalous and top.onset is not None and top.onset >= FAULT_AT
    assert not ranking.causes[1].anomalous
    assert ranking.rank_of("payments") == 1 and ranking.rank_of("nobody") is None


def test_without_the_graph_the_victims_outscore_the_cause() -> None:
    # The premise of propagation: callers add up their callees' latency, so they move more.
    ranking = rank_root_causes(times(), chain_metrics(), onset=FAULT_AT)
    assert ranking.rank_of("db") == 3


def test_callers_of_an_earlier_anomalous_callee_are_demoted_as_victims() -> None:
    ranking = rank_root_causes(times(), chain_metrics(), onset=FAULT_AT, calls=CALLS)
    order = [c.service for c in ranking.causes]
    assert order[:3] == ["db", "orders", "frontend"]
    by_name = {c.service: c for c in ranking.causes}
    assert by_name["db"].victim_of is None
    assert by_name["orders"].victim_of == "db"
    assert by_name["frontend"].victim_of in {"orders", "db"}
    assert by_name["frontend"].raw_score > by_name["db"].raw_score  # demoted, not rescored
    assert order[-1] == "cache"


def test_a_caller_that_broke_well_before_its_callee_stays_the_cause() -> None:
    metrics = chain_metrics()
    # orders breaks 20 minutes before db moves: db cannot explain it.
    metrics["orders"]["errors"] = noise(4, 0.01, 0.001) + step_at(FAULT_AT, 0.5)
    metrics["db"]["latency"] = noise(5, 0.02, 0.001) + step_at(FAULT_AT, 0.2, 1200.0)
    metrics["db"]["cpu"] = noise(6, 1.0, 0.05)
    metrics["frontend"]["latency"] = noise(1, 0.10, 0.004)
    ranking = rank_root_causes(times(), metrics, onset=FAULT_AT, calls=CALLS)
    by_name = {c.service: c for c in ranking.causes}
    assert ranking.causes[0].service == "orders"
    assert by_name["orders"].victim_of is None


def test_the_onset_is_found_when_it_is_not_given() -> None:
    ranking = rank_root_causes(times(), chain_metrics(), calls=CALLS)
    assert ranking.onset_found
    assert ranking.onset is not None and abs(ranking.onset - FAULT_AT) <= 2 * STEP
    assert ranking.causes[0].service == "db"


def test_a_slow_ramp_marks_the_onset_where_it_starts() -> None:
    metrics = {
        "auth": {"memory": noise(1, 300.0, 1.5) + ramp_at(FAULT_AT, 0.07)},
        "gateway": {"memory": noise(2, 200.0, 1.5)},
    }
    ranking = rank_root_causes(times(), metrics)
    assert ranking.onset is not None and abs(ranking.onset - FAULT_AT) <= 20 * STEP
    assert ranking.causes[0].service == "auth"


def test_nans_empty_constant_and_short_series_do_not_break_the_ranking() -> None:
    metrics = chain_metrics()
    holes = metrics["db"]["latency"].copy()
    holes[::7] = math.nan
    metrics["db"]["latency"] = holes
    metrics["ghost"] = {"all_nan": np.full(N, math.nan)}
    metrics["flat"] = {"constant": np.full(N, 3.0), "zeros": np.zeros(N)}
    short = np.full(N, math.nan)
    short[-3:] = [1.0, 50.0, 1.0]
    metrics["late"] = {"short": short}
    ranking = rank_root_causes(times(), metrics, onset=FAULT_AT, calls=CALLS)
    order = [c.service for c in ranking.causes]
    assert order[0] == "db"
    assert set(order) == set(metrics)
    by_name = {c.service: c for c in ranking.causes}
    for quiet in ("ghost", "flat", "late"):
        assert by_name[quiet].score == 0.0 and not by_name[quiet].anomalous


def test_no_data_at_all_gives_an_unranked_result_not_an_error() -> None:
    empty: dict[str, dict[str, Array]] = {"a": {"m": np.full(N, math.nan)}, "b": {}}
    ranking = rank_root_causes(times(), empty)
    assert ranking.onset is None
    assert [c.service for c in ranking.causes] == ["a", "b"]
    assert all(c.score == 0.0 for c in ranking.causes)
    none = rank_root_causes(np.zeros(0), {})
    assert none.causes == ()


def test_series_of_another_length_than_the_time_axis_is_refused() -> None:
    with pytest.raises(ValueError, match="a/m: 3 values for 480 timestamps"):
        rank_root_causes(times(), {"a": {"m": np.ones(3)}}, onset=FAULT_AT)


def test_a_flat_baseline_that_moves_scores_high_but_finite() -> None:
    pre = np.zeros(50)
    assert robust_z(pre, np.zeros(50)) == 0.0
    jump = robust_z(pre, np.full(50, 2.0))
    assert math.isfinite(jump) and jump >= 10.0
    # A level of 100 with no spread, nudged by 1%: about one floored unit, not infinity.
    nudged = robust_z(np.full(50, 100.0), np.full(50, 105.0))
    assert 0.5 < nudged < 1.5
    assert robust_z(np.ones(2), np.ones(50) * 9) == 0.0  # too short to judge


def test_a_flat_counter_that_steps_outranks_noisy_wiggles() -> None:
    metrics = {
        "worker": {"restarts": np.zeros(N) + step_at(FAULT_AT, 3.0)},
        "api": {"latency": noise(1, 0.1, 0.01) + step_at(FAULT_AT, 0.02)},
    }
    ranking = rank_root_causes(times(), metrics, onset=FAULT_AT)
    assert [c.service for c in ranking.causes] == ["worker", "api"]
    assert ranking.causes[0].metric == "restarts"


def test_callers_that_call_each_other_still_get_a_direction_of_blame() -> None:
    metrics = {
        "a": {"latency": noise(1, 0.1, 0.004) + step_at(FAULT_AT, 0.3)},
        "b": {"latency": noise(2, 0.1, 0.004) + step_at(FAULT_AT, 0.3, 120.0)},
    }
    ranking = rank_root_causes(times(), metrics, onset=FAULT_AT, calls={"a": ("b",), "b": ("a",)})
    by_name = {c.service: c for c in ranking.causes}
    assert ranking.causes[0].service == "a"
    assert by_name["b"].victim_of == "a" and by_name["a"].victim_of is None


def test_later_unrelated_movers_are_discounted_by_onset_order() -> None:
    metrics = {
        "early": {"latency": noise(1, 0.1, 0.004) + step_at(FAULT_AT, 0.2)},
        "late": {"latency": noise(2, 0.1, 0.004) + step_at(FAULT_AT, 0.2, 1200.0)},
    }
    params = RankingParams(onset_half_life_s=600.0)
    ranking = rank_root_causes(times(), metrics, onset=FAULT_AT, params=params)
    assert [c.service for c in ranking.causes] == ["early", "late"]
    assert ranking.causes[1].score < ranking.causes[1].raw_score


def test_a_surge_is_blamed_where_it_enters_not_on_what_it_overloads() -> None:
    # three times the traffic at the frontend: every service below it serves three
    # times more, and the database, saturated, moves the most of all
    metrics = {
        "frontend": {
            "request_rate": noise(11, 100.0, 2.0) + step_at(FAULT_AT, 200.0),
            "latency": noise(12, 0.10, 0.002) + step_at(FAULT_AT, 0.05),
        },
        "orders": {
            "request_rate": noise(13, 100.0, 2.0) + step_at(FAULT_AT, 200.0),
            "latency": noise(14, 0.05, 0.002) + step_at(FAULT_AT, 0.10),
        },
        "db": {
            "request_rate": noise(15, 100.0, 2.0) + step_at(FAULT_AT, 200.0),
            "latency": noise(16, 0.02, 0.0004) + step_at(FAULT_AT, 0.30),
        },
        "cache": {"request_rate": noise(17, 50.0, 1.0), "latency": noise(18, 0.001, 0.0001)},
    }
    ranking = rank_root_causes(times(), metrics, FAULT_AT, CALLS)
    assert ranking.causes[0].service == "frontend"
    db = next(c for c in ranking.causes if c.service == "db")
    assert db.victim_of == "frontend"
    # without the load, the same latencies put the database first
    still = {name: {"latency": m["latency"]} for name, m in metrics.items()}
    assert rank_root_causes(times(), still, FAULT_AT, CALLS).causes[0].service == "db"


def test_retries_that_multiply_a_failing_callee_s_load_do_not_clear_it() -> None:
    # db's bad release fails requests; orders retries them (4x the load on db), the
    # frontend retries orders (2x): db's rise is no mere share of the frontend's
    metrics = {
        "frontend": {"request_rate": noise(21, 100.0, 2.0) + step_at(FAULT_AT, 100.0)},
        "orders": {
            "request_rate": noise(22, 100.0, 2.0) + step_at(FAULT_AT, 100.0),
            "errors": noise(23, 0.01, 0.001) + step_at(FAULT_AT, 0.2),
        },
        "db": {
            "request_rate": noise(24, 100.0, 2.0) + step_at(FAULT_AT, 300.0),
            "errors": noise(25, 0.001, 0.0001) + step_at(FAULT_AT, 0.4),
        },
        "cache": {"latency": noise(26, 0.001, 0.0001)},
    }
    ranking = rank_root_causes(times(), metrics, FAULT_AT, CALLS)
    db = next(c for c in ranking.causes if c.service == "db")
    assert db.victim_of is None
    assert ranking.causes[0].service == "db"
