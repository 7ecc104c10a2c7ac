"""LokiLogs against a fake of Loki's documented query_range, labels and ready endpoints."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from medic.adapters.loki import LokiLogs, logql_selector
from medic.domain.errors import InvalidInputError, PermanentError, TransientError
from tests.adapters.fake_loki import FakeLoki, Stream

URL = "http://loki.test:3100"
START = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)
END = START + timedelta(minutes=10)
NS = 10**9
T0 = int(START.timestamp()) * NS


class FixedClock:
    def __init__(self, now: datetime) -> None:
        self._now = now
        self.sleeps: list[float] = []

    def now(self) -> datetime:
        return self._now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)


def _loki(fake: FakeLoki, clock: FixedClock | None = None, **kw: Any) -> LokiLogs:
    return LokiLogs(URL, clock=clock or FixedClock(END), transport=fake.transport(), **kw)


def _pod(pod: str, *entries: tuple[int, str], app: str = "auth", ns: str = "prod") -> Stream:
    return Stream({"namespace": ns, "app": app, "pod": pod}, list(entries))


def test_lines_sends_the_logql_selector_backward_and_returns_lines_oldest_first() -> None:
    fake = FakeLoki(
        streams=[
            _pod("auth-1", (T0 + 1 * NS, "starting"), (T0 + 4 * NS, "level=error msg=oom")),
            _pod("auth-2", (T0 + 2 * NS, "ready"), (T0 + 3 * NS, "GET /login 200")),
            _pod("cart-1", (T0 + 2 * NS, "cart is fine"), app="cart"),
            _pod("auth-9", (T0 + 2 * NS, "another namespace"), ns="staging"),
        ]
    )
    with _loki(fake) as loki:
        lines = loki.lines("prod", "auth", START, END, 100)
    params = fake.range_queries()[0]
    assert params["query"] == '{namespace="prod", app="auth"}'
    assert params["direction"] == "backward" and params["limit"] == "100"
    assert int(params["start"]) == T0
    assert int(params["end"]) > int(END.timestamp()) * NS  # the end is included
    assert [(x.pod, x.message) for x in lines] == [
        ("auth-1", "starting"),
        ("auth-2", "ready"),
        ("auth-2", "GET /login 200"),
        ("auth-1", "level=error msg=oom"),
    ]
    assert lines[0].at == START + timedelta(seconds=1)
    assert {x.service for x in lines} == {"auth"}
    assert [x.level for x in lines] == ["info", "info", "info", "error"]


def test_a_limit_keeps_the_newest_lines() -> None:
    entries = [(T0 + i * NS, f"line {i}") for i in range(50)]
    fake = FakeLoki(streams=[_pod("auth-1", *entries)])
    with _loki(fake) as loki:
        lines = loki.lines("prod", "auth", START, END, 10)
    assert [x.message for x in lines] == [f"line {i}" for i in range(40, 50)]
    assert len(fake.requests) == 1


def test_a_limit_above_lokis_maximum_pages_backwards_without_losing_or_repeating_lines() -> None:
    # Two pods log at the same nanoseconds, so pages end between lines of one instant;
    # the newest instant alone holds a whole page.
    same = T0 + 30 * NS
    first = [(T0 + i * NS, f"a{i}") for i in range(20)] + [(same, "a-same-1"), (same, "a-same-2")]
    second = [(T0 + i * NS, f"b{i}") for i in range(20)] + [(same, "b-same")]
    fake = FakeLoki(
        streams=[_pod("auth-1", *first), _pod("auth-2", *second)], max_entries_limit_per_query=3
    )
    with _loki(fake, max_entries_per_query=3) as loki:
        lines = loki.lines("prod", "auth", START, END, 15)
    messages = [x.message for x in lines]
    assert len(messages) == 15
    assert set(messages) == {f"{p}{i}" for p in "ab" for i in range(14, 20)} | {
        "a-same-1",
        "a-same-2",
        "b-same",
    }
    assert [x.at for x in lines] == sorted(x.at for x in lines)
    assert len(fake.range_queries()) > 5 and all(int(p["limit"]) <= 3 for p in fake.range_queries())


def test_asking_for_more_than_loki_allows_is_a_permanent_error_with_lokis_text() -> None:
    fake = FakeLoki(streams=[_pod("auth-1", (T0, "x"))])
    with _loki(fake, max_entries_per_query=6000) as loki, pytest.raises(InvalidInputError) as e:
        loki.lines("prod", "auth", START, END, 6000)
    assert "max entries limit per query exceeded" in str(e.value)
    assert '{namespace="prod", app="auth"}' in str(e.value)
    assert len(fake.requests) == 1


def test_a_service_name_cannot_widen_the_selector() -> None:
    fake = FakeLoki(streams=[_pod("cart-1", (T0, "cart secret"), app="cart")])
    with _loki(fake) as loki:
        lines = loki.lines("prod", 'x", app=~".+', START, END, 100)
    assert lines == []
    assert fake.range_queries()[0]["query"] == '{namespace="prod", app="x\\", app=~\\".+"}'


def test_label_names_are_configurable_and_checked() -> None:
    stream = Stream(
        {"k8s_namespace_name": "prod", "service_name": "auth", "k8s_pod_name": "auth-7"},
        [(T0, "hello")],
    )
    fake = FakeLoki(streams=[stream])
    loki = _loki(
        fake,
        namespace_label="k8s_namespace_name",
        service_label="service_name",
        pod_label="k8s_pod_name",
    )
    with loki:
        lines = loki.lines("prod", "auth", START, END, 10)
    assert [(x.pod, x.message) for x in lines] == [("auth-7", "hello")]
    with pytest.raises(InvalidInputError, match="label name"):
        LokiLogs(URL, service_label='app"} or {x="')


def test_a_multi_tenant_loki_needs_the_tenant_header() -> None:
    fake = FakeLoki(streams=[_pod("auth-1", (T0, "hello"))], tenant="team-a")
    with _loki(fake) as loki, pytest.raises(PermanentError, match="401 no org id"):
        loki.lines("prod", "auth", START, END, 10)
    with _loki(fake, tenant="team-a") as loki:
        assert [x.message for x in loki.lines("prod", "auth", START, END, 10)] == ["hello"]


def test_overload_and_outages_are_retried_then_the_lines_returned() -> None:
    clock = FixedClock(END)
    fake = FakeLoki(
        streams=[_pod("auth-1", (T0, "hello"))],
        fail=[
            httpx.Response(429, text="too many outstanding requests", headers={"Retry-After": "2"}),
            httpx.Response(502, text="bad gateway"),
            httpx.ConnectError("connection refused"),
        ],
    )
    with _loki(fake, clock, backoff_seconds=0.5) as loki:
        lines = loki.lines("prod", "auth", START, END, 10)
    assert [x.message for x in lines] == ["hello"]
    assert clock.sleeps == [2.0, 1.0, 2.0]


def test_a_persistent_outage_is_a_transient_error_naming_loki_and_the_query() -> None:
    clock = FixedClock(END)
    fake = FakeLoki(fail=[httpx.Response(503, text="querier unavailable") for _ in range(3)])
    with _loki(fake, clock, retries=2) as loki, pytest.raises(TransientError) as caught:
        loki.lines("prod", "auth", START, END, 10)
    message = str(caught.value)
    assert "Loki at http://loki.test:3100 answered 503: querier unavailable" in message
    assert '{namespace="prod", app="auth"}' in message
    assert len(fake.requests) == 3


def test_a_timeout_is_a_transient_error() -> None:
    fake = FakeLoki(fail=[httpx.ReadTimeout("slow") for _ in range(4)])
    with (
        _loki(fake, timeout=5.0) as loki,
        pytest.raises(TransientError, match="timed out after 5s"),
    ):
        loki.lines("prod", "auth", START, END, 10)


def test_levels_come_from_labels_or_the_line_and_huge_lines_are_cut() -> None:
    huge = "x" * 100_000
    fake = FakeLoki(
        streams=[
            Stream(
                {"namespace": "prod", "app": "auth", "pod": "a", "level": "WARNING"}, [(T0, "m")]
            ),
            _pod("a", (T0 + 1, '{"level":"error","msg":"db down"}'), (T0 + 2, "[FATAL] boom")),
            _pod("a", (T0 + 3, huge)),
        ]
    )
    with _loki(fake, max_line_chars=1000) as loki:
        lines = loki.lines("prod", "auth", START, END, 10)
    assert [x.level for x in lines] == ["warn", "error", "fatal", "info"]
    assert len(lines[-1].message) < 1100 and lines[-1].message.endswith("[truncated]")


def test_an_empty_window_or_limit_asks_nothing() -> None:
    fake = FakeLoki()
    with _loki(fake) as loki:
        assert loki.lines("prod", "auth", START, END, 0) == []
        assert loki.lines("prod", "auth", END, START, 10) == []
    assert fake.requests == []


def test_health_reports_ready_and_the_labels() -> None:
    fake = FakeLoki(streams=[_pod("auth-1", (int(END.timestamp()) * NS - NS, "hello"))])
    with _loki(fake) as loki:
        status = loki.health()
    assert status == "Loki at http://loki.test:3100: ready, 3 labels in the last hour"
    assert [r.url.path for r in fake.requests] == ["/ready", "/loki/api/v1/labels"]


def test_health_of_a_loki_that_is_not_ready_is_a_transient_error() -> None:
    fake = FakeLoki(ready=False)
    with (
        _loki(fake) as loki,
        pytest.raises(TransientError, match="answered 503: Ingester not ready"),
    ):
        loki.health()


def test_health_names_a_label_loki_does_not_have() -> None:
    now_ns = int(END.timestamp()) * NS - NS
    fake = FakeLoki(streams=[Stream({"namespace": "prod", "container": "auth"}, [(now_ns, "x")])])
    with _loki(fake) as loki, pytest.raises(PermanentError) as caught:
        loki.health()
    assert "has no label app (it has: container, namespace)" in str(caught.value)


def test_health_of_an_idle_loki_says_there_is_nothing_to_read() -> None:
    with _loki(FakeLoki()) as loki:
        assert loki.health().endswith("ready, but no log streams in the last hour")


def test_health_without_credentials_is_a_permanent_error() -> None:
    fake = FakeLoki(tenant="team-a")
    with _loki(fake) as loki, pytest.raises(PermanentError, match="refused the credentials"):
        loki.health()


def test_the_selector_quotes_values() -> None:
    assert logql_selector({"app": 'a"b\\c\nd'}) == '{app="a\\"b\\\\c\\nd"}'
