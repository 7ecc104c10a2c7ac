"""Real servers from Debian packages, started in temporary directories for one test."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.server import free_port, wait_until

__all__ = ["alertmanager"]


def _binary(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise AssertionError(
            f"{name} is not installed: run `make services` (Debian package {name})"
        )
    return path


@contextmanager
def alertmanager(workdir: Path, config: str) -> Iterator[str]:
    """A real Alertmanager with `config`; yields its base URL; stopped afterwards."""
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "alertmanager.yml").write_text(config)
    port = free_port()
    log = (workdir / "alertmanager.log").open("wb")
    process = subprocess.Popen(
        [
            _binary("prometheus-alertmanager"),
            f"--config.file={workdir / 'alertmanager.yml'}",
            f"--storage.path={workdir / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--cluster.listen-address=",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"

    def ready() -> bool:
        if process.poll() is not None:
            raise AssertionError(
                "alertmanager exited:\n" + (workdir / "alertmanager.log").read_text()[-3000:]
            )
        try:
            return httpx.get(f"{url}/-/ready", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        wait_until("alertmanager to be ready", ready, timeout=30)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
