"""`medic bench ingest` drives a real server and reports the BENCHMARK.md §3 keys."""

from __future__ import annotations

import json
import subprocess
import sys


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
