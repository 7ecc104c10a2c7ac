"""The alert is evidence: its text, its rule link and its expression, re-evaluated."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from urllib.parse import quote

from medic.diagnosis import diagnose
from medic.diagnosis.alert_evidence import alert_expression
from medic.domain.errors import PermanentError
from medic.domain.model import Point, Series, Signal, SignalSource
from tests.diagnosis.fakes import SeedWorld, seed_world
from tests.signals.fakes import FakeMetrics

EXPR = 'container_memory_working_set_bytes{container="auth-service"} > 8e8'
GENERATOR = f"http://prometheus:9090/graph?g0.expr={quote(EXPR)}&g0.tab=1"


def _alert(world: SeedWorld) -> Signal:
    return Signal(
        source=SignalSource.ALERTMANAGER,
        fingerprint="f00",
        name="AuthMemoryHigh",
        starts_at=world.now - timedelta(minutes=10),
        service="auth-service",
        namespace=world.namespace,
        summary="auth-service memory above 800 MB",
        labels={"alertname": "AuthMemoryHigh", "service": "auth-service", "team": "id"},
        annotations={
            "summary": "auth-service memory above 800 MB",
            "description": "working set 839 MB",
            "runbook_url": "https://runbooks.example/auth-memory",
        },
        generator_url=GENERATOR,
    )


class ExpressionMetrics(FakeMetrics):
    """The seed metrics plus PromQL: the alert's expression answers one series."""

    query_key = "promql"

    def __init__(self, base: FakeMetrics, failure: PermanentError | None = None) -> None:
        self.__dict__.update(base.__dict__)
        self.asked: list[str] = []
        self.failure = failure

    def expression(
        self, query: str, start: datetime, end: datetime, step_seconds: float
    ) -> list[Series]:
        self.asked.append(query)
        if self.failure is not None:
            raise self.failure
        points = (Point(end.timestamp() - 60, 8.1e8), Point(end.timestamp(), 8.4e8))
        return [Series("expression", "auth-service", points, {"container": "auth-service"})]

    def covers(self, metric: object) -> bool:
        return True

    def query_text(self, namespace: str, service: str, metric: object, step: float) -> str:
        return f'{metric}{{service="{service}"}}'

    def graph_link(self, query: str, start: datetime, end: datetime) -> str:
        return f"http://prometheus:9090/graph?g0.expr={quote(query)}"


def test_the_expression_comes_from_the_generator_url_or_an_annotation() -> None:
    world = seed_world()
    assert alert_expression(_alert(world)) == EXPR
    bare = replace(_alert(world), generator_url="", annotations={"expr": "up == 0"})
    assert alert_expression(bare) == "up == 0"
    assert alert_expression(replace(bare, annotations={})) is None


def test_the_alert_text_and_its_re_evaluated_expression_are_evidence() -> None:
    world = seed_world()
    metrics = ExpressionMetrics(world.metrics)
    diagnosis = diagnose(
        world.incident(), [_alert(world)], metrics, world.changes, world.cluster, None, world.now
    )
    alert = next(
        e for e in diagnosis.evidence if e.source == "alert" and e.query.startswith("signal")
    )
    assert alert.data["annotation:runbook_url"] == "https://runbooks.example/auth-memory"
    assert alert.data["annotation:description"] == "working set 839 MB"
    assert alert.data["label:team"] == "id"
    assert alert.data["generator_url"] == GENERATOR
    assert alert.data["expression"] == EXPR
    evaluated = next(e for e in diagnosis.evidence if e.source == "alert" and e.query == EXPR)
    assert metrics.asked == [EXPR]
    assert evaluated.series[0].points[-1].v == 8.4e8
    assert evaluated.data["graph_url"] == f"http://prometheus:9090/graph?g0.expr={quote(EXPR)}"
    assert "1 series, 2 points" in evaluated.summary
    # every metrics evidence quotes the query that ran, with its graph
    memory = next(e for e in diagnosis.evidence if e.source == "metrics")
    assert memory.query == memory.data["promql"] and memory.query.endswith(
        '{service="' + str(memory.data["service"]) + '"}'
    )
    assert str(memory.data["graph_url"]).startswith("http://prometheus:9090/graph?g0.expr=")


def test_an_expression_the_server_refuses_is_named_in_missing() -> None:
    world = seed_world()
    metrics = ExpressionMetrics(world.metrics, PermanentError("bad_data: parse error"))
    diagnosis = diagnose(
        world.incident(), [_alert(world)], metrics, world.changes, world.cluster, None, world.now
    )
    assert any(
        "expression of alert AuthMemoryHigh" in m and "parse error" in m for m in diagnosis.missing
    )


def test_an_alert_without_a_service_label_is_said() -> None:
    world = seed_world()
    alert = replace(_alert(world), service=None, labels={"alertname": "Odd"})
    diagnosis = diagnose(
        world.incident(), [alert], world.metrics, world.changes, world.cluster, None, world.now
    )
    assert any("no service-like label" in m for m in diagnosis.missing)
    assert any("was not re-evaluated" in m for m in diagnosis.missing)
