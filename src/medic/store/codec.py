"""A generic JSON codec for the domain's frozen dataclasses.

`encode` turns a domain object into JSON-able data (dicts, lists, strings, numbers);
`decode` rebuilds it from the dataclass's type hints. The promise is a round trip:
``decode(type(x), encode(x)) == x`` for every domain type, with values kept *exactly*
(an int stays an int even where a float is declared) so that `Plan.hash`, computed over
the values, is the same after a trip through the database.

Enums are written as their values, datetimes as ISO 8601 strings with their offset,
tuples and other sequences as lists, mappings as objects with string keys. Keys that
a dataclass does not know are ignored and missing fields take their defaults, so rows
written by an older or newer medic still decode.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping, Sequence, Set
from datetime import datetime
from enum import Enum
from functools import cache
from typing import Any, TypeAlias, TypeVar, cast

from medic.domain.errors import InvalidInputError

__all__ = ["JSONValue", "decode", "encode"]

JSONValue: TypeAlias = bool | int | float | str | list["JSONValue"] | dict[str, "JSONValue"] | None

T = TypeVar("T")

_SCALARS: tuple[type, ...] = (str, int, float, bool, type(None))


def encode(obj: object) -> JSONValue:
    """`obj` as JSON-able data: dataclasses become objects, enums their values."""
    # Exact types first, without the isinstance chain below: this runs for every field
    # and label of every stored signal.
    kind = type(obj)
    if kind in _PLAIN:
        return cast(JSONValue, obj)
    if kind is dict:
        return {
            (k if type(k) is str else _encode_key(k)): (
                cast(JSONValue, v) if type(v) in _PLAIN else encode(v)
            )
            for k, v in cast(dict[object, object], obj).items()
        }
    if kind is datetime:
        return cast(datetime, obj).isoformat()
    if kind is tuple or kind is list:
        return [
            cast(JSONValue, v) if type(v) in _PLAIN else encode(v)
            for v in cast(Sequence[object], obj)
        ]
    names = _field_names(kind)
    if names is not None:
        return {
            name: cast(JSONValue, v) if type(v := getattr(obj, name)) in _PLAIN else encode(v)
            for name in names
        }
    if obj is None or isinstance(obj, bool | int | float | str):
        return obj
    if isinstance(obj, Enum):
        return encode(obj.value)
    if isinstance(obj, datetime):
        return obj.isoformat()
    if isinstance(obj, Mapping):
        return {_encode_key(k): encode(v) for k, v in obj.items()}
    if isinstance(obj, Sequence | Set) and not isinstance(obj, bytes | bytearray):
        return [encode(v) for v in obj]
    raise TypeError(f"cannot encode {type(obj).__name__} as JSON")


# Kept as they are by `encode` (subclasses, such as a StrEnum, take the long way).
_PLAIN: frozenset[type] = frozenset(_SCALARS)

_FIELD_NAMES: dict[type, tuple[str, ...] | None] = {}


def _field_names(kind: type) -> tuple[str, ...] | None:
    """The field names of a dataclass type, in order; None for any other type."""
    try:
        return _FIELD_NAMES[kind]
    except KeyError:
        names = (
            tuple(f.name for f in dataclasses.fields(kind))
            if dataclasses.is_dataclass(kind)
            else None
        )
        _FIELD_NAMES[kind] = names
        return names


def decode(cls: type[T], data: object) -> T:
    """Rebuild a `cls` from what `encode` made; raises InvalidInputError on a mismatch."""
    return cast(T, _decode(cls, data, cls.__name__))


def _encode_key(key: object) -> str:
    if isinstance(key, Enum):
        return str(key.value)
    if isinstance(key, str):
        return key
    raise TypeError(f"cannot encode a {type(key).__name__} key as JSON")


def _fail(path: str, expected: object, data: object) -> InvalidInputError:
    shown = repr(data)
    if len(shown) > 80:
        shown = shown[:77] + "..."
    return InvalidInputError(f"{path}: expected {_name(expected)}, got {shown}")


def _name(tp: object) -> str:
    return tp.__name__ if isinstance(tp, type) else str(tp)


def _decode(tp: object, data: object, path: str) -> object:
    if tp is Any or tp is object:
        return data
    if tp is type(None):
        if data is None:
            return None
        raise _fail(path, tp, data)
    origin = typing.get_origin(tp)
    if origin is typing.Union or origin is types.UnionType:
        return _decode_union(typing.get_args(tp), data, path)
    if origin is typing.Literal:
        if data in typing.get_args(tp):
            return data
        raise _fail(path, tp, data)
    if origin is not None:
        return _decode_generic(tp, origin, data, path)
    if not isinstance(tp, type):
        raise TypeError(f"{path}: cannot decode into {tp!r}")
    if issubclass(tp, Enum):
        try:
            return tp(data)
        except ValueError as e:
            raise _fail(path, tp, data) from e
    if tp is datetime:
        return _decode_datetime(data, path)
    if dataclasses.is_dataclass(tp):
        return _decode_dataclass(tp, data, path)
    return _decode_scalar(tp, data, path)


def _decode_scalar(tp: type, data: object, path: str) -> object:
    if tp is bool:
        ok = isinstance(data, bool)
    elif tp is int:
        ok = isinstance(data, int) and not isinstance(data, bool)
    elif tp is float:
        # An int is a valid float (PEP 484) and is kept as written: converting it
        # would change Plan.hash, which is computed over the JSON of the values.
        ok = isinstance(data, int | float) and not isinstance(data, bool)
    elif tp is str:
        ok = isinstance(data, str)
    else:
        raise TypeError(f"{path}: cannot decode into {tp.__name__}")
    if not ok:
        raise _fail(path, tp, data)
    return data


def _decode_datetime(data: object, path: str) -> datetime:
    if not isinstance(data, str):
        raise _fail(path, datetime, data)
    try:
        return datetime.fromisoformat(data)
    except ValueError as e:
        raise _fail(path, datetime, data) from e


def _decode_union(args: tuple[object, ...], data: object, path: str) -> object:
    if data is None:
        if type(None) in args:
            return None
        raise _fail(path, typing.Union[args], data)  # noqa: UP007 - built at runtime
    candidates = [a for a in args if a is not type(None)]
    # Scalars first, by exact kind, so that True is not taken for 1 nor 1 for 1.0.
    for arg in candidates:
        if arg in _SCALARS and type(data) is arg:
            return data
    if isinstance(data, int) and not isinstance(data, bool) and float in candidates:
        return data
    errors: list[str] = []
    for arg in candidates:
        if arg in _SCALARS:
            continue
        try:
            return _decode(arg, data, path)
        except InvalidInputError as e:
            errors.append(str(e))
    raise InvalidInputError(
        "; ".join(errors) or str(_fail(path, typing.Union[args], data))  # noqa: UP007
    )


def _decode_generic(tp: object, origin: object, data: object, path: str) -> object:
    args = typing.get_args(tp)
    if origin is tuple:
        if not isinstance(data, list | tuple):
            raise _fail(path, tp, data)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_decode(args[0], v, f"{path}[{i}]") for i, v in enumerate(data))
        if len(args) != len(data):
            raise _fail(path, tp, data)
        return tuple(
            _decode(a, v, f"{path}[{i}]") for i, (a, v) in enumerate(zip(args, data, strict=True))
        )
    if origin in (list, Sequence, typing.Sequence):
        if not isinstance(data, list | tuple):
            raise _fail(path, tp, data)
        return [_decode(args[0], v, f"{path}[{i}]") for i, v in enumerate(data)]
    if origin in (frozenset, set, Set, typing.AbstractSet):
        if not isinstance(data, list | tuple):
            raise _fail(path, tp, data)
        items = [_decode(args[0], v, f"{path}[{i}]") for i, v in enumerate(data)]
        return frozenset(items) if origin is frozenset else set(items)
    if origin in (dict, Mapping, typing.Mapping):
        if not isinstance(data, dict):
            raise _fail(path, tp, data)
        key_tp, value_tp = args if args else (str, Any)
        return {
            _decode(key_tp, k, f"{path} key"): _decode(value_tp, v, f"{path}[{k!r}]")
            for k, v in data.items()
        }
    raise TypeError(f"{path}: cannot decode into {tp!r}")


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _decode_dataclass(cls: type, data: object, path: str) -> object:
    if not isinstance(data, dict):
        raise _fail(path, cls, data)
    hints = _hints(cls)
    kwargs: dict[str, object] = {}
    for f in dataclasses.fields(cls):
        if not f.init:
            continue
        if f.name in data:
            kwargs[f.name] = _decode(hints[f.name], data[f.name], f"{path}.{f.name}")
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise InvalidInputError(f"{path}: missing field {f.name!r}")
    return cls(**kwargs)
