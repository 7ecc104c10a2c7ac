"""What medic is connected to, and whether each connection works.

An `Integration` is a name and a health check: a callable that returns a one-line
status or raises a `MedicError` saying what is wrong. The composition root builds the
list from the configuration; `check_all` runs every check at once, each with a
timeout, so that `medic doctor` answers in seconds even when a backend hangs.

Must not: build adapters or read configuration (the composition root does both).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from medic.domain.errors import MedicError, TransientError

__all__ = ["Integration", "Result", "check_all"]


@dataclass(frozen=True)
class Integration:
    """One configured connection: `health()` returns a status line or raises MedicError."""

    name: str
    health: Callable[[], str]
    kind: str = ""  # what medic uses it for: "metrics", "logs", "store", …


@dataclass(frozen=True)
class Result:
    name: str
    kind: str
    ok: bool
    detail: str
    seconds: float
    error: str = ""  # the error's class ("TransientError", …) when not ok


class _Check:
    """One health check running in its own daemon thread (a hung check must not keep
    the process alive after `medic doctor` has answered)."""

    def __init__(self, integration: Integration) -> None:
        self.integration = integration
        self.result: Result | None = None
        self._started = 0.0
        self.thread = threading.Thread(
            target=self._run, name=f"health-{integration.name}", daemon=True
        )

    def start(self) -> None:
        self._started = time.monotonic()
        self.thread.start()

    def _run(self) -> None:
        name, kind = self.integration.name, self.integration.kind
        try:
            detail = self.integration.health()
        except MedicError as e:
            self.result = self._done(False, str(e), type(e).__name__)
        except Exception as e:  # noqa: BLE001 - the doctor reports a broken check, it does not crash on one
            self.result = self._done(False, f"unexpected {type(e).__name__}: {e}", "Error")
        else:
            self.result = Result(name, kind, True, detail, time.monotonic() - self._started)

    def _done(self, ok: bool, detail: str, error: str) -> Result:
        elapsed = time.monotonic() - self._started
        return Result(self.integration.name, self.integration.kind, ok, detail, elapsed, error)

    def outcome(self, timeout_seconds: float) -> Result:
        if self.result is not None:
            return self.result
        return Result(
            self.integration.name,
            self.integration.kind,
            False,
            f"no answer within {timeout_seconds:g}s",
            timeout_seconds,
            TransientError.__name__,
        )


def check_all(integrations: Sequence[Integration], timeout_seconds: float = 10.0) -> list[Result]:
    """Every integration's health, checked concurrently, in the order given.

    A check still running after `timeout_seconds` is reported as failed and left to
    finish (or not) in the background.
    """
    checks = [_Check(integration) for integration in integrations]
    for check in checks:
        check.start()
    deadline = time.monotonic() + timeout_seconds
    for check in checks:
        check.thread.join(max(0.0, deadline - time.monotonic()))
    return [check.outcome(timeout_seconds) for check in checks]
