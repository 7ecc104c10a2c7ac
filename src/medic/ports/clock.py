"""The injectable clock: real time in production, simulated time in the sandbox."""

from datetime import datetime
from typing import Protocol

__all__ = ["Clock"]


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...

    def sleep(self, seconds: float) -> None:
        """Let `seconds` of this clock's time pass (a simulated clock may be faster)."""
        ...
