"""The incident page in a real headless Chromium, served by a real uvicorn server.

Chromium cannot fill in the sign-in form without a driver, so the served app adds a
valid session cookie (sealed exactly as the sign-in route seals it) to each request.
"""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from starlette.types import ASGIApp, Receive, Scope, Send

from medic.store import Store
from medic.web import session as sessions
from tests.web.conftest import CREDENTIALS, ui_app
from tests.web.seed import StoreDecide, seed_incident

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)


def _signed_in(app: ASGIApp) -> ASGIApp:
    cookie = sessions.seal(
        sessions.new_session("operator", time.time(), 600), sessions.session_key(CREDENTIALS)
    )
    header = (b"cookie", f"{sessions.COOKIE}={cookie}".encode())

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            scope = {**scope, "headers": [*scope["headers"], header]}
        await app(scope, receive, send)

    return wrapped


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
def served(store: Store) -> Iterator[str]:
    seed_incident(store)
    port = _free_port()
    config = uvicorn.Config(
        _signed_in(ui_app(store, StoreDecide(store))), port=port, log_level="warning"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def test_chromium_renders_the_approve_button_and_the_chart(served: str, tmp_path: Path) -> None:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.fail("headless Chromium is required: apt-get install -y chromium", pytrace=False)
    result = subprocess.run(
        [
            chromium,
            *FLAGS,
            f"--user-data-dir={tmp_path / 'profile'}",
            "--dump-dom",
            f"{served}/ui/incidents/inc-web-1",
        ],
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    dom = result.stdout
    assert result.returncode == 0, result.stderr[-2000:]
    assert 'id="approve"' in dom, dom[:2000]
    assert '<svg class="chart"' in dom
    assert 'class="anomaly"' in dom
    # the injected script stayed text; the one script is medic's own file
    assert re.findall(r"<script[^>]*>", dom) == ['<script src="/ui/static/console.js" defer="">']
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in dom
