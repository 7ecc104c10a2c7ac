"""A real `medic serve` subprocess for end-to-end tests: start, SIGKILL, restart."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path
from typing import Any

import httpx

__all__ = ["MedicServer", "free_port", "wait_until"]


def free_port() -> int:
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_until(what: str, check: Any, timeout: float = 60.0, every: float = 0.05) -> Any:
    """Poll `check()` until it returns something truthy; fail naming `what`."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what} (last: {last!r})")


class MedicServer:
    """`python -m medic serve` with its own data directory, database and port."""

    start_timeout = 120.0  # seconds; a loaded machine may need more

    def __init__(self, data_dir: Path, database_url: str, **env: str) -> None:
        self.data_dir = data_dir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "MEDIC_DATA_DIR": str(data_dir),
            "MEDIC_DATABASE_URL": database_url,
            "MEDIC_PORT": str(self.port),
            "MEDIC_LOG_FORMAT": "json",
            **env,
        }
        self.env.pop("MEDIC_CONFIG", None)
        self.process: subprocess.Popen[bytes] | None = None
        self.runs = 0

    @property
    def log_path(self) -> Path:
        return self.data_dir / f"serve-{self.runs}.log"

    def start(self) -> MedicServer:
        self.runs += 1
        self.data_dir.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "medic", "serve"],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_until("medic serve to answer /healthz", self._healthy, timeout=self.start_timeout)
        except AssertionError:
            self.stop()  # a server that never answered is not left running
            raise
        return self

    def _healthy(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise AssertionError(
                f"medic serve exited with {self.process.returncode}:\n"
                + self.log_path.read_text(errors="replace")[-4000:]
            )
        try:
            return httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def kill(self) -> None:
        """SIGKILL: no clean-up, no flush; what is durable survives."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)
        self.process = None

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.process = None

    def logs(self) -> list[dict[str, Any]]:
        """Every JSON log event of every run so far."""
        events = []
        for run in range(1, self.runs + 1):
            for line in (
                (self.data_dir / f"serve-{run}.log").read_text(errors="replace").splitlines()
            ):
                if line.startswith("{"):
                    try:
                        events.append(json.loads(line))
                    except ValueError:
                        continue
        return events

    def credentials(self) -> dict[str, dict[str, str]]:
        data: dict[str, dict[str, str]] = json.loads(
            (self.data_dir / "credentials.json").read_text()
        )
        return data

    def user_headers(self) -> dict[str, str]:
        """A user's token: the first configured (MEDIC_USERS), else the generated one."""
        configured = self.env.get("MEDIC_USERS")
        if configured:
            first = next(iter(json.loads(configured).values()))
            token = first if isinstance(first, str) else first["token"]
        else:
            token = next(iter(self.credentials()["users"].values()))
        return {"Authorization": f"Bearer {token}"}

    def webhook_headers(self, source: str = "alertmanager") -> dict[str, str]:
        return {
            "Authorization": f"Bearer {self.credentials()['webhooks'][source]}",
            "Content-Type": "application/json",
        }

    def get(self, path: str) -> Any:
        response = httpx.get(f"{self.url}{path}", headers=self.user_headers(), timeout=10)
        response.raise_for_status()
        return response.json()

    def __enter__(self) -> MedicServer:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()
