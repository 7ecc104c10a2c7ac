"""A source that is not there: how a stand-in says what medic cannot see through it."""

from typing import Protocol, runtime_checkable

__all__ = ["Absent"]


@runtime_checkable
class Absent(Protocol):
    """A stand-in for a source that is not configured (no change source, no executor).

    `absent_reason` is said in the diagnosis or the plan, never held as evidence.
    """

    absent_reason: str
