"""`medic bench ingest`: drive a real `medic serve` with concurrent Alertmanager webhooks.

A fresh server (SQLite in a temporary directory, watchdog off) receives `alerts`
distinct alerts over `/webhooks/alertmanager` from `concurrency` keep-alive
connections, then the store is read directly: every alert acknowledged (202) must be
there once (`lost`, `duplicated`).

The payload mix is what a real Alertmanager sends during an alert storm. Alertmanager
batches the alerts of a group (here grouped by alertname and service) into one
notification, so each request is one version 4 `webhook_config` body carrying a whole
group: its size is drawn uniformly from 1 to 2 x `batch` - 1 alerts (mean `batch`; with the
default 10, single-alert notifications and groups of up to 19 pods alike). Every alert
is firing and carries the labels and annotations of a Kubernetes alert (alertname,
namespace, service, job, pod, container, instance, severity; summary, description,
runbook), Alertmanager's fingerprint, a start and the zero end time; the body has the
group's `groupLabels`, `commonLabels`, `commonAnnotations` and `groupKey`. About
`redelivery_share` of the notifications are sent a second time, shuffled among the
others, as Alertmanager does when a delivery times out or at `repeat_interval`.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from medic.bench.report import Report
from medic.domain.errors import PermanentError

__all__ = ["IngestRun", "run_ingest"]

START_TIMEOUT_SECONDS = 90.0
REQUEST_TIMEOUT_SECONDS = 60.0


@dataclass(frozen=True)
class IngestRun:
    alerts: int = 5000
    concurrency: int = 32
    batch: int = 10  # mean alerts per notification (sizes 1 .. 2*batch-1)
    redelivery_share: float = 0.1
    services: int = 5
    seed: int = 7


def run_ingest(run: IngestRun) -> Report:
    with tempfile.TemporaryDirectory(prefix="medic-bench-ingest-") as tmp:
        data_dir = Path(tmp)
        port = _free_port()
        server = _start_server(data_dir, port)
        try:
            credentials = json.loads((data_dir / "credentials.json").read_text())
            token = credentials["webhooks"]["alertmanager"]
            outcome = asyncio.run(_drive(f"http://127.0.0.1:{port}", token, run))
        finally:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        stored = _stored_fingerprints(data_dir / "medic.sqlite")
    acked: set[str] = outcome["acked"]
    lost = len(acked - set(stored))
    duplicated = sum(1 for count in stored.values() if count > 1)
    latencies = sorted(outcome["latencies"])
    summary: dict[str, Any] = {
        "alerts": len(acked),
        "alerts_per_second": round(len(acked) / outcome["seconds"], 1) if acked else 0.0,
        "lost": lost,
        "duplicated": duplicated,
        "p99_ack_ms": round(_quantile(latencies, 0.99) * 1000, 1) if latencies else None,
    }
    case: dict[str, Any] = {
        "requests": outcome["requests"],
        "redeliveries": outcome["redeliveries"],
        "batch": run.batch,
        "alerts_per_request": outcome["alerts_per_request"],
        "concurrency": run.concurrency,
        "failed_requests": outcome["failed"],
        "seconds": round(outcome["seconds"], 3),
        "p50_ack_ms": round(_quantile(latencies, 0.5) * 1000, 1) if latencies else None,
    }
    return Report("ingest", [case], summary)


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _start_server(data_dir: Path, port: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "MEDIC_DATA_DIR": str(data_dir),
        "MEDIC_PORT": str(port),
        "MEDIC_WATCHDOG__ENABLED": "false",
        "MEDIC_LOG_LEVEL": "warning",
        "MEDIC_LOG_FORMAT": "json",
    }
    for key in ("MEDIC_CONFIG", "MEDIC_DATABASE_URL", "MEDIC_HOST", "MEDIC_API_URL"):
        env.pop(key, None)
    log = (data_dir / "serve.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "medic", "serve"], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = (data_dir / "serve.log").read_text(errors="replace")[-2000:]
            raise PermanentError(f"medic serve exited with {process.returncode}:\n{tail}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    process.kill()
    raise PermanentError(f"medic serve did not answer within {START_TIMEOUT_SECONDS:.0f}s")


_ALERTNAMES = (
    "KubePodCrashLooping",
    "HighErrorRate",
    "PodMemoryHigh",
    "HighLatencyP99",
    "KubePodNotReady",
)


def _bodies(run: IngestRun, rng: random.Random) -> list[tuple[bytes, list[str]]]:
    """One Alertmanager notification per group, each with its alerts' fingerprints."""
    start = datetime.now(UTC) - timedelta(minutes=5)
    bodies = []
    first = 0
    group = 0
    while first < run.alerts:
        size = min(rng.randint(1, max(1, 2 * run.batch - 1)), run.alerts - first)
        alertname = _ALERTNAMES[group % len(_ALERTNAMES)]
        service = f"bench-svc-{group % run.services}"
        common = {
            "alertname": alertname,
            "namespace": "bench",
            "service": service,
            "job": f"{service}-metrics",
            "container": service,
            "severity": "warning",
        }
        alerts = [
            _alert(i, common, start + timedelta(milliseconds=i)) for i in range(first, first + size)
        ]
        body = {
            "receiver": "medic",
            "status": "firing",
            "alerts": alerts,
            "groupLabels": {"alertname": alertname, "service": service},
            "commonLabels": common,
            "commonAnnotations": {"runbook_url": f"https://runbooks.example/{alertname}"},
            "externalURL": "http://alertmanager.example:9093",
            "version": "4",
            "groupKey": f'{{}}:{{alertname="{alertname}", service="{service}"}}',
            "truncatedAlerts": 0,
        }
        bodies.append((json.dumps(body).encode(), [str(a["fingerprint"]) for a in alerts]))
        first += size
        group += 1
    return bodies


def _alert(i: int, common: dict[str, str], starts_at: datetime) -> dict[str, object]:
    pod = f"{common['service']}-7f9c{i % 97:02d}-{i:05d}"
    name = common["alertname"]
    return {
        "status": "firing",
        "labels": {**common, "pod": pod, "instance": f"10.1.{i // 250 % 250}.{i % 250}:8080"},
        "annotations": {
            "summary": f"{name} on {pod}",
            "description": f"{pod} in bench/{common['service']}: {name} for more than 5 minutes",
            "runbook_url": f"https://runbooks.example/{name}",
        },
        "startsAt": starts_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": f"http://prometheus.example:9090/graph?g0.expr={name}",
        "fingerprint": f"{i:016x}",
    }


async def _drive(url: str, token: str, run: IngestRun) -> dict[str, Any]:
    rng = random.Random(run.seed)
    bodies = _bodies(run, rng)
    redelivered = rng.sample(bodies, int(len(bodies) * run.redelivery_share))
    plan = bodies + redelivered
    rng.shuffle(plan)
    host, _, port = url.removeprefix("http://").partition(":")
    acked: set[str] = set()
    latencies: list[float] = []
    failed = 0
    pending = iter(plan)

    async def worker() -> None:
        nonlocal failed
        connection = await _Connection.open(host, int(port), token)
        try:
            for body, fingerprints in pending:
                began = time.perf_counter()
                try:
                    status = await asyncio.wait_for(
                        connection.post("/webhooks/alertmanager", body), REQUEST_TIMEOUT_SECONDS
                    )
                except (OSError, TimeoutError, asyncio.IncompleteReadError, ValueError):
                    failed += 1
                    connection.close()
                    connection = await _Connection.open(host, int(port), token)
                    continue
                latencies.append(time.perf_counter() - began)
                if status == 202:
                    acked.update(fingerprints)
                else:
                    failed += 1
        finally:
            connection.close()

    began = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(run.concurrency)))
    seconds = time.perf_counter() - began
    return {
        "acked": acked,
        "latencies": latencies,
        "failed": failed,
        "seconds": seconds,
        "requests": len(plan),
        "redeliveries": len(redelivered),
        "alerts_per_request": round(sum(len(f) for _, f in plan) / len(plan), 1),
    }


class _Connection:
    """A minimal keep-alive HTTP/1.1 client on asyncio streams.

    The load generator shares the machine with the server it measures; a full client
    (httpx spends milliseconds of CPU per request) would measure itself instead.
    """

    def __init__(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, head: bytes
    ) -> None:
        self._reader = reader
        self._writer = writer
        self._head = head

    @classmethod
    async def open(cls, host: str, port: int, token: str) -> _Connection:
        reader, writer = await asyncio.open_connection(host, port)
        head = (
            f"Host: {host}:{port}\r\nAuthorization: Bearer {token}\r\n"
            "Content-Type: application/json\r\n"
        ).encode()
        return cls(reader, writer, head)

    async def post(self, path: str, body: bytes) -> int:
        self._writer.write(
            b"POST "
            + path.encode()
            + b" HTTP/1.1\r\n"
            + self._head
            + b"Content-Length: "
            + str(len(body)).encode()
            + b"\r\n\r\n"
            + body
        )
        await self._writer.drain()
        status_line = await self._reader.readuntil(b"\r\n")
        status = int(status_line.split(b" ", 2)[1])
        length = 0
        while True:
            line = await self._reader.readuntil(b"\r\n")
            if line == b"\r\n":
                break
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
        await self._reader.readexactly(length)
        return status

    def close(self) -> None:
        self._writer.close()


def _stored_fingerprints(database: Path) -> Counter[str]:
    connection = sqlite3.connect(database)
    try:
        rows = connection.execute(
            "SELECT fingerprint, COUNT(*) FROM medic_signals "
            "WHERE source = 'alertmanager' AND firing GROUP BY fingerprint"
        ).fetchall()
    finally:
        connection.close()
    return Counter({fingerprint: count for fingerprint, count in rows})


def _quantile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    index = min(len(values) - 1, max(0, round(q * (len(values) - 1))))
    return values[index]
