"""A real PostgreSQL outage under a stream of alerts: `medic serve` on a PostgreSQL server
of the test's own, stopped (`pg_ctl stop -m immediate`, every connection cut) for 30 s
and started again while alerts keep arriving. An alert medic acknowledged (2xx) is
stored; while the database is down medic answers 503 (Alertmanager retries), never a
500 and never a 2xx it cannot keep; afterwards it accepts alerts again, unrestarted."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest

from tests.pg import ThrowawayServer, throwaway_server
from tests.server import MedicServer, wait_until

pytestmark = pytest.mark.integration

TOKEN = "outage-token"
OUTAGE_S = 30.0


def _alert(n: int) -> dict[str, object]:
    labels = {"alertname": "OutageProbe", "service": "auth-service", "namespace": "production"}
    return {
        "version": "4",
        "status": "firing",
        "receiver": "medic",
        "groupLabels": {"alertname": "OutageProbe"},
        "commonLabels": labels,
        "alerts": [
            {
                "status": "firing",
                "labels": {**labels, "probe": str(n)},
                "annotations": {"summary": f"probe {n}"},
                "startsAt": "2026-12-02T12:00:00Z",
                "endsAt": "0001-01-01T00:00:00Z",
                "fingerprint": f"probe{n:06d}",
            }
        ],
    }


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[ThrowawayServer, str]]:
    with throwaway_server() as pg:
        yield pg, pg.create_database()


def test_no_acknowledged_alert_is_lost_across_a_30_s_database_outage(
    tmp_path: Path, server: tuple[ThrowawayServer, str]
) -> None:
    pg, url = server
    statuses: dict[int, int] = {}
    stop = threading.Event()

    def send(medic: MedicServer) -> None:
        n = 0
        with httpx.Client(timeout=20) as client:
            while not stop.is_set():
                try:
                    response = client.post(
                        f"{medic.url}/webhooks/alertmanager",
                        json=_alert(n),
                        headers={"Authorization": f"Bearer {TOKEN}"},
                    )
                    statuses[n] = response.status_code
                except httpx.HTTPError:
                    statuses[n] = 0  # no answer: not acknowledged
                n += 1
                time.sleep(0.05)

    env = {"MEDIC_WEBHOOK_TOKENS": f'{{"alertmanager": "{TOKEN}"}}'}
    with MedicServer(tmp_path / "medic", url, **env) as medic:
        sender = threading.Thread(target=send, args=(medic,), daemon=True)
        sender.start()
        wait_until("alerts before the outage", lambda: len(statuses) >= 20, timeout=60)
        pg.stop()
        down_from = len(statuses)
        time.sleep(OUTAGE_S)
        down_to = len(statuses)
        pg.start()
        restored = len(statuses)
        wait_until(
            "an alert accepted after the outage",
            lambda: any(statuses.get(n, 0) // 100 == 2 for n in range(restored, len(statuses))),
            timeout=120,
        )
        time.sleep(2)
        stop.set()
        sender.join(timeout=30)
        assert medic.process is not None and medic.process.poll() is None  # never restarted

    answered = dict(statuses)
    acknowledged = {n for n, status in answered.items() if status // 100 == 2}
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        rows = conn.execute("SELECT fingerprint FROM medic_signals").fetchall()
    stored = {int(f.removeprefix("probe")) for (f,) in rows if f.startswith("probe")}
    lost = sorted(acknowledged - stored)
    assert lost == [], f"{len(lost)} acknowledged alerts lost: {lost[:20]}"
    during = [answered[n] for n in range(down_from + 1, down_to) if n in answered]
    assert during, "no alert was sent while the database was down"
    assert set(during) <= {503, 0} | {s for s in during if s // 100 == 2}, sorted(set(during))
    assert 500 not in answered.values(), sorted(set(answered.values()))
    assert 503 in during  # it said so, rather than pretending to keep them
    assert len(acknowledged) >= 40
