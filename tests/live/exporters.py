"""Real exporters and stores for the live-fire tests: node_exporter, VictoriaMetrics, and
a small HTTP service instrumented with prometheus_client, each on a free port."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.server import free_port, wait_until
from tests.services import _binary

__all__ = ["Process", "node_exporter", "shop", "victoria_metrics"]


class Process:
    """A started server: its URL, and a way to stop it early (to break something real)."""

    def __init__(self, name: str, process: subprocess.Popen[bytes], url: str, log: Path) -> None:
        self.name, self.process, self.url, self.log = name, process, url, log

    @property
    def address(self) -> str:
        return self.url.removeprefix("http://")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@contextmanager
def _run(workdir: Path, name: str, command: list[str], url: str, ready: str) -> Iterator[Process]:
    workdir.mkdir(parents=True, exist_ok=True)
    log = workdir / f"{name}.log"
    process = subprocess.Popen(command, stdout=log.open("wb"), stderr=subprocess.STDOUT)
    started = Process(name, process, url, log)

    def answers() -> bool:
        if process.poll() is not None:
            raise AssertionError(f"{name} exited:\n" + log.read_text()[-3000:])
        try:
            return httpx.get(f"{url}{ready}", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        wait_until(f"{name} to answer {ready}", answers, timeout=30)
        yield started
    finally:
        started.stop()


@contextmanager
def node_exporter(workdir: Path) -> Iterator[Process]:
    """Debian's prometheus-node-exporter with a few collectors (cheap to scrape)."""
    port = free_port()
    command = [
        _binary("prometheus-node-exporter"),
        f"--web.listen-address=127.0.0.1:{port}",
        "--collector.disable-defaults",
        "--collector.cpu",
        "--collector.meminfo",
        "--collector.loadavg",
        "--collector.filesystem",
        "--collector.stat",
    ]
    with _run(workdir, "node_exporter", command, f"http://127.0.0.1:{port}", "/metrics") as p:
        yield p


@contextmanager
def victoria_metrics(workdir: Path, scrape_config: Path | None = None) -> Iterator[Process]:
    """Debian's victoria-metrics (single node), optionally scraping `scrape_config`."""
    port = free_port()
    command = [
        _binary("victoria-metrics"),
        f"-storageDataPath={workdir / 'data'}",
        f"-httpListenAddr=127.0.0.1:{port}",
        "-search.latencyOffset=0s",
    ]
    if scrape_config is not None:
        command.append(f"-promscrape.config={scrape_config}")
    with _run(workdir, "victoria-metrics", command, f"http://127.0.0.1:{port}", "/-/ready") as p:
        yield p


@contextmanager
def shop(workdir: Path) -> Iterator[Process]:
    """tests/live/shop_app.py: a real process whose memory and errors the test controls."""
    port = free_port()
    command = [sys.executable, "-m", "tests.live.shop_app", str(port)]
    with _run(workdir, "shop", command, f"http://127.0.0.1:{port}", "/metrics") as p:
        yield p
