"""What every webhook parser shares: JSON decoding, readable validation errors, the
limits every source's alerts are held to, and the result of a parse that may accept
some alerts of a batch and refuse others.

A batch is never refused whole for one bad alert: the valid ones are kept (a sender
such as Alertmanager does not retry a 4xx, so refusing the batch would lose them) and
the bad ones are reported by index.

The limits (`Limits`) are the same for every source and every database: a text field
that PostgreSQL or SQLite would refuse (a NUL character, a lone surrogate), or that
would not fit an index (a 300 KB fingerprint), fails validation of its own alert
here, so that it never reaches the shared transaction of a batch.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, TypeVar

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    Field,
    StringConstraints,
    TypeAdapter,
    ValidationError,
)

from medic.domain.errors import InvalidInputError
from medic.domain.model import Severity, Signal

__all__ = [
    "MAX_ALERTS",
    "MAX_DEPTH",
    "AnnotationMap",
    "Fingerprint",
    "Identifier",
    "LabelMap",
    "LongText",
    "Name",
    "Parsed",
    "Place",
    "Problem",
    "ShortText",
    "UtcDatetime",
    "check_labels",
    "describe",
    "label_fingerprint",
    "load_json",
    "load_envelope",
    "nesting_depth",
    "parse_each",
    "printable",
    "require_alerts",
    "severity_of",
]

# How deep a body may nest (medic's formats need 4; senders' extensions get room).
MAX_DEPTH = 32
# Alerts in one request: Alertmanager sends a group's alerts at once, up to thousands.
MAX_ALERTS = 20_000
MAX_NAME = 500
MAX_FINGERPRINT = 200  # identifiers too (Datadog alert, event and org ids)
MAX_LABELS = 128  # label or annotation pairs per alert
MAX_LABEL_KEY = 256
MAX_LABEL_VALUE = 4096
MAX_ANNOTATION_VALUE = 16_384
MAX_SHORT_TEXT = 2048  # URLs, receivers, group keys, severities
MAX_LONG_TEXT = 65_536  # a Datadog event body, a summary

# NUL (PostgreSQL text cannot hold it) and lone surrogates (not encodable as UTF-8).
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def _storable(value: str) -> str:
    if _UNSTORABLE.search(value):
        raise ValueError("must not contain NUL characters or unpaired surrogates")
    return value


def printable(text: str) -> str:
    """`text` with its NULs and lone surrogates escaped: safe to store and to answer."""
    return _UNSTORABLE.sub(lambda m: ascii(m.group())[1:-1], text)


def _in_utc(value: datetime) -> datetime:
    try:
        return value.astimezone(UTC)
    except (OverflowError, ValueError) as e:
        raise ValueError("out of range once converted to UTC") from e


Name = Annotated[str, StringConstraints(max_length=MAX_NAME), AfterValidator(_storable)]
Fingerprint = Annotated[
    str, StringConstraints(max_length=MAX_FINGERPRINT), AfterValidator(_storable)
]
Identifier = Fingerprint
# A service or namespace name (a Kubernetes DNS name is at most 253 characters).
Place = Annotated[str, StringConstraints(max_length=253), AfterValidator(_storable)]
ShortText = Annotated[str, StringConstraints(max_length=MAX_SHORT_TEXT), AfterValidator(_storable)]
LongText = Annotated[str, StringConstraints(max_length=MAX_LONG_TEXT), AfterValidator(_storable)]
LabelKey = Annotated[
    str, StringConstraints(min_length=1, max_length=MAX_LABEL_KEY), AfterValidator(_storable)
]
LabelValue = Annotated[
    str, StringConstraints(max_length=MAX_LABEL_VALUE), AfterValidator(_storable)
]
AnnotationValue = Annotated[
    str, StringConstraints(max_length=MAX_ANNOTATION_VALUE), AfterValidator(_storable)
]
LabelMap = Annotated[dict[LabelKey, LabelValue], Field(max_length=MAX_LABELS)]
AnnotationMap = Annotated[dict[LabelKey, AnnotationValue], Field(max_length=MAX_LABELS)]
# An aware time that is also representable in UTC (9999-12-31T23:59:59-01:00 is not).
UtcDatetime = Annotated[AwareDatetime, AfterValidator(_in_utc)]


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
    """The JSON value of a UTF-8 body nested at most MAX_DEPTH deep.

    UTF-8 only (RFC 8259 8.1): `json.loads` would also guess UTF-16 and UTF-32, whose
    text then could not be kept beside the alerts. The depth is checked before
    parsing, so a body nested 100,000 deep costs one scan, not a RecursionError.
    """
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as e:
        where = f"{e.reason} at byte {e.start}"
        raise InvalidInputError(f"body is not JSON: not UTF-8 ({where})") from e
    depth = nesting_depth(text)
    if depth > MAX_DEPTH:
        raise InvalidInputError(f"body is nested {depth} deep; at most {MAX_DEPTH} is accepted")
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise InvalidInputError(f"body is not JSON: {e}") from e
    except (ValueError, RecursionError) as e:  # e.g. an integer of more than 4,300 digits
        raise InvalidInputError(f"body is not acceptable JSON: {e}") from e


# A JSON string (with its escapes) or one bracket; the strings are skipped whole.
_STRING_OR_BRACKET = re.compile(r'"(?:[^"\\]|\\.)*"?|[\[\]{}]')


Model = TypeVar("Model", bound=BaseModel)


def load_envelope(body: bytes, envelope: type[Model], supported_version: str) -> Model:
    """A versioned JSON object body (Alertmanager's, Grafana's) read as `envelope`;
    InvalidInputError when it is not an object, of another version, or malformed."""
    raw = load_json(body)
    if not isinstance(raw, dict):
        raise InvalidInputError(f"body must be a JSON object, not {type(raw).__name__}")
    version = raw.get("version")
    if version is not None and str(version) != supported_version:
        raise InvalidInputError(
            f"version '{str(version)[:40]}' is not supported (expected '{supported_version}')"
        )
    try:
        return envelope.model_validate(raw)
    except ValidationError as e:
        raise InvalidInputError(describe(e)) from e


def parse_each(
    items: Sequence[object],
    model: type[Model],
    to_signal: Callable[[Model], Signal],
    prefix: str = "alerts",
) -> Parsed:
    """Each alert validated on its own: the valid ones become signals, each invalid one
    a Problem naming its index, so one bad alert costs only itself."""
    require_alerts(len(items), prefix or "body")
    signals: list[Signal] = []
    problems: list[Problem] = []
    for index, item in enumerate(items):
        try:
            alert = model.model_validate(item)
        except ValidationError as e:
            problems.append(Problem(index, describe(e, prefix=f"{prefix}[{index}]")))
            continue
        signals.append(to_signal(alert))
    return Parsed(tuple(signals), tuple(problems))


def nesting_depth(text: str) -> int:
    """How deep the arrays and objects of `text` nest, brackets inside strings aside.

    Bodies with few brackets (most single alerts) are not scanned at all.
    """
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return 0
    depth = deepest = 0
    for match in _STRING_OR_BRACKET.finditer(text):
        token = match.group()
        if token in "[{":
            depth += 1
            deepest = max(deepest, depth)
            if deepest > MAX_DEPTH:
                return deepest
        elif token in "]}":
            depth -= 1
    return deepest


_LABELS: TypeAdapter[dict[str, str]] = TypeAdapter(LabelMap)


def check_labels(labels: dict[str, str], where: str) -> dict[str, str]:
    """`labels` if they keep to the limits of a label map; else InvalidInputError."""
    try:
        return _LABELS.validate_python(labels)
    except ValidationError as e:
        raise InvalidInputError(describe(e, prefix=where)) from e


def require_alerts(count: int, prefix: str = "alerts") -> None:
    """An empty batch says nothing (a sender's bug): 400, like a malformed one."""
    if count == 0:
        raise InvalidInputError(f"{prefix}: no alert in the batch")
    if count > MAX_ALERTS:
        raise InvalidInputError(f"{prefix}: {count} alerts; at most {MAX_ALERTS} per request")


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
            # A key is the sender's text: shown cut short and with its NULs visible.
            name = printable(part if len(part) <= 80 else f"{part[:80]}...")
            out += f".{name}" if out else name
    return out
