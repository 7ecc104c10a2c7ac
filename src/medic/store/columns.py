"""Column types that behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy import BigInteger, DateTime, Dialect, Integer, Text
from sqlalchemy.types import TypeDecorator, TypeEngine

from medic.store.codec import JSONValue

__all__ = ["JSONText", "SeqInteger", "UTCDateTime"]

# SQLite only auto-increments a column declared exactly INTEGER PRIMARY KEY.
SeqInteger: TypeEngine[int] = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC in, timezone-aware UTC out, on every backend.

    PostgreSQL keeps the instant (timestamptz). SQLite keeps text without an offset,
    so values are converted to UTC before they are written (which also keeps text
    ordering equal to time ordering) and marked UTC when read. A naive datetime is
    taken as UTC, the convention of the whole code base.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class JSONText(TypeDecorator[JSONValue]):
    """JSON kept as text, serialized by Python on both backends.

    Not the native JSON/JSONB types: PostgreSQL rejects NaN and Infinity (which
    statistics produce) and JSONB rewrites numbers such as 1e+20, which would change
    a stored plan's hash. Nothing queries inside these documents.
    """

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: JSONValue, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)

    def process_result_value(self, value: str | None, dialect: Dialect) -> JSONValue:
        if value is None:
            return None
        loaded: JSONValue = json.loads(value)
        return loaded
