"""Real servers from Debian packages, started in temporary directories for one test."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.server import free_port, wait_until

__all__ = ["alertmanager", "prometheus", "promtool"]


def _binary(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise AssertionError(
            f"{name} is not installed: run `make services` (Debian package {name})"
        )
    return path


@contextmanager
def _server(workdir: Path, name: str, args: list[str], port: int) -> Iterator[str]:
    """Run a Debian-packaged server (`name`) until its /-/ready answers; yield its URL."""
    log_path = workdir / f"{name}.log"
    process = subprocess.Popen(
        [_binary(name), *args, f"--web.listen-address=127.0.0.1:{port}"],
        stdout=log_path.open("wb"),
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"

    def ready() -> bool:
        if process.poll() is not None:
            raise AssertionError(f"{name} exited:\n" + log_path.read_text()[-3000:])
        try:
            return httpx.get(f"{url}/-/ready", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        wait_until(f"{name} to be ready", ready, timeout=30)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def alertmanager(workdir: Path, config: str) -> Iterator[str]:
    """A real Alertmanager with `config`; yields its base URL; stopped afterwards."""
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "alertmanager.yml").write_text(config)
    args = [
        f"--config.file={workdir / 'alertmanager.yml'}",
        f"--storage.path={workdir / 'data'}",
        "--cluster.listen-address=",
    ]
    with _server(workdir, "prometheus-alertmanager", args, free_port()) as url:
        yield url


def promtool(*args: str) -> str:
    """Run `promtool` with `args`; its output, or an AssertionError quoting it."""
    done = subprocess.run(
        [_binary("promtool"), *args], capture_output=True, text=True, timeout=120, check=False
    )
    if done.returncode != 0:
        raise AssertionError(f"promtool {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
    return done.stdout


@contextmanager
def prometheus(workdir: Path, config: str, tsdb: Path | None = None) -> Iterator[str]:
    """A real Prometheus with `config` (and the blocks in `tsdb`); yields its base URL."""
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "prometheus.yml").write_text(config)
    args = [
        f"--config.file={workdir / 'prometheus.yml'}",
        f"--storage.tsdb.path={tsdb or workdir / 'data'}",
    ]
    with _server(workdir, "prometheus", args, free_port()) as url:
        yield url
