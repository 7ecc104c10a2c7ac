"""`medic bench ingest` drives a real server and reports the BENCHMARK.md §3 keys."""

from __future__ import annotations

import json
import random
import statistics
import subprocess
import sys

from medic.bench.ingest import IngestRun, _bodies
from medic.signals.alertmanager import parse_alertmanager


def test_bench_ingest_reports_every_alert_stored_once() -> None:
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "medic",
            "bench",
            "ingest",
            "--alerts",
            "300",
            "--concurrency",
            "8",
            "--batch",
            "5",
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    report = json.loads(completed.stdout)
    assert report["suite"] == "ingest"
    summary = report["summary"]
    assert set(summary) == {"alerts", "alerts_per_second", "lost", "duplicated", "p99_ack_ms"}
    assert summary["alerts"] == 300
    assert (summary["lost"], summary["duplicated"]) == (0, 0)
    assert report["cases"][0]["redeliveries"] > 0
    assert report["cases"][0]["failed_requests"] == 0


def test_the_bench_posts_alertmanager_notifications_of_several_sizes() -> None:
    # Alertmanager sends one notification per group: some of one alert, some of many.
    bodies = _bodies(IngestRun(alerts=1000, batch=10), random.Random(1))

    sizes = [len(fingerprints) for _, fingerprints in bodies]
    assert sum(sizes) == 1000
    assert min(sizes) == 1 and max(sizes) <= 19
    assert 8 <= statistics.mean(sizes) <= 12
    every = [fingerprint for _, fingerprints in bodies for fingerprint in fingerprints]
    assert len(set(every)) == 1000
    for body, fingerprints in bodies:
        signals = parse_alertmanager(body).signals  # what the server's endpoint reads
        assert [s.fingerprint for s in signals] == fingerprints
        assert all(s.firing and s.service and len(s.labels) >= 8 for s in signals)
