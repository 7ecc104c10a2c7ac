"""The deterministic diagnostician on the seed scenario and its variations."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np

from medic.diagnosis import diagnose
from medic.domain.cluster import ClusterEvent, MetricName
from medic.domain.errors import PermanentError, TransientError
from medic.domain.model import Diagnosis, RootCauseCategory
from tests.diagnosis.fakes import INJECTION, SeedWorld, seed_world
from tests.signals.fakes import MB, Array, step_change


def _diagnose(world: SeedWorld, *, with_logs: bool = True) -> Diagnosis:
    return diagnose(
        world.incident(),
        [world.signal()],
        world.metrics,
        world.changes,
        world.cluster,
        world.logs if with_logs else None,
        world.now,
    )


def test_the_seed_leak_is_blamed_on_the_auth_deploy() -> None:
    diagnosis = _diagnose(seed_world())
    top = diagnosis.top
    assert top is not None
    assert top.root_cause.service == "auth-service"
    assert top.root_cause.category is RootCauseCategory.BAD_DEPLOY
    assert top.root_cause.change == "v1.2.1"
    assert top.fault == "memory_leak"
    assert diagnosis.conclusive
    assert 0.6 <= diagnosis.confidence <= 1.0
    assert diagnosis.onset is not None
    assert abs(diagnosis.onset - (seed_world().now - timedelta(minutes=75))) < timedelta(minutes=5)


def test_the_explanation_says_what_when_and_where_and_cites_real_evidence() -> None:
    diagnosis = _diagnose(seed_world())
    top = diagnosis.top
    assert top is not None
    text = top.explanation
    assert "auth-service working set rose from 300 MB" in text
    assert "MB/min since 18:5" in text
    assert "v1.2.1 was deployed at 18:55 UTC" in text
    assert "gc pause lines in logs grew from 0 to" in text
    by_id = {e.id: e for e in diagnosis.evidence}
    assert set(top.evidence_ids) <= set(by_id)
    sources = {by_id[i].source for i in top.evidence_ids}
    assert {"metrics", "changes", "logs"} <= sources
    memory = by_id[top.evidence_ids[0]]
    assert memory.series[0].metric == MetricName.MEMORY_WORKING_SET_BYTES
    assert memory.data["service"] == "auth-service"
    assert "Root cause: auth-service, bad_deploy (v1.2.1)" in diagnosis.summary


def test_the_healthy_catalog_deploy_is_rejected_with_a_reason() -> None:
    diagnosis = _diagnose(seed_world())
    assert all(h.root_cause.service != "catalog" for h in diagnosis.hypotheses)
    [reason] = [r for r in diagnosis.rejected if "catalog v3.0.1" in r]
    assert "stayed healthy" in reason


def test_the_slow_gateway_is_named_a_symptom_not_a_cause() -> None:
    diagnosis = _diagnose(seed_world())
    assert diagnosis.hypotheses[0].root_cause.service == "auth-service"
    gateway = [h for h in diagnosis.hypotheses if h.root_cause.service == "api-gateway"]
    # Kept (a human may want to see it) but far below, and rejected with a reason.
    assert all(h.score < diagnosis.hypotheses[0].score / 2 for h in gateway)
    assert any(r.startswith("api-gateway is not the cause") for r in diagnosis.rejected)


def test_without_a_deploy_the_leak_is_resource_exhaustion() -> None:
    diagnosis = _diagnose(seed_world(auth_deploy_minutes_ago=None))
    top = diagnosis.top
    assert top is not None
    assert (top.root_cause.service, top.root_cause.category) == (
        "auth-service",
        RootCauseCategory.RESOURCE_EXHAUSTION,
    )
    assert top.root_cause.change is None
    assert top.fault == "memory_leak"


def test_a_deploy_after_the_onset_is_never_blamed() -> None:
    diagnosis = _diagnose(seed_world(auth_deploy_minutes_ago=40))
    top = diagnosis.top
    assert top is not None
    assert top.root_cause.category is RootCauseCategory.RESOURCE_EXHAUSTION
    assert any("cannot have caused it" in r and "auth-service" in r for r in diagnosis.rejected)


def test_a_deploy_long_before_the_onset_is_not_blamed() -> None:
    diagnosis = _diagnose(seed_world(auth_deploy_minutes_ago=130))
    top = diagnosis.top
    assert top is not None
    assert top.root_cause.change is None
    assert any("longer than the 30 min" in r for r in diagnosis.rejected)


def test_a_failing_log_source_is_noted_and_the_diagnosis_goes_on() -> None:
    world = seed_world()
    world.logs.failure = TransientError("loki: 503 Service Unavailable")
    diagnosis = _diagnose(world)
    assert "no logs for auth-service: loki: 503 Service Unavailable" in diagnosis.missing
    top = diagnosis.top
    assert top is not None
    assert top.root_cause.change == "v1.2.1"
    assert "gc pause" not in top.explanation


def test_no_log_source_at_all_is_noted() -> None:
    diagnosis = _diagnose(seed_world(), with_logs=False)
    assert any(m.startswith("no logs for auth-service") for m in diagnosis.missing)
    assert diagnosis.top is not None and diagnosis.top.root_cause.change == "v1.2.1"


def test_failing_metrics_and_changes_are_noted_and_lower_the_confidence() -> None:
    healthy = _diagnose(seed_world())
    world = seed_world()
    world.metrics.fail(TransientError("timeout"), service="api-gateway")
    world.changes.failure = PermanentError("403 forbidden")
    diagnosis = _diagnose(world)
    assert "no changes: 403 forbidden" in diagnosis.missing
    assert "no memory_working_set_bytes for api-gateway: timeout" in diagnosis.missing
    top = diagnosis.top
    assert top is not None
    assert top.root_cause.service == "auth-service"
    assert top.root_cause.category is RootCauseCategory.RESOURCE_EXHAUSTION
    assert diagnosis.confidence < healthy.confidence


def test_a_healthy_system_is_inconclusive_and_says_what_to_check() -> None:
    diagnosis = _diagnose(seed_world(leak=False))
    assert not diagnosis.conclusive
    assert diagnosis.hypotheses == ()
    assert diagnosis.summary.startswith("Inconclusive")
    assert "Check next" in diagnosis.summary
    assert any("catalog v3.0.1" in r for r in diagnosis.rejected)


def test_untrusted_text_never_reaches_summaries_or_explanations() -> None:
    diagnosis = _diagnose(seed_world())
    texts = [diagnosis.summary, *(h.explanation for h in diagnosis.hypotheses)]
    texts += [e.summary for e in diagnosis.evidence]
    texts += list(diagnosis.rejected)
    assert not any("IGNORE ALL PREVIOUS" in t or "kubectl delete" in t for t in texts)
    assert INJECTION.startswith("IGNORE ALL PREVIOUS")


def test_a_leak_that_already_hit_its_limit_is_still_the_deploys_leak() -> None:
    world = seed_world(leak=False, auth_deploy_minutes_ago=150)

    def sawtooth(rel: Array, values: Array) -> Array:
        # 8 MB/min from 300 MB since 150 min ago, OOM-killed at 1024 MB, climbing again.
        climbed = np.maximum(0.0, rel + 150 * 60) * 8 * MB / 60
        return values + np.mod(climbed, 724 * MB)

    memory = MetricName.MEMORY_WORKING_SET_BYTES
    world.metrics.set("auth-service", memory, 300 * MB, sawtooth, world.metrics.noisy(0.012))
    killed_at = 150 * 60 - 724 / 8 * 60
    world.metrics.set("auth-service", MetricName.RESTARTS, 0.0, step_change(killed_at, 2.0))
    diagnosis = diagnose(
        world.incident(),
        [world.signal(minutes_ago=130)],
        world.metrics,
        world.changes,
        world.cluster,
        world.logs,
        world.now,
    )
    top = diagnosis.top
    assert top is not None
    assert (top.root_cause.category, top.root_cause.change, top.fault) == (
        RootCauseCategory.BAD_DEPLOY,
        "v1.2.1",
        "memory_leak",
    )
    assert "OOM kills or restarts" in top.explanation


def test_a_deviation_of_two_minutes_is_not_conclusive() -> None:
    world = seed_world(leak=False, catalog_deploy=False, auth_deploy_minutes_ago=None)
    world.metrics.set(
        "auth-service",
        MetricName.LATENCY_P99_SECONDS,
        0.02,
        step_change(2 * 60, 0.15),
        world.metrics.noisy(0.05),
    )
    diagnosis = _diagnose(world)
    assert diagnosis.top is not None and diagnosis.top.fault == "latency_regression"
    assert not diagnosis.conclusive
    assert "may still pass by itself" in diagnosis.summary


def test_sources_that_are_not_configured_are_said_but_do_not_lower_the_confidence() -> None:
    world = seed_world()
    diagnosis = _diagnose(world)
    assert "no Kubernetes events: no event source configured" in diagnosis.missing

    class BrokenEvents:
        def events(self, namespace: str, start: datetime, end: datetime) -> list[ClusterEvent]:
            raise TransientError("apiserver timed out")

    broken = diagnose(
        world.incident(),
        [world.signal()],
        world.metrics,
        world.changes,
        world.cluster,
        world.logs,
        world.now,
        events=BrokenEvents(),
    )
    assert "no Kubernetes events: apiserver timed out" in broken.missing
    assert broken.confidence < diagnosis.confidence
    assert broken.top is not None and broken.top.root_cause.change == "v1.2.1"


def test_oom_kill_events_are_cited_as_evidence_of_the_leak() -> None:
    world = seed_world()

    class Events:
        def events(self, namespace: str, start: datetime, end: datetime) -> list[ClusterEvent]:
            at = world.now - timedelta(minutes=3)
            return [ClusterEvent(at, "OOMKilled", "Pod/auth-service-7d9f8b6c4-x2k9p", INJECTION)]

    diagnosis = diagnose(
        world.incident(),
        [world.signal()],
        world.metrics,
        world.changes,
        world.cluster,
        world.logs,
        world.now,
        events=Events(),
    )
    top = diagnosis.top
    assert top is not None
    cited = [e for e in diagnosis.evidence if e.id in top.evidence_ids and e.source == "events"]
    assert cited and cited[0].data["oom"] == 1
    assert "oom x1" in top.explanation
    assert INJECTION not in diagnosis.summary + top.explanation
