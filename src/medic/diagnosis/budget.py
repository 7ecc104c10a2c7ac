"""Run read queries concurrently under a time budget.

Each query is a zero-argument callable that asks one port. Answers come back in the
order the queries were planned (not the order they finished), so evidence ids stay
deterministic. A query that fails with a MedicError, or that has not answered when
the budget runs out, comes back as a reason instead of an answer: the diagnosis
notes it in `missing` and goes on.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Generic, TypeVar

from medic.domain.errors import MedicError

__all__ = ["DEFAULT_BUDGET_S", "Answer", "run_queries"]

T = TypeVar("T")

# Seconds the whole gathering of one phase may take before slow sources are dropped.
DEFAULT_BUDGET_S = 20.0
_WORKERS = 8


@dataclass(frozen=True)
class Answer(Generic[T]):
    name: str
    value: T | None
    failure: str | None = None  # why there is no value

    @property
    def ok(self) -> bool:
        return self.failure is None


def run_queries(
    queries: Sequence[tuple[str, Callable[[], T]]],
    budget_s: float = DEFAULT_BUDGET_S,
    workers: int = _WORKERS,
) -> list[Answer[T]]:
    """Every query's answer, in the order given; late or failing ones as failures."""
    if not queries:
        return []
    deadline = time.monotonic() + budget_s
    pool = ThreadPoolExecutor(max_workers=max(1, min(workers, len(queries))))
    try:
        futures: list[Future[T]] = [pool.submit(fn) for _, fn in queries]
        pending = set(futures)
        while pending:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            _, pending = wait(pending, timeout=left, return_when=FIRST_COMPLETED)
        return [_answer(name, f, budget_s) for (name, _), f in zip(queries, futures, strict=True)]
    finally:
        # A source that hangs must not hold the diagnosis: abandon what is still running.
        pool.shutdown(wait=False, cancel_futures=True)


def _answer(name: str, future: Future[T], budget_s: float) -> Answer[T]:
    if not future.done():
        return Answer(name, None, f"timed out after {budget_s:g}s")
    error = future.exception()
    if error is None:
        return Answer(name, future.result())
    if isinstance(error, MedicError):
        return Answer(name, None, str(error) or type(error).__name__)
    raise error
