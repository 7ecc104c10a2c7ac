"""Live fire: a real node_exporter and a real service, scraped by a real Prometheus whose
real alert rules go through a real Alertmanager to a real `medic serve` configured with
Prometheus only (no Kubernetes, no sandbox). We break things for real (node_exporter
stopped: InstanceDown; the service made to hold memory: ShopMemoryHigh) and read the
incidents medic opened through its API."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.live.exporters import Process, node_exporter, shop
from tests.server import MedicServer, wait_until
from tests.services import alertmanager, prometheus

TOKEN = "live-fire-alertmanager-token"

RULES = """
groups:
  - name: live
    rules:
      - alert: InstanceDown
        expr: up{job="node"} == 0
        for: 2s
        labels: {severity: critical}
        annotations:
          summary: "{{ $labels.instance }} of job {{ $labels.job }} is down"
          description: "node_exporter at {{ $labels.instance }} stopped answering scrapes"
          runbook_url: https://runbooks.example/instance-down
      - alert: ShopMemoryHigh
        expr: process_resident_memory_bytes{job="shop"} > 250e6
        for: 2s
        labels: {severity: warning}
        annotations:
          summary: "shop holds {{ $value | humanize1024 }}B resident"
          description: "shop's resident memory is over 250 MB"
          runbook_url: https://runbooks.example/shop-memory
"""

# node_exporter's preset reads hosts by job; the service's own series are added on top.
QUERIES = {
    "memory_working_set_bytes": (
        'max(max_over_time(process_resident_memory_bytes{job="$service"}[$gauge_window]))'
        ' or max(max_over_time(node_memory_MemTotal_bytes{job="$service"}[$gauge_window])'
        ' - min_over_time(node_memory_MemAvailable_bytes{job="$service"}[$gauge_window]))'
    ),
    "request_rate": 'sum(rate(http_server_requests_total{job="$service"}[$window]))',
    "error_ratio": (
        'sum(rate(http_server_requests_total{job="$service",code=~"5.."}[$window]))'
        ' / sum(rate(http_server_requests_total{job="$service"}[$window]))'
    ),
}


class SlowStartingMedic(MedicServer):
    """On a loaded machine a cold `medic serve` may take over a minute to import."""

    def start(self) -> MedicServer:
        self.runs += 1
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "medic", "serve"],
            env=self.env,
            stdout=self.log_path.open("wb"),
            stderr=subprocess.STDOUT,
        )
        wait_until("medic serve to answer /healthz", self._healthy, timeout=240)
        return self


@dataclass
class Stack:
    node: Process
    shop: Process
    prometheus: str
    medic: MedicServer

    def incidents(self) -> list[dict[str, Any]]:
        headers = self.medic.user_headers()
        found: list[dict[str, Any]] = httpx.get(
            f"{self.medic.url}/incidents", headers=headers, timeout=10
        ).json()
        return found

    def incident(self, incident_id: str) -> dict[str, Any]:
        headers = self.medic.user_headers()
        found: dict[str, Any] = httpx.get(
            f"{self.medic.url}/incidents/{incident_id}", headers=headers, timeout=10
        ).json()
        return found

    def finished(self, service: str) -> dict[str, Any] | None:
        for summary in self.incidents():
            if summary["service"] == service and summary["state"] == "escalated":
                return self.incident(summary["id"])
        return None

    def scraped_seconds(self, job: str) -> float:
        query = f'count_over_time(up{{job="{job}"}}[5m])'  # scraped every second
        answer = httpx.get(f"{self.prometheus}/api/v1/query", params={"query": query}).json()
        return max((float(r["value"][1]) for r in answer["data"]["result"]), default=0.0)

    def up(self) -> dict[str, str]:
        answer = httpx.get(f"{self.prometheus}/api/v1/query", params={"query": "up"}).json()
        return {r["metric"]["job"]: r["value"][1] for r in answer["data"]["result"]}


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    with node_exporter(tmp_path / "node") as node, shop(tmp_path / "shop") as app:
        medic = SlowStartingMedic(
            tmp_path / "medic",
            f"sqlite:///{tmp_path / 'medic' / 'medic.sqlite'}",
            MEDIC_PROMETHEUS__PRESET="node_exporter",
            MEDIC_PROMETHEUS__QUERIES=json.dumps(QUERIES),
            MEDIC_WEBHOOK_TOKENS=json.dumps({"alertmanager": TOKEN}),
            MEDIC_WATCHDOG__INTERVAL_SECONDS="5",
        )
        am_config = f"""
route:
  receiver: medic
  group_by: [alertname, job]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: medic
    webhook_configs:
      - url: {medic.url}/webhooks/alertmanager
        send_resolved: true
        http_config:
          authorization: {{type: Bearer, credentials: "{TOKEN}"}}
"""
        with alertmanager(tmp_path / "alertmanager", am_config) as am_url:
            workdir = tmp_path / "prometheus"
            workdir.mkdir()
            (workdir / "rules.yml").write_text(RULES)
            config = f"""
global: {{scrape_interval: 1s, evaluation_interval: 1s}}
rule_files: [{workdir / "rules.yml"}]
alerting:
  alertmanagers: [{{static_configs: [{{targets: ["{am_url.removeprefix("http://")}"]}}]}}]
scrape_configs:
  - job_name: node
    static_configs: [{{targets: ["{node.address}"]}}]
  - job_name: shop
    static_configs: [{{targets: ["{app.address}"]}}]
"""
            with prometheus(workdir, config) as prom_url:
                medic.env["MEDIC_PROMETHEUS__URL"] = prom_url
                with medic:
                    yield Stack(node, app, prom_url, medic)


def _evidence(incident: dict[str, Any], source: str) -> list[dict[str, Any]]:
    return [e for e in incident["diagnosis"]["evidence"] if e["source"] == source]


def test_a_real_instance_down_and_a_real_leak_become_honest_incidents(stack: Stack) -> None:
    both = {"node": "1", "shop": "1"}
    wait_until("Prometheus to scrape both targets", lambda: stack.up() == both)
    banner = stack.medic.log_path.read_text()
    assert "mode diagnose-and-propose (no cluster, no executor); no sandbox" in banner
    assert f"metrics:  prometheus {stack.prometheus} (query preset node_exporter)" in banner

    # `medic doctor` checks Prometheus, has it parse each query, counts series per service.
    doctor = subprocess.run(
        [sys.executable, "-m", "medic", "doctor", "--json", "--timeout", "60"],
        env=stack.medic.env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    checks = {i["name"]: i for i in json.loads(doctor.stdout)["integrations"]}
    assert checks["prometheus"]["ok"] and "ready" in checks["prometheus"]["detail"]
    assert (
        checks["topology"]["ok"] and "services from label job of up" in checks["topology"]["detail"]
    )
    assert checks["prometheus queries"]["ok"], checks["prometheus queries"]
    series = checks["prometheus series"]["detail"]
    assert "services node, shop" in series and "available_replicas: 2 of 2 services" in series
    # The host's real filesystems and load per core are read (the service has neither).
    assert "disk_usage_ratio: 1 of 2 services" in series, series
    assert "saturation: 1 of 2 services" in series, series
    assert "sandbox" not in checks

    # At least two of the diagnosis' 15 s steps of history, so that the diagnosis has
    # a little (too little) history to say so about, not none at all.
    wait_until("30 s of scrapes", lambda: stack.scraped_seconds("node") >= 30, timeout=120)
    stack.node.stop()  # break something real: InstanceDown
    for _ in range(4):  # and make the service hold 320 MB more
        httpx.get(f"{stack.shop.url}/leak", params={"mb": 80}, timeout=30)

    down = wait_until("the InstanceDown incident", lambda: stack.finished("node"), timeout=120)
    leak = wait_until("the ShopMemoryHigh incident", lambda: stack.finished("shop"), timeout=120)

    # The incident names the instance and carries the alert's own text and expression.
    assert down["title"].startswith("InstanceDown")
    alert = next(e for e in _evidence(down, "alert") if e["query"].startswith("signal"))
    address = stack.node.address
    assert alert["data"]["label:instance"] == address
    assert alert["data"]["annotation:summary"] == f"{address} of job node is down"
    assert alert["data"]["annotation:runbook_url"] == "https://runbooks.example/instance-down"
    assert alert["data"]["expression"] == 'up{job="node"} == 0'
    assert "/graph?g0.expr=" in alert["data"]["generator_url"]
    # ... re-evaluated over the incident window as a real series, with a link to it
    evaluated = next(e for e in _evidence(down, "alert") if e["query"] == 'up{job="node"} == 0')
    assert evaluated["data"]["series"] == 1 and evaluated["series"][0]["points"]
    assert evaluated["data"]["graph_url"].startswith(f"{stack.prometheus}/graph?g0.expr=up")
    # Every metrics evidence is the exact PromQL that ran.
    replicas = next(
        (e for e in _evidence(down, "metrics") if e["data"]["metric"] == "available_replicas"),
        None,
    )
    if replicas is None:
        # A query the gathering budget cut off (a loaded machine) is said, never silent.
        missing = down["diagnosis"]["missing"]
        assert any("available_replicas" in m or "no answer" in m for m in missing), missing
    else:
        assert replicas["query"] == 'sum(min_over_time(up{job="node"}[59s]))'
        assert replicas["data"]["promql"] == replicas["query"]
        assert {p["v"] for p in replicas["series"][0]["points"]} <= {0.0, 1.0}  # real `up`

    # A fresh Prometheus has minutes of history: said, and never a verdict on it.
    for incident in (down, leak):
        diagnosis = incident["diagnosis"]
        assert not diagnosis["conclusive"]
        assert "too little history: only" in diagnosis["summary"], diagnosis["summary"]
        assert any(m.startswith("history found: metrics:") for m in diagnosis["missing"])
        assert any("no change source" in m for m in diagnosis["missing"])
        assert [a["kind"] for a in incident["plan"]["immediate"]] == ["escalate"]
        assert incident["executions"] == []

    # Hosts get host commands: ssh to the scraped machine, never kubectl.
    (handed,) = down["plan"]["immediate"]
    host = stack.node.address.rsplit(":", 1)[0]
    assert handed["command"].startswith(f"ssh {host} 'uptime; free -m; df -h"), handed
    assert "kubectl" not in json.dumps(down["plan"])

    leak_alert = next(e for e in _evidence(leak, "alert") if e["query"].startswith("signal"))
    assert leak_alert["data"]["annotation:description"] == "shop's resident memory is over 250 MB"
    memory = next(
        e for e in _evidence(leak, "metrics") if e["data"]["metric"] == "memory_working_set_bytes"
    )
    assert memory["query"].startswith('max(max_over_time(process_resident_memory_bytes{job="shop"}')
    assert float(memory["data"]["min"]) > 10 * 2**20  # a real process's resident memory
    # The alert's expression, evaluated up to the diagnosis, shows what fired it.
    expr = leak_alert["data"]["expression"]  # as Prometheus prints it: ... > 2.5e+08
    assert expr.startswith('process_resident_memory_bytes{job="shop"} > ')
    evaluated = next(e for e in _evidence(leak, "alert") if e["query"] == expr)
    assert evaluated["series"][0]["points"][-1]["v"] > 250e6

    # No sandbox ever ran: no simulated cluster, no simulated service in any incident.
    assert not (stack.medic.data_dir / "sandbox").exists()
    services = {i["service"] for i in stack.incidents()}
    assert services <= {"node", "shop"}, services
    # The watchdog scanned the real series all along without failing a scan.
    log = stack.medic.log_path.read_text()
    assert "Exception encountered in background workflow" not in log, log[-3000:]
