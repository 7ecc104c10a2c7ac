"""One writer per data directory: a second `medic serve` on the same directory, or one
whose port is taken, exits with a clear message before its workflow engine starts."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from medic.bootstrap.startup import lock_data_dir
from medic.domain import PermanentError
from tests.server import MedicServer, free_port

pytestmark = pytest.mark.integration


def _serve(env: dict[str, str], port: int) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "medic", "serve"],
        env={**env, "MEDIC_PORT": str(port), "MEDIC_LOG_FORMAT": "json"},
        capture_output=True,
        text=True,
        timeout=120,
    )


def _events(output: str) -> list[str]:
    found = []
    for line in output.splitlines():
        if line.startswith("{"):
            try:
                found.append(str(json.loads(line).get("event")))
            except ValueError:
                continue
    return found


def test_a_second_server_on_the_same_data_directory_exits_before_running_anything(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    with MedicServer(data, f"sqlite:///{data / 'medic.sqlite'}") as first:
        assert first.process is not None
        second = _serve(first.env, free_port())
        assert second.returncode != 0
        message = " ".join(second.stderr.split())  # as printed, without Rich's wrapping
        assert f"in use by another medic serve (pid {first.process.pid}" in message
        events = _events(second.stdout + second.stderr)
        assert "medic.started" not in events
        assert not any(e.startswith("step.") for e in events), events
        assert first._healthy()  # the first one is untouched
    # The lock dies with its holder: the directory serves again.
    with MedicServer(data, f"sqlite:///{data / 'medic.sqlite'}") as again:
        assert again._healthy()


def test_a_taken_port_stops_the_server_before_the_workflow_engine(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = MedicServer(data, f"sqlite:///{data / 'medic.sqlite'}").env
        result = _serve(env, port)
    assert result.returncode != 0
    message = " ".join(result.stderr.split())
    assert f"cannot listen on 127.0.0.1:{port}" in message
    assert "address already in use" in message.lower()
    # Neither the store nor DBOS's system database was opened.
    assert not (data / "medic.sqlite").exists()
    assert not (data / "medic.dbos.sqlite").exists()


def test_the_lock_names_its_holder_and_is_free_once_released(tmp_path: Path) -> None:
    held = lock_data_dir(tmp_path)
    try:
        with pytest.raises(PermanentError, match=r"in use by another medic serve \(pid \d+ on "):
            lock_data_dir(tmp_path)
    finally:
        held.release()
    lock_data_dir(tmp_path).release()
