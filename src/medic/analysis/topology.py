"""The call graph as data: who calls whom, and who is reachable from whom."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

__all__ = ["reachable"]


def reachable(start: str, calls: Mapping[str, Sequence[str]]) -> set[str]:
    """Every service `start` calls, directly or through others (never `start` itself)."""
    seen: set[str] = set()
    todo = list(calls.get(start, ()))
    while todo:
        name = todo.pop()
        if name in seen or name == start:
            continue
        seen.add(name)
        todo.extend(calls.get(name, ()))
    return seen
