"""The ranking on the shapes real incident data has: baselines recorded apart, series
that fall harmlessly, near-idle services, glitches, symptoms, and weak evidence."""

from __future__ import annotations

import numpy as np
import pytest

from medic.analysis.stats import Array
from medic.diagnosis.ranking import Symptom, rank_root_causes

N = 240
STEP = 5.0
T0 = 1_700_000_000.0
ONSET = T0 + 120 * STEP


def times() -> Array:
    return T0 + STEP * np.arange(N, dtype=np.float64)


def noise(seed: int, level: float, spread: float) -> Array:
    return level + spread * np.random.default_rng(seed).standard_normal(N)


def after(values: Array, factor: float = 1.0, add: float = 0.0) -> Array:
    out = values.copy()
    out[120:] = out[120:] * factor + add
    return out


def test_a_harmless_fall_does_not_outrank_a_rise_that_hurts() -> None:
    # The database's memory was recorded lower in the fault run (another day); the
    # hog's CPU rose. Direction-blind, the bigger move (the fall) would win.
    metrics = {
        "db": {"mem": after(noise(1, 700e6, 1e6), factor=0.35)},
        "carts": {"cpu": after(noise(2, 1.0, 0.05), add=1.0), "mem": noise(3, 300e6, 1e6)},
        "front": {"cpu": noise(4, 2.0, 0.05)},
    }
    ranking = rank_root_causes(times(), metrics, ONSET)
    assert ranking.causes[0].service == "carts"
    db = next(c for c in ranking.causes if c.service == "db")
    assert not db.anomalous


def test_served_traffic_falling_and_availability_falling_count_as_harm() -> None:
    metrics = {
        "api": {"available_replicas": after(noise(1, 3.0, 0.0), add=-2.0)},
        "web": {"cpu": noise(2, 1.0, 0.05)},
    }
    ranking = rank_root_causes(times(), metrics, ONSET)
    assert ranking.causes[0].service == "api" and ranking.causes[0].z < 0


def test_a_series_of_unknown_kind_counts_both_ways_at_half_weight() -> None:
    fall = rank_root_causes(
        times(), {"a": {"zorp": after(noise(1, 10.0, 0.1), add=-5.0)}}, ONSET
    ).causes[0]
    known = rank_root_causes(
        times(), {"a": {"latency": after(noise(1, 10.0, 0.1), add=5.0)}}, ONSET
    ).causes[0]
    assert fall.anomalous and fall.score == pytest.approx(known.score / 2, rel=0.05)


def test_a_near_idle_service_doing_a_little_work_is_no_match_for_a_busy_one_at_8x() -> None:
    # orders idled at 0.004 cores and now uses 0.5 (x120 in its own units); the
    # front end went from 0.7 to 5.7 cores. In the system's units, the front end moved.
    metrics = {
        "orders": {"cpu": after(noise(1, 0.004, 0.0003), add=0.5)},
        "front-end": {"cpu": after(noise(2, 0.7, 0.03), add=5.0)},
        "carts": {"cpu": noise(3, 0.05, 0.003)},
        "user": {"cpu": noise(4, 0.03, 0.002)},
    }
    ranking = rank_root_causes(times(), metrics, ONSET)
    assert ranking.causes[0].service == "front-end"


def test_a_glitch_of_a_few_samples_does_not_decide() -> None:
    glitch = noise(1, 75.0, 1.0)
    glitch[120:130] = 2e6  # a scrape artefact right at the start of the fault window
    metrics = {
        "db": {"memory_cache": glitch},
        "api": {"cpu": after(noise(2, 1.0, 0.05), add=1.5)},
    }
    assert rank_root_causes(times(), metrics, ONSET).causes[0].service == "api"


def test_a_caller_whose_own_cpu_rose_is_no_victim_of_its_callee() -> None:
    metrics = {
        "orders": {"cpu": after(noise(1, 1.0, 0.05), add=3.0)},
        "db": {"latency": after(noise(2, 0.01, 0.0005), add=0.01)},
    }
    ranking = rank_root_causes(times(), metrics, ONSET, {"orders": ("db",)})
    assert ranking.causes[0].service == "orders" and ranking.causes[0].victim_of is None


def test_the_symptom_passes_over_what_it_cannot_depend_on() -> None:
    calls = {"gateway": ("auth",), "auth": ("users-db",), "batch": ("reports-db",)}
    metrics = {
        "gateway": {"latency": after(noise(1, 0.1, 0.002), add=0.2)},
        "auth": {"memory": after(noise(2, 300e6, 1e6), add=200e6)},
        "users-db": {"cpu": noise(3, 1.0, 0.05)},
        "batch": {"cpu": after(noise(4, 1.0, 0.05), add=5.0)},  # moved more, unrelated
        "reports-db": {"cpu": noise(5, 1.0, 0.05)},
    }
    plain = rank_root_causes(times(), metrics, ONSET, calls)
    assert plain.causes[0].service == "batch"
    guided = rank_root_causes(
        times(), metrics, ONSET, calls, symptom=Symptom("gateway", "latency", ONSET + 300)
    )
    assert guided.causes[0].service == "auth"
    assert guided.symptom_path == ("gateway", "auth")
    assert "does not depend on it" in guided.passed_over["batch"]
    assert "auth" in guided.passed_over["gateway"]  # a victim of what it calls


def test_a_symptom_naming_an_unknown_service_is_refused() -> None:
    with pytest.raises(ValueError, match="ghost"):
        rank_root_causes(times(), {"a": {"cpu": noise(1, 1, 0.1)}}, ONSET, symptom=Symptom("ghost"))


def test_clear_evidence_is_conclusive_and_a_tie_is_not() -> None:
    clear = rank_root_causes(
        times(),
        {"a": {"cpu": after(noise(1, 1.0, 0.05), add=2.0)}, "b": {"cpu": noise(2, 1.0, 0.05)}},
        ONSET,
    )
    assert clear.conclusive and clear.confidence > 0.5
    tie = rank_root_causes(
        times(),
        {
            "a": {"cpu": after(noise(1, 1.0, 0.05), add=2.0)},
            "b": {"cpu": after(noise(2, 1.0, 0.05), add=2.0)},
        },
        ONSET,
    )
    assert not tie.conclusive and tie.confidence < clear.confidence
    assert any("a" in step and "b" in step for step in tie.check_next)
    quiet = rank_root_causes(times(), {"a": {"cpu": noise(1, 1.0, 0.05)}}, ONSET)
    assert not quiet.conclusive and quiet.check_next


def test_the_onset_is_found_from_the_data_and_bounded_by_the_symptom() -> None:
    metrics = {
        "a": {"cpu": after(noise(1, 1.0, 0.05), add=2.0)},
        "b": {"latency": noise(2, 0.1, 0.002)},
    }
    late = metrics["b"]["latency"].copy()
    late[200:] += 1.0  # something much later, after the alert
    metrics["b"]["latency"] = late
    ranking = rank_root_causes(times(), metrics, symptom=Symptom("a", "cpu", ONSET + 60 * STEP))
    assert ranking.onset_found and ranking.onset == pytest.approx(ONSET, abs=2 * STEP)
    assert ranking.causes[0].service == "a"


def test_a_callee_that_serves_less_is_the_echo_of_its_caller_going_down() -> None:
    # inventory lost its replicas; its database, called less, serves less a bit later
    metrics = {
        "inventory": {"available_replicas": after(noise(1, 3.0, 0.0), add=-3.0)},
        "inventory-db": {"request_rate": after(noise(2, 100.0, 1.0), factor=0.3)},
        "api": {"latency": noise(3, 0.1, 0.002)},
    }
    ranking = rank_root_causes(times(), metrics, ONSET, {"inventory": ("inventory-db",)})
    assert ranking.causes[0].service == "inventory"
    assert ranking.causes[0].victim_of is None and ranking.conclusive
