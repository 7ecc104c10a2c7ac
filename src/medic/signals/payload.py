"""What every webhook parser shares: JSON decoding, readable validation errors, and the
result of a parse that may accept some alerts of a batch and refuse others.

A batch is never refused whole for one bad alert: the valid ones are kept (a sender
such as Alertmanager does not retry a 4xx, so refusing the batch would lose them) and
the bad ones are reported by index.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field

from pydantic import ValidationError

from medic.domain.errors import InvalidInputError
from medic.domain.model import Severity, Signal

__all__ = [
    "Parsed",
    "Problem",
    "describe",
    "label_fingerprint",
    "load_json",
    "severity_of",
]


@dataclass(frozen=True)
class Problem:
    """One alert of a batch that could not be accepted, and why."""

    index: int
    reason: str


@dataclass(frozen=True)
class Parsed:
    signals: tuple[Signal, ...]
    problems: tuple[Problem, ...] = field(default_factory=tuple)


def load_json(body: bytes) -> object:
    try:
        return json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise InvalidInputError(f"body is not JSON: {e}") from e


def severity_of(value: str, default: Severity = Severity.WARNING) -> Severity:
    aliases = {
        "crit": Severity.CRITICAL,
        "error": Severity.CRITICAL,
        "high": Severity.CRITICAL,
        "page": Severity.CRITICAL,
        "p1": Severity.CRITICAL,
        "p2": Severity.CRITICAL,
        "warn": Severity.WARNING,
        "medium": Severity.WARNING,
        "p3": Severity.WARNING,
        "low": Severity.INFO,
        "p4": Severity.INFO,
        "p5": Severity.INFO,
    }
    text = value.strip().lower()
    try:
        return Severity(text)
    except ValueError:
        return aliases.get(text, default)


def label_fingerprint(labels: Mapping[str, str]) -> str:
    """Stable across redeliveries and processes: a hash of the sorted label set."""
    canonical = json.dumps(sorted(labels.items()), separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def describe(error: ValidationError, prefix: str = "") -> str:
    """The first validation error as `path: what` (and how many more there are)."""
    first = error.errors()[0]
    loc = tuple(first["loc"])
    path = _path((prefix, *loc) if prefix else loc)
    kind = first["type"]
    if kind.startswith(("datetime", "timezone")):
        detail = "invalid datetime" if kind.startswith("datetime") else "timezone missing"
    elif kind == "missing":
        detail = "field required"
    else:
        detail = first["msg"].lower()
    more = error.error_count() - 1
    suffix = f" (and {more} more error{'s' if more > 1 else ''})" if more else ""
    return f"{path}: {detail}{suffix}" if path else f"{detail}{suffix}"


def _path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out
