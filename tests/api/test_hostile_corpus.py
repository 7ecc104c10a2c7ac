"""The bad-input corpus, on SQLite and on PostgreSQL: every case gets a clear 4xx (or
its alert alone is refused), never a 5xx; valid batch-mates are stored; what is
refused is listed in the answer and recorded in GET /webhooks/rejected.

Issue #12 items 2, 3 and 8: NUL characters, lone surrogates, 300 KB fields, dates
that overflow in UTC, bodies nested 100,000 deep, empty batches, NaN timestamps and
absurd `limit`s.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.api.hostile import SOURCES, Rig, rig, sign_grafana, valid_alert, wrap
from tests.pg import PostgresServer

HUGE = "x" * 300_000
Alert = dict[str, Any]


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def hostile(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Rig]:
    data = tmp_path_factory.mktemp(f"hostile-{request.param}")
    if request.param == "sqlite":
        with rig(data, f"sqlite:///{data / 'medic.sqlite'}") as running:
            yield running
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    url = server.create_database()
    try:
        with rig(data, url) as running:
            yield running
    finally:
        server.drop_database(url)


def _name(source: str, alert: Alert, value: object) -> None:
    if source == "generic":
        alert["name"] = value
    else:
        alert["labels"]["alertname"] = value


def _labels(alert: Alert, labels: object) -> None:
    if isinstance(alert.get("labels"), dict) and isinstance(labels, dict):
        alert["labels"].update(labels)
    else:
        alert["labels"] = labels


def _start(source: str, alert: Alert, value: object) -> None:
    alert["starts_at" if source == "generic" else "startsAt"] = value


def _end(source: str, alert: Alert, value: object) -> None:
    alert["ends_at" if source == "generic" else "endsAt"] = value


def _unnamed(alert: Alert) -> None:
    alert.pop("labels", None)
    alert.pop("name", None)


# One bad alert each, sent between two valid ones: (case, how to spoil the alert).
BAD_ALERTS: list[tuple[str, Callable[[str, Alert], None]]] = [
    ("NUL in the name", lambda s, a: _name(s, a, "Bad\x00Name")),
    ("NUL in a label key", lambda s, a: _labels(a, {"team\x00": "x"})),
    ("NUL in a label value", lambda s, a: _labels(a, {"team": "x\x00y"})),
    ("NUL in the fingerprint", lambda s, a: a.update(fingerprint="fp\x00")),
    ("300 KB fingerprint", lambda s, a: a.update(fingerprint=HUGE)),
    ("300 KB name", lambda s, a: _name(s, a, HUGE)),
    ("300 KB label value", lambda s, a: _labels(a, {"team": HUGE})),
    ("300 KB label key", lambda s, a: _labels(a, {HUGE: "x"})),
    ("500 labels", lambda s, a: _labels(a, {f"l{i}": "v" for i in range(500)})),
    ("lone surrogate in the name", lambda s, a: _name(s, a, "bad\ud800")),
    ("lone surrogate in a label key", lambda s, a: _labels(a, {"\udfff": "x"})),
    ("start overflows in UTC", lambda s, a: _start(s, a, "9999-12-31T23:59:59-01:00")),
    ("start underflows in UTC", lambda s, a: _start(s, a, "0001-01-01T00:00:00+01:00")),
    ("end overflows in UTC", lambda s, a: _end(s, a, "9999-12-31T23:59:59-01:00")),
    ("start is 1e300", lambda s, a: _start(s, a, 1e300)),
    ("start is a list", lambda s, a: _start(s, a, [1, 2])),
    ("labels are not text", lambda s, a: _labels(a, {"x": ["not", "text"]})),
    ("labels are a list", lambda s, a: _labels(a, ["a", "b"])),
    ("status is burning", lambda s, a: a.update(status="burning")),
    ("no labels (or no name)", lambda s, a: _unnamed(a)),
]


@pytest.mark.parametrize("source", ["alertmanager", "grafana", "generic"])
@pytest.mark.parametrize(("case", "spoil"), BAD_ALERTS, ids=[c for c, _ in BAD_ALERTS])
def test_a_bad_alert_is_refused_alone_and_its_batch_mates_are_stored(
    hostile: Rig, source: str, case: str, spoil: Callable[[str, Alert], None]
) -> None:
    tag = f"{source}-{abs(hash(case))}"
    bad = valid_alert(source, f"Bad-{tag}")
    spoil(source, bad)
    before, after = valid_alert(source, f"Before-{tag}"), valid_alert(source, f"After-{tag}")
    body = wrap(source, [before, bad, after])
    response = hostile.post(source, body)
    assert response.status_code == 202, response.text
    answer = response.json()
    assert answer["accepted"] == 2, answer
    assert [r["index"] for r in answer["rejected"]] == [1], answer
    assert "\x00" not in answer["rejected"][0]["reason"]
    assert {f"Before-{tag}", f"After-{tag}"} <= hostile.stored_names()
    recorded = hostile.rejected()[0]
    assert recorded["source"] == source and "some alerts refused" in recorded["reason"]


def _deep_list(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def _deep_object(depth: int) -> bytes:
    return b'{"a":' * depth + b"1" + b"}" * depth


def _deep_in_alert(source: str) -> bytes:
    alert = valid_alert(source, "DeepExtra")
    extra: object = 1
    for _ in range(100):
        extra = {"n": extra}
    alert["extra"] = extra
    return wrap(source, [alert])


def _datadog(**fields: object) -> bytes:
    event = {
        "alert_id": "1234",
        "alert_transition": "Triggered",
        "alert_title": "CPU high",
        "date": 1_764_000_000_000,
        **fields,
    }
    return json.dumps(event).encode()


def _datadog_raw(date: str) -> bytes:
    return b'{"alert_id": "1", "alert_transition": "Triggered", "date": ' + date.encode() + b"}"


# Bodies refused whole with a 400 (and recorded): (case, source, body, words in the answer).
BAD_BODIES: list[tuple[str, str, bytes, str]] = [
    *[(f"list nested 100,000 deep ({s})", s, _deep_list(100_000), "nested") for s in SOURCES],
    *[(f"object nested 100,000 deep ({s})", s, _deep_object(100_000), "nested") for s in SOURCES],
    *[(f"an alert nested 100 deep ({s})", s, _deep_in_alert(s), "nested") for s in SOURCES],
    ("datadog date 1e16", "datadog", _datadog(date=1e16), "date"),
    ("datadog date -1", "datadog", _datadog(date=-1), "date"),
    ("datadog date of 20 digits", "datadog", _datadog_raw("99999999999999999999"), "date"),
    ("datadog date NaN", "datadog", _datadog_raw("NaN"), "date"),
    ("datadog date Infinity", "datadog", _datadog_raw("Infinity"), "date"),
    ("datadog date of 5,000 digits", "datadog", _datadog_raw("9" * 5000), "json"),
    ("datadog 300 KB alert_id", "datadog", _datadog(alert_id=HUGE), "alert_id"),
    ("datadog NUL in alert_id", "datadog", _datadog(alert_id="12\x0034"), "alert_id"),
    ("datadog NUL in the title", "datadog", _datadog(alert_title="CPU\x00"), "alert_title"),
    ("datadog 300 KB service tag", "datadog", _datadog(tags=f"service:{HUGE}"), "tags"),
    ("datadog 300 KB body", "datadog", _datadog(body=HUGE), "body"),
    ("datadog surrogate in a tag", "datadog", _datadog(tags="team:\udc00"), "tags"),
    ("generic []", "generic", b"[]", "no alert"),
    ("generic alerts []", "generic", b'{"alerts": []}', "no alert"),
    ("alertmanager alerts []", "alertmanager", wrap("alertmanager", []), "no alert"),
    ("grafana alerts []", "grafana", wrap("grafana", []), "no alert"),
    *[(f"not UTF-8 ({s})", s, b'{"name": "\xff\xfe"}', "utf-8") for s in SOURCES],
    ("UTF-16 body", "generic", json.dumps(valid_alert("generic", "U16")).encode("utf-16"), "json"),
    *[(f"NUL bytes ({s})", s, b"\x00\x00{}\x00", "json") for s in SOURCES],
    *[(f"a JSON string ({s})", s, b'"alerts"', "") for s in SOURCES if s != "generic"],
    ("a JSON number", "generic", b"42", "body must be"),
    ("alertmanager 300 KB version", "alertmanager", json.dumps({"version": HUGE}).encode(), "ver"),
    ("alerts not a list", "alertmanager", b'{"version":"4","status":"firing","alerts":7}', "ale"),
    ("generic the only alert is bad", "generic", json.dumps([{"name": "\x00"}]).encode(), "name"),
]


@pytest.mark.parametrize(
    ("case", "source", "body", "words"), BAD_BODIES, ids=[c for c, *_ in BAD_BODIES]
)
def test_a_bad_body_is_a_400_and_recorded(
    hostile: Rig, case: str, source: str, body: bytes, words: str
) -> None:
    response = hostile.post(source, body)
    assert response.status_code == 400, response.text
    detail = response.json()["detail"]
    assert words in detail.lower(), detail
    assert len(detail) < 10_000 and "\x00" not in detail
    recorded = hostile.rejected()[0]
    assert recorded["source"] == source


def test_a_valid_alert_after_the_corpus_is_still_stored(hostile: Rig) -> None:
    for source in ("alertmanager", "grafana", "generic"):
        response = hostile.post(source, wrap(source, [valid_alert(source, f"Still-{source}")]))
        assert response.status_code == 202, response.text
    response = hostile.post("datadog", _datadog(alert_title="Still-datadog"))
    assert response.status_code == 202, response.text
    names = hostile.stored_names()
    assert {"Still-alertmanager", "Still-grafana", "Still-generic", "Still-datadog"} <= names


BAD_LIMITS = ["-1.9e21", "99999999999999999999", "-1", "0", "1001", "ten", "1.5", ""]


@pytest.mark.parametrize("path", ["/webhooks/rejected", "/incidents"])
@pytest.mark.parametrize("limit", BAD_LIMITS)
def test_an_absurd_limit_is_a_422_that_says_so(hostile: Rig, path: str, limit: str) -> None:
    response = hostile.client.get(f"{path}?limit={limit}", headers=hostile.user_headers())
    assert response.status_code == 422, response.text
    assert "limit" in json.dumps(response.json()["detail"])


@pytest.mark.parametrize("path", ["/webhooks/rejected", "/incidents"])
def test_a_sane_limit_is_honoured(hostile: Rig, path: str) -> None:
    response = hostile.client.get(f"{path}?limit=1", headers=hostile.user_headers())
    assert response.status_code == 200, response.text
    assert len(response.json()) <= 1


@pytest.mark.parametrize("stamp", ["nan", "NaN", "inf", "-inf", "Infinity", "1e400", "-1e400"])
def test_a_non_finite_signature_timestamp_is_refused(hostile: Rig, stamp: str) -> None:
    body = wrap("grafana", [valid_alert("grafana", f"Replay-{stamp}")])
    headers = {**sign_grafana(body, timestamp=stamp), "Content-Type": "application/json"}
    response = hostile.client.post("/webhooks/grafana", content=body, headers=headers)
    assert response.status_code == 401, response.text
    assert f"Replay-{stamp}" not in hostile.stored_names()


def test_a_correctly_signed_timestamp_is_accepted(hostile: Rig) -> None:
    response = hostile.post("grafana", wrap("grafana", [valid_alert("grafana", "Signed-now")]))
    assert response.status_code == 202, response.text


CORPUS_SIZE = (
    len(BAD_ALERTS) * 3 + len(BAD_BODIES) + 2 * len(BAD_LIMITS) + 7  # 7 timestamps
)
