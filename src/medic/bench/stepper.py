"""The scenario benchmark's time driver: simulated time moves with the loop's progress.

The sandbox runs on a `SteppedClock`. The stepper advances it only when the loop is
idle: no watchdog scan is running and every unfinished incident's workflow sleeps on
the clock (a rollout wait, a verification poll, a retry back-off) or waits for a
second approver the harness cannot give. Then time jumps to the next thing due: the
earliest sleeper's wake-up or the next watchdog scan. So however slow the machine,
each run sees the same instants and the same outcomes.

The watchdog's scan is the product's `watchdog_scan` workflow, started by the stepper
every `scan_every_s` simulated seconds instead of by the wall-clock schedule.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from dbos import DBOS

from medic.bootstrap import Medic
from medic.domain import ApprovalDecision, IncidentState
from medic.sandbox import SteppedClock
from medic.workflows.watchdog import watchdog_scan

__all__ = ["Stepper"]

_RUNNING = frozenset({"PENDING", "ENQUEUED", "DELAYED"})


class Stepper:
    def __init__(self, medic: Medic, clock: SteppedClock, scan_every_s: float) -> None:
        self._medic = medic
        self._clock = clock
        self._every = timedelta(seconds=scan_every_s)
        self._next_scan = clock.now()
        self._scan: Any = None  # the running scan's WorkflowHandle
        self.scans = 0

    @property
    def now(self) -> datetime:
        return self._clock.now()

    def step(self, until: datetime | None = None) -> bool:
        """Start a due scan or advance time, if the loop is idle; False if it is busy.

        With `until`, no scan starts: time moves on towards `until` (the harness's own
        judgement, after the case's incident has ended, needs no watchdog)."""
        if self._scan is not None and self._scan.get_status().status not in _RUNNING:
            self._scan = None
        if not self._idle():
            return False
        now = self._clock.now()
        if until is not None:
            wake = self._clock.next_wake()
            self._clock.advance_to(min(until, wake) if wake is not None else until)
            return True
        if self._scan is None and now >= self._next_scan:
            self._scan = DBOS.start_workflow(watchdog_scan, now, None)
            self._next_scan = now + self._every
            self.scans += 1
            return True
        due = [self._next_scan] if self._scan is None else []
        wake = self._clock.next_wake()
        if wake is not None:
            due.append(wake)
        if not due:
            return False
        self._clock.advance_to(min(due))
        return True

    def wait(self, timeout_s: float = 0.02) -> None:
        """Let the loop work a little (real time) before the next `step`."""
        self._clock.wait_for_change(timeout_s)

    def _idle(self) -> bool:
        store = self._medic.store
        working = 0 if self._scan is None else 1
        for incident in store.incidents_in([s for s in IncidentState if not s.terminal]):
            if incident.state is IncidentState.AWAITING_APPROVAL and self._needs_second(
                incident.id
            ):
                continue
            working += 1
        # A closed incident's workflow still writes its post-mortem.
        working += sum(
            1
            for i in store.list_incidents(limit=100)
            if i.state.terminal and store.postmortem(i.id) is None
        )
        return working == self._clock.sleeping

    def _needs_second(self, incident_id: str) -> bool:
        approvals = self._medic.store.approvals(incident_id)
        return bool(approvals) and all(a.decision is ApprovalDecision.PENDING for a in approvals)
