"""Who explains whom: dependencies named in callers' logs, surges upstream, fresh changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from medic.analysis.stats import Shape
from medic.diagnosis.anomaly import SeriesAnomaly, ServiceAnomaly
from medic.diagnosis.correlation import Culprit
from medic.diagnosis.evidence import EvidenceBook, LogEvidence
from medic.diagnosis.logpatterns import LogRates
from medic.diagnosis.reasoning import build_candidates
from medic.domain.cluster import MetricName, ServiceInfo, ServiceKind
from medic.domain.model import Change, ChangeKind, RootCauseCategory

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
ONSET = (NOW - timedelta(minutes=20)).timestamp()


def _book(*services: ServiceInfo) -> EvidenceBook:
    book = EvidenceBook("ns", NOW - timedelta(hours=2), NOW)
    book.services = {s.name: s for s in services}
    return book


def _anomaly(service: str, metric: MetricName, before: float, now: float) -> ServiceAnomaly:
    moved = SeriesAnomaly(service, metric, ONSET, Shape.STEP, 30.0, before, now, 0.0)
    return ServiceAnomaly(service, 30.0, 30.0, moved, (moved,))


def _calls(book: EvidenceBook, caller: str, dependency: str, kind: str) -> None:
    quiet = LogRates(50, 15.0, {}, dependencies={})
    failing = LogRates(50, 15.0, {}, dependencies={dependency: {kind: 200.0}})
    book.logs[caller] = LogEvidence(f"ev-{caller}", quiet, failing)


def _deploy(service: str) -> Culprit:
    change = Change(ChangeKind.DEPLOY, service, "ns", NOW - timedelta(minutes=28), version="v2")
    return Culprit(change, "ev-deploy", 480.0)


def test_refused_calls_blame_the_dependency_even_after_a_callers_deploy() -> None:
    book = _book(
        ServiceInfo("payments", "ns", calls=("stripe",)),
        ServiceInfo("stripe", "ns", kind=ServiceKind.EXTERNAL),
    )
    _calls(book, "payments", "stripe", "refused")
    ranked = [_anomaly("payments", MetricName.ERROR_RATIO, 0.001, 0.5)]

    candidates, rejected = build_candidates(ranked, {"payments": _deploy("payments")}, book, None)

    top = candidates[0]
    assert (top.service, top.category) == ("stripe", RootCauseCategory.DEPENDENCY_FAILURE)
    assert top.fault == "dependency_outage"
    assert any(r.startswith("payments is not the cause") for r in rejected)


def test_slowness_only_a_freshly_changed_caller_sees_stays_with_the_change() -> None:
    book = _book(
        ServiceInfo("search", "ns", calls=("index",)),
        ServiceInfo("index", "ns", kind=ServiceKind.DATABASE),
    )
    _calls(book, "search", "index", "slow")
    ranked = [_anomaly("search", MetricName.LATENCY_P99_SECONDS, 0.1, 0.5)]

    candidates, _ = build_candidates(ranked, {"search": _deploy("search")}, book, None)

    assert (candidates[0].service, candidates[0].category) == (
        "search",
        RootCauseCategory.BAD_DEPLOY,
    )


def test_a_surge_is_blamed_where_it_enters_not_downstream() -> None:
    book = _book(ServiceInfo("gateway", "ns", calls=("api",)), ServiceInfo("api", "ns"))
    ranked = [
        _anomaly("api", MetricName.REQUEST_RATE, 100.0, 300.0),
        _anomaly("gateway", MetricName.REQUEST_RATE, 100.0, 300.0),
    ]

    candidates, rejected = build_candidates(ranked, {}, book, "api")

    assert (candidates[0].service, candidates[0].category) == (
        "gateway",
        RootCauseCategory.TRAFFIC_SURGE,
    )
    assert any(r.startswith("api is not the cause") for r in rejected)
