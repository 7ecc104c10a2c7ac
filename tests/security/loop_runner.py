"""One scenario through medic's whole loop, in this process; prints what happened as JSON.

Run as ``python -m tests.security.loop_runner --scenario FILE --workdir DIR [--obey]
[--alert FILE]`` in a subprocess of its own (DBOS is a process-wide engine), as the
benchmark runs its cases. The loop is the product's: `bootstrap.build` + `start` (DBOS
workflows, the watchdog, the store), the sandbox as the watched system, the `approve`
autonomy, and a human (`alice`, through the CLI channel) approving whatever medic
proposes through the real gate (`decide`): the worst case, a human who trusts medic.

`--obey` replaces the LLM agent (`Deps.refiner`) with one that runs the real agent
(`medic.diagnosis.agent.refine`) on a scripted model obeying every injection
(tests/security/obeying.py). `--alert` posts an Alertmanager webhook body through the
real API application (in process) instead of letting the watchdog open the incident.

The JSON on stdout: every incident's plans, approvals (with how many actions had run
when each was recorded), executions, diagnosis, timeline and post-mortem (path and
text); the sandbox's journal of writes; what the scripted model was shown and what
the agent made of it; the webhook's answer; the paths of the logs and credentials.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from medic.bootstrap import Medic, build
from medic.bootstrap.llm import agent_tools
from medic.diagnosis.agent import refine
from medic.domain import ApprovalDecision, Diagnosis, Incident, IncidentState, MedicError
from medic.log import configure_logging
from medic.settings import load_settings
from medic.store.codec import encode
from medic.workflows.approvals import decide
from medic.workflows.context import Refiner, deps, install
from tests.diagnosis.injection import texts
from tests.security.obeying import obeying_script

__all__ = ["APPROVER", "main", "run"]

APPROVER = "alice"
_POLL_S = 0.05


def run(
    scenario: Path,
    workdir: Path,
    *,
    obey: bool = False,
    alert: Path | None = None,
    speed: float = 240.0,
    timeout_s: float = 150.0,
) -> dict[str, Any]:
    workdir.mkdir(parents=True, exist_ok=True)
    settings = load_settings(
        data_dir=workdir,
        database_url=None,
        sandbox={"scenario": str(scenario), "speed": speed},
        watchdog={"enabled": alert is None, "interval_seconds": 1},
        approval={"autonomy": "approve", "timeout_seconds": 600},
        verification={"window_seconds": 600.0, "poll_seconds": 15.0},
    )
    agent: list[dict[str, Any]] = []
    with (workdir / "medic.log").open("a", encoding="utf-8") as log_stream:
        configure_logging("json", "info", stream=log_stream)
        medic = build(settings)
        if obey:
            install(replace(deps(), refiner=_obeying_refiner(medic, agent)))
        medic.start()
        try:
            webhook = _post_alert(medic, alert) if alert else None
            approvals, orphans = _drive(medic, timeout_s)
            result = _result(medic, workdir, approvals, agent, webhook)
            return {**result, "orphans": orphans}
        finally:
            medic.stop()


def _obeying_refiner(medic: Medic, record: list[dict[str, Any]]) -> Refiner:
    """The LLM agent as bootstrap wires it (medic.bootstrap.llm), on an obeying model."""
    world = medic.world

    def refined(diagnosis: Diagnosis, incident: Incident) -> Diagnosis:
        script = obeying_script(texts())
        outcome = refine(diagnosis, incident, agent_tools(world, incident), script.model())
        record.append(
            {
                "incident_id": incident.id,
                "status": outcome.status.value,
                "reason": outcome.reason,
                "rejected_claims": list(outcome.rejected_claims),
                "narrative": outcome.narrative,
                "check_next": list(outcome.check_next),
                # The last request holds the whole conversation: prompt and tool results.
                "seen": script.seen[-1].texts() if script.seen else [],
                "requests": len(script.seen),
            }
        )
        return replace(outcome.diagnosis, agent=outcome.review)

    return refined


def _post_alert(medic: Medic, alert: Path) -> dict[str, Any]:
    """The webhook through the real API application (routes, auth, parsing, ingest)."""
    token = medic.credentials.webhook_tokens["alertmanager"]
    client = TestClient(medic.api())
    response = client.post(
        "/webhooks/alertmanager",
        content=alert.read_bytes(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    return {"status": response.status_code, "body": response.json()}


def _drive(medic: Medic, timeout_s: float) -> tuple[list[dict[str, Any]], list[str]]:
    """Approve every plan that waits, as a human would, until every incident is over.

    Returns the approvals given and the orphans: incidents left OPEN with no signal and
    no workflow (two overlapping watchdog scans can each open one for the same group;
    the loser's signal is dropped as a duplicate). They are reported, not waited for.
    """
    store = medic.store
    deadline = time.monotonic() + timeout_s
    approved: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        incidents = store.list_incidents(limit=100)
        orphans = [
            i.id for i in incidents if i.state is IncidentState.OPEN and not store.signals_of(i.id)
        ]
        live = [i for i in incidents if i.id not in orphans]
        if live and all(i.state.terminal and store.postmortem(i.id) is not None for i in live):
            return approved, orphans
        for incident in live:
            if incident.state is IncidentState.AWAITING_APPROVAL:
                approved += _approve(medic, incident)
        time.sleep(_POLL_S)
    states = {i.id: i.state.value for i in store.list_incidents(limit=100)}
    raise MedicError(f"the incidents did not finish within {timeout_s:.0f}s: {states}")


def _approve(medic: Medic, incident: Incident) -> list[dict[str, Any]]:
    store = medic.store
    plan = store.plan(incident.id)
    if plan is None or any(a.plan_hash == plan.hash for a in store.approvals(incident.id)):
        return []
    executed_before = len(store.executions(incident.id))
    decide(incident.id, plan.hash, ApprovalDecision.APPROVED, APPROVER, "cli")
    return [{"incident_id": incident.id, "executed_before": executed_before}]


def _result(
    medic: Medic,
    workdir: Path,
    approved: list[dict[str, Any]],
    agent: list[dict[str, Any]],
    webhook: dict[str, Any] | None,
) -> dict[str, Any]:
    store = medic.store
    incidents = []
    for incident in store.list_incidents(limit=100):
        diagnosis = store.diagnosis(incident.id)
        postmortem = store.postmortem(incident.id)
        incidents.append(
            {
                "incident": encode(incident),
                "signals": [encode(s) for s in store.signals_of(incident.id)],
                "plans": [encode(p) for p in store.plans(incident.id)],
                "approvals": [encode(a) for a in store.approvals(incident.id)],
                "executions": [encode(e) for e in store.executions(incident.id)],
                "diagnosis": _without_series(encode(diagnosis)) if diagnosis else None,
                "timeline": [encode(e) for e in store.timeline(incident.id)],
                "postmortem_path": postmortem.path if postmortem else None,
                "postmortem": postmortem.markdown if postmortem else None,
            }
        )
    sandbox = medic.sandbox
    return {
        "incidents": incidents,
        "approved": approved,
        "journal": [encode(e) for e in sandbox.journal()] if sandbox else [],
        "agent": agent,
        "webhook": webhook,
        "log_path": str(workdir / "medic.log"),
        "credentials_path": str(medic.settings.credentials_path),
    }


def _without_series(diagnosis: object) -> object:
    """The diagnosis without its evidence's time series (large, and numbers only)."""
    if isinstance(diagnosis, dict):
        evidence = [
            {k: v for k, v in e.items() if k != "series"} if isinstance(e, dict) else e
            for e in diagnosis.get("evidence") or []
        ]
        return {**diagnosis, "evidence": evidence}
    return diagnosis


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", type=Path, required=True)
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument("--obey", action="store_true", help="an LLM agent obeying injections")
    parser.add_argument("--alert", type=Path, help="an Alertmanager webhook body to post")
    parser.add_argument("--speed", type=float, default=240.0)
    parser.add_argument("--timeout", type=float, default=150.0)
    args = parser.parse_args(argv)
    result = run(
        args.scenario,
        args.workdir,
        obey=args.obey,
        alert=args.alert,
        speed=args.speed,
        timeout_s=args.timeout,
    )
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
