"""Hypothesis strategies for hostile input: any JSON, any text, and valid documents with
one part replaced by anything (the near-misses a real sender's bug produces)."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import strategies as st

__all__ = ["json_values", "mutated", "nasty_text"]

# Text that has broken stores and parsers: NUL, lone surrogates, huge, odd dates.
nasty_text = st.one_of(
    st.text(max_size=40),
    st.sampled_from(
        [
            "",
            "\x00",
            "a\x00b",
            "\ud800",
            "\udfff",
            "x" * 300_000,
            "9999-12-31T23:59:59-01:00",
            "0001-01-01T00:00:00+01:00",
            "2026-11-27T18:00:00",
            "2026-02-30T00:00:00Z",
            "NaN",
            "1e16",
            "$ALERT_ID",
            "-1",
            "99999999999999999999",
        ]
    ),
)

_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    nasty_text,
)

json_values: st.SearchStrategy[Any] = st.recursive(
    _scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.one_of(st.text(max_size=10), nasty_text), children, max_size=4),
    ),
    max_leaves=12,
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for key, child in value.items():
            found.extend(_paths(child, (*prefix, key)))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found.extend(_paths(child, (*prefix, index)))
    return found


@st.composite
def mutated(draw: st.DrawFn, document: Any) -> Any:
    """`document` with one to three of its parts (or itself) replaced by any JSON, or
    deleted."""
    result = copy.deepcopy(document)
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        path = draw(st.sampled_from(_paths(result)))
        if not path:
            return draw(json_values)
        parent = result
        for part in path[:-1]:
            parent = parent[part]
        if draw(st.booleans()) and isinstance(parent, dict):
            del parent[path[-1]]
        else:
            parent[path[-1]] = draw(json_values)
        if not _paths(result):
            break
    return result
