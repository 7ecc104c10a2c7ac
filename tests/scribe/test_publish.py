"""Writing a post-mortem: the same file and chart files every time, the record saved,
each publisher given the page to create or update, a failing one reported, not fatal."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from medic.adapters.confluence import ConfluencePages
from medic.domain import MetricName, Point, Postmortem, Series, TransientError
from medic.scribe import Scribe
from medic.store import Store
from tests.adapters.fake_confluence import FakeConfluence
from tests.web.seed import NOW, seed_incident


class DownDocs:
    name = "wiki"

    def publish(self, postmortem: Postmortem) -> str:
        raise TransientError("wiki at http://wiki.test timed out")

    def health(self) -> str:
        raise TransientError("down")


class RecordingMetrics:
    """A metrics source whose series go on past the diagnosis (the recovery)."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, MetricName]] = []

    def query(
        self,
        namespace: str,
        service: str,
        metric: MetricName,
        start: datetime,
        end: datetime,
        step_seconds: float,
    ) -> Series:
        self.asked.append((service, metric))
        t0 = (NOW - timedelta(minutes=60)).timestamp()
        return Series(
            metric.value,
            service,
            tuple(Point(t0 + 60 * i, 3e8 if i < 50 else 1e8) for i in range(80)),
            unit="bytes",
        )


@pytest.fixture
def store(sqlite_url: str) -> Iterator[Store]:
    with Store(sqlite_url) as opened:
        opened.migrate()
        seed_incident(opened)
        yield opened


def test_rewriting_replaces_the_same_file_and_publishes_to_the_same_page(
    store: Store, tmp_path: Path
) -> None:
    fake = FakeConfluence()
    wiki = ConfluencePages(
        "https://acme.atlassian.net/wiki",
        "OPS",
        "bot@example.com",
        "api-token",
        transport=fake.transport(),
    )
    metrics = RecordingMetrics()
    scribe = Scribe(store, tmp_path / "pm", metrics=metrics, publishers=(wiki, DownDocs()))

    first = scribe.write("inc-web-1")
    second = scribe.write("inc-web-1")

    path = tmp_path / "pm" / "inc-web-1.md"
    assert first.postmortem.path == second.postmortem.path == str(path)
    assert sorted(p.name for p in (tmp_path / "pm").iterdir()) == ["inc-web-1", "inc-web-1.md"]
    (chart,) = (tmp_path / "pm" / "inc-web-1").iterdir()
    assert chart.read_text().startswith("<svg")
    assert f"](inc-web-1/{chart.name})" in path.read_text()
    # The chart was drawn from the series read again: it goes on after the diagnosis.
    assert ("auth-service", MetricName.MEMORY_WORKING_SET_BYTES) in metrics.asked
    (line,) = re.findall(r'<path d="([^"]+)"', chart.read_text())
    assert line.count("L") == 79  # the 80 points read again, not the evidence's copy

    (page,) = fake.pages.values()
    assert page.version == 2
    url = f"https://acme.atlassian.net/wiki/spaces/OPS/pages/{page.id}"
    saved = store.postmortem("inc-web-1")
    assert saved is not None and saved.links == {"confluence": url}
    assert url in path.read_text()  # the document says where it is published
    assert second.failures == ("wiki: wiki at http://wiki.test timed out",)
