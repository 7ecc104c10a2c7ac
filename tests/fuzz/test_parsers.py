"""Property: every webhook parser, given anything, returns a parse result whose
signals are storable, or raises InvalidInputError; never any other exception."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from medic.domain import InvalidInputError
from medic.signals.alertmanager import parse_alertmanager
from medic.signals.datadog import parse_datadog
from medic.signals.generic import parse_generic
from medic.signals.grafana import parse_grafana
from medic.signals.payload import MAX_FINGERPRINT, MAX_NAME, Parsed
from tests.fuzz.strategies import json_values, mutated

FIXTURES = Path(__file__).parents[1] / "signals" / "fixtures"
Parser = Callable[[bytes], Parsed]


def _fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


PARSERS: list[tuple[str, Parser, Any]] = [
    ("alertmanager", parse_alertmanager, _fixture("alertmanager_webhook.json")),
    ("grafana", parse_grafana, _fixture("grafana_webhook.json")),
    ("datadog", parse_datadog, _fixture("datadog_metric_triggered.json")),
    ("generic", parse_generic, _fixture("generic_alerts.json")),
]
IDS = [name for name, _, _ in PARSERS]
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _holds(parse: Parser, body: bytes) -> None:
    try:
        parsed = parse(body)
    except InvalidInputError as e:
        assert str(e)  # says what is wrong
        return
    assert parsed.signals or parsed.problems
    for signal in parsed.signals:
        assert signal.starts_at.utcoffset() is not None
        assert signal.starts_at.utcoffset().total_seconds() == 0  # type: ignore[union-attr]
        assert len(signal.fingerprint) <= max(MAX_FINGERPRINT, 16)
        assert len(signal.name) <= MAX_NAME
        for text in (signal.name, signal.fingerprint, *signal.labels, *signal.labels.values()):
            assert "\x00" not in text
            text.encode("utf-8")  # storable: no lone surrogate
    for problem in parsed.problems:
        assert problem.reason


def _encode(value: Any) -> bytes:
    return json.dumps(value, allow_nan=True).encode()


@pytest.mark.parametrize(("name", "parse", "sample"), PARSERS, ids=IDS)
def test_the_sample_parses(name: str, parse: Parser, sample: Any) -> None:
    assert parse(_encode(sample)).signals


@pytest.mark.parametrize(("name", "parse", "sample"), PARSERS, ids=IDS)
@FUZZ
@given(data=st.data())
def test_any_bytes(name: str, parse: Parser, sample: Any, data: st.DataObject) -> None:
    _holds(parse, data.draw(st.binary(max_size=200)))


@pytest.mark.parametrize(("name", "parse", "sample"), PARSERS, ids=IDS)
@FUZZ
@given(data=st.data())
def test_any_json(name: str, parse: Parser, sample: Any, data: st.DataObject) -> None:
    _holds(parse, _encode(data.draw(json_values)))


@pytest.mark.parametrize(("name", "parse", "sample"), PARSERS, ids=IDS)
@FUZZ
@given(data=st.data())
def test_a_sample_with_parts_replaced(
    name: str, parse: Parser, sample: Any, data: st.DataObject
) -> None:
    _holds(parse, _encode(data.draw(mutated(sample))))


@pytest.mark.parametrize(("name", "parse", "sample"), PARSERS, ids=IDS)
@FUZZ
@given(depth=st.integers(min_value=1, max_value=200_000), opener=st.sampled_from("[{"))
def test_any_depth(name: str, parse: Parser, sample: Any, depth: int, opener: str) -> None:
    body = (opener + ('"a":' if opener == "{" else "")) * depth
    closer = "]" if opener == "[" else "}"
    _holds(parse, (body + ("1" if opener == "{" else "") + closer * depth).encode())
