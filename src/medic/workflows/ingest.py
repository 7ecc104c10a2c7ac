"""Signals in, incidents out: store durably, group, and start one workflow per incident.

Webhook requests go through an `IngestQueue`: one writer thread stores the signals of
every request waiting at that moment in one transaction (group commit), so the cost
of a commit is shared by a whole burst instead of paid per alert, and a request is
answered only once its alerts are committed. Workflows are started after that, and a
start that fails (the workflow engine is down) leaves the incident OPEN: it is retried
with the next batch and, at the latest, by `resume_orphans()` at the next start.

One alert the database refuses must not sink the others sharing its transaction: when
a batch fails for any reason but a transient one (the database down: every request
gets a 503 and its sender retries), each request is retried on its own, and the alerts
of a request that still fails one by one; an alert that fails alone is answered as
refused (`IngestResult.error`), the others are stored.
"""

from __future__ import annotations

import queue
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import datetime

from dbos import DBOS, SetWorkflowID

from medic.domain import Incident, IncidentState, Signal, TimelineEntry
from medic.domain.errors import MedicError, TransientError
from medic.log import get_logger
from medic.signals.grouping import (
    all_resolved,
    flapping,
    group_key,
    incident_title,
    recently_involved,
    topology_match,
)
from medic.store import Store
from medic.workflows import paging_steps
from medic.workflows.context import deps

__all__ = [
    "RESOLVED_TOPIC",
    "IngestQueue",
    "IngestResult",
    "ingest",
    "new_incident_id",
    "notify_resolved",
    "resume_orphans",
    "start_incident_workflow",
]

log = get_logger(__name__)

# The topic on which a waiting incident workflow hears that its alerts all resolved. It
# is the approval topic: the workflow waits on one topic, and re-reads the store.
RESOLVED_TOPIC = "approval"

_OPEN_STATES = [state for state in IncidentState if not state.terminal]

# States in which an incident has not acted yet, so its alerts resolving closes it.
_BEFORE_ACTION = frozenset(
    {IncidentState.OPEN, IncidentState.DIAGNOSING, IncidentState.AWAITING_APPROVAL}
)


@dataclass(frozen=True)
class IngestResult:
    signal_id: str
    created: bool
    incident_id: str | None
    new_incident: bool
    error: str | None = None  # why this alert alone could not be stored (then not stored)

    @classmethod
    def refused(cls, error: str) -> IngestResult:
        return cls("", False, None, False, error)


_GROUPING = threading.Lock()


def new_incident_id(now: datetime) -> str:
    return f"inc-{now:%Y%m%d}-{secrets.token_hex(3)}"


def ingest(signals: Sequence[Signal], raw: str | None, now: datetime) -> list[IngestResult]:
    """Store each signal (durably, deduplicated) and attach it to an incident.

    A redelivered signal changes nothing. A firing signal whose group has no open
    incident opens one; resolved signals only join the record. The caller starts the
    workflows of new incidents (`start_incident_workflow`), after this returns.
    """
    return _ingest_batch([(s, raw) for s in signals], now)


def _ingest_batch(items: Sequence[tuple[Signal, str | None]], now: datetime) -> list[IngestResult]:
    """Store and attach a batch with one write transaction: which signals are new is
    read first, their incidents are found (or opened), and then the new signals and
    their links are written together. Batches run one at a time, within a process and
    (on PostgreSQL) across the processes sharing the database: two overlapping scans,
    a scan and a webhook, or two replicas must not both open an incident for the same
    group, one of which would then never get its signal."""
    if deps().grouping.topology:
        # The call graph is read (at most once a minute) before taking the locks: a slow
        # cluster API must not hold up every webhook behind it.
        for namespace in sorted({s.namespace or deps().namespace for s, _ in items}):
            _TOPOLOGY.calls(namespace)
    with _GROUPING, deps().store.exclusive("grouping"):
        return _ingest_locked(items, now)


def _ingest_locked(items: Sequence[tuple[Signal, str | None]], now: datetime) -> list[IngestResult]:
    store = deps().store
    # A firing whose resolution is already stored (delivered first, or earlier in this
    # batch) is over: it is kept, but opens and joins no incident that would then wait
    # forever for an alert that has ended.
    keys = [signal.dedup_key for signal, _ in items]
    resolutions = [_resolution_key(signal) for signal, _ in items if signal.firing]
    known = store.signal_ids([*keys, *resolutions])
    groups = _Groups(store, now)
    ids = [uuid.uuid4().hex for _ in items]
    seen: set[str] = set(known)
    links: list[tuple[str, str, TimelineEntry, str] | None] = []
    assigned: dict[str, tuple[str | None, bool]] = {}
    for signal_id, (signal, _) in zip(ids, items, strict=True):
        if signal.dedup_key in seen:
            links.append(None)
            continue
        seen.add(signal.dedup_key)
        if signal.firing and _resolution_key(signal) in seen:
            log.info("signal.already_resolved", source=str(signal.source), name=signal.name)
            assigned[signal_id] = (None, False)
            links.append(None)
            continue
        incident, is_new = groups.incident_for(signal)
        assigned[signal_id] = (incident.id if incident else None, is_new)
        links.append(
            (incident.id, signal_id, _entry(signal, signal_id, now), f"signal:{signal_id}")
            if incident is not None
            else None
        )
    refused: dict[int, str] = {}
    recorded = store.record_signals(items, links, ids, refused=refused)
    duplicates = store.incidents_of_signals(
        [sid for sid, created in recorded if sid and not created]
    )
    results: list[IngestResult] = []
    for index, (signal_id, created) in enumerate(recorded):
        if index in refused:
            name = items[index][0].name[:80]
            log.warning("ingest.alert_refused", name=name, error=refused[index])
            results.append(IngestResult.refused(f"not stored: {refused[index][:300]}"))
        elif created:
            incident_id, is_new = assigned.get(signal_id, (None, False))
            results.append(IngestResult(signal_id, True, incident_id, is_new))
        else:
            results.append(IngestResult(signal_id, False, duplicates.get(signal_id), False))
    return results


def _resolution_key(signal: Signal) -> str:
    return f"{signal.source}:{signal.fingerprint}:{signal.starts_at.isoformat()}:resolved"


class _Groups:
    """Which incident each signal goes to, for one batch (rules: `signals.grouping`):
    the open incidents are read once per batch (not once per alert), the recently
    closed ones and the call graph only if needed."""

    def __init__(self, store: Store, now: datetime) -> None:
        self._store = store
        self._now = now
        self._rules = deps().grouping
        self._open: dict[str, Incident] | None = None
        self._joined: dict[str, Incident] = {}
        self._history: list[Incident] | None = None
        self._alerts_of: dict[str, set[tuple[str, str]]] | None = None
        self._members: dict[str, set[str]] = {}  # services of candidate incidents' signals

    def incident_for(self, signal: Signal) -> tuple[Incident | None, bool]:
        key = group_key(signal, self._rules)
        open_now = self._open_incidents()
        if not signal.firing:
            # A resolution belongs where its alert's firing delivery went (which may be
            # another group's incident, joined by topology), else to its group's.
            return self._where_it_fired(signal) or open_now.get(key) or self._closed(key), False
        if key in open_now:
            return open_now[key], False
        if key in self._joined:
            return self._joined[key], False
        joined = self._holding(signal) or self._by_topology(signal)
        if joined is None:
            joined = self._closed(key, signal)
        if joined is None:
            joined = self._aftermath(signal)
        if joined is not None:
            self._joined[key] = joined
            if signal.service:
                self._members.setdefault(joined.id, set()).add(signal.service)
            return joined, False
        incident = _open_incident(self._store, key, signal, self._now)
        open_now[key] = incident
        return incident, True

    def _where_it_fired(self, signal: Signal) -> Incident | None:
        incident_id = self._store.incident_of_alert(str(signal.source), signal.fingerprint)
        return self._store.get_incident(incident_id) if incident_id else None

    def _holding(self, signal: Signal) -> Incident | None:
        """The open incident this alert already joined (by topology, say): a finding
        reported again, however old that incident is, is no new failure."""
        incident_id = self._store.incident_of_alert(str(signal.source), signal.fingerprint)
        if incident_id is None:
            return None
        return next((i for i in self._open_incidents().values() if i.id == incident_id), None)

    def _open_incidents(self) -> dict[str, Incident]:
        if self._open is None:
            self._open = {}
            # Newest first: the newest open incident of a group is the one it joins.
            for incident in self._store.incidents_in(_OPEN_STATES):
                self._open.setdefault(incident.group_key, incident)
        return self._open

    def _by_topology(self, signal: Signal) -> Incident | None:
        open_now = self._open_incidents()
        if not self._rules.topology or not signal.service or not open_now:
            return None
        namespace = signal.namespace or deps().namespace
        calls = _TOPOLOGY.calls(namespace)
        newest_first = sorted(open_now.values(), key=lambda i: i.opened_at, reverse=True)
        candidates = [
            i
            for i in newest_first
            if i.namespace == namespace
            and i.service
            # the same service's incident at any time; a neighbour's only during the storm
            # (one that began then, however late the finding about it arrives)
            and (
                i.service == signal.service
                or self._now - i.opened_at < self._rules.storm
                or abs(signal.starts_at - i.opened_at) < self._rules.storm
            )
        ]
        if not candidates:
            return None
        unknown = [i.id for i in candidates if i.id not in self._members]
        if unknown:
            self._members.update(self._store.services_of(unknown))
        incident = topology_match(signal, namespace, candidates, calls, self._members)
        if incident is not None:
            log.info(
                "incident.joined_by_topology",
                incident_id=incident.id,
                service=signal.service,
                incident_service=incident.service,
            )
        return incident

    def _closed(self, key: str, signal: Signal | None = None) -> Incident | None:
        history = self._closed_incidents()
        if signal is None:
            return flapping(key, history, self._now, self._rules)
        alert = (str(signal.source), signal.fingerprint)
        fetched: dict[str, set[tuple[str, str]]] = {}

        def had_this_alert(incident: Incident) -> bool:
            # Read only when the group has recent incidents to count (rare, and once).
            if not fetched:
                mine = [i.id for i in history if i.group_key == key]
                fetched.update(self._store.alerts_of(mine[: max(self._rules.flap_limit, 1)]))
            return alert in fetched.get(incident.id, set())

        return flapping(key, history, self._now, self._rules, had_this_alert)

    def _closed_incidents(self) -> list[Incident]:
        if self._history is None:
            self._history = [i for i in self._store.list_incidents(limit=200) if i.state.terminal]
        return self._history

    def _aftermath(self, signal: Signal) -> Incident | None:
        if self._alerts_of is None:
            window = self._rules.window
            recent = [i for i in self._closed_incidents() if self._now - i.updated_at < window]
            self._alerts_of = self._store.alerts_of([i.id for i in recent])
        return recently_involved(
            signal, self._closed_incidents(), self._alerts_of, self._now, self._rules
        )


class _Topology:
    """The call graph per namespace, read from the cluster at most once a minute: the
    ingestion path must not call the cluster for every alert of a storm."""

    TTL_S = 60.0

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._graphs: dict[tuple[int, str], tuple[float, dict[str, tuple[str, ...]]]] = {}

    def calls(self, namespace: str) -> dict[str, tuple[str, ...]]:
        cluster = deps().cluster
        key = (id(cluster), namespace)
        with self._lock:
            cached = self._graphs.get(key)
            if cached is not None and time.monotonic() - cached[0] < self.TTL_S:
                return cached[1]
        try:
            graph = {s.name: tuple(s.calls) for s in cluster.services(namespace)}
        except Exception as exc:  # noqa: BLE001 - without a topology, group by labels only
            log.warning("grouping.topology_unavailable", namespace=namespace, error=str(exc))
            graph = {}
        with self._lock:
            self._graphs[key] = (time.monotonic(), graph)
        return graph


_TOPOLOGY = _Topology()


def _entry(signal: Signal, signal_id: str, now: datetime) -> TimelineEntry:
    return TimelineEntry(
        at=now,
        kind="signal",
        message=f"{signal.source} {'firing' if signal.firing else 'resolved'}: {signal.name}",
        actor=str(signal.source),
        data={"signal_id": signal_id, "service": signal.service},
    )


def _open_incident(store: Store, key: str, signal: Signal, now: datetime) -> Incident:
    incident = store.create_incident(
        Incident(
            id=new_incident_id(now),
            title=incident_title(signal),
            state=IncidentState.OPEN,
            opened_at=now,
            updated_at=now,
            group_key=key,
            service=signal.service,
            namespace=signal.namespace or deps().namespace,
            severity=signal.severity,
        )
    )
    store.add_timeline(
        incident.id,
        TimelineEntry(at=now, kind="incident", message=f"incident opened: {incident.title}"),
        key="opened",
    )
    log.info("incident.opened", incident_id=incident.id, group_key=key)
    return incident


def start_incident_workflow(incident_id: str) -> None:
    """Start (or find already started) the incident's workflow; its id is the incident id."""
    from medic.workflows.incident import incident_workflow

    with SetWorkflowID(incident_id):
        DBOS.start_workflow(incident_workflow, incident_id)


def notify_resolved(incident_ids: Sequence[str]) -> list[str]:
    """Wake the workflow of each incident whose alerts have now all resolved before it
    acted; it re-checks the store and closes as self-resolved. Returns those woken."""
    store = deps().store
    woken = []
    for incident_id in incident_ids:
        incident = store.get_incident(incident_id)
        ended = all_resolved(store.signals_of(incident_id))
        if incident.state is IncidentState.ESCALATED and ended:
            paging_steps.resolve_page_later(incident_id, "every alert of this incident resolved")
        if incident.state not in _BEFORE_ACTION or not all_resolved(store.signals_of(incident_id)):
            continue
        store.add_timeline(
            incident_id,
            TimelineEntry(
                at=deps().clock.now(),
                kind="signal",
                message="every alert of this incident has resolved",
            ),
            key="alerts-resolved",
        )
        if incident.state is IncidentState.OPEN:
            continue  # no workflow waits yet; it checks before acting
        DBOS.send(
            incident_id,
            {"resolved": True},
            topic=RESOLVED_TOPIC,
            idempotency_key=f"resolved:{incident_id}:{len(store.signals_of(incident_id))}",
        )
        woken.append(incident_id)
    return woken


def resume_orphans() -> int:
    """Start the workflow of any incident that was opened but whose start was lost."""
    started = 0
    for incident in deps().store.incidents_in([IncidentState.OPEN]):
        start_incident_workflow(incident.id)
        started += 1
    return started


@dataclass
class _Job:
    signals: Sequence[Signal]
    raw: str | None
    future: Future[list[IngestResult]] = field(default_factory=Future)


class IngestQueue:
    """Group commit for webhook requests: `submit` returns a future resolved once the
    request's signals are committed (or failed with the store's error)."""

    def __init__(self, now: Callable[[], datetime], max_batch: int = 2000) -> None:
        self._now = now
        self._max_batch = max_batch
        self._jobs: queue.Queue[_Job | None] = queue.Queue()
        self._unstarted: set[str] = set()
        self._thread = threading.Thread(target=self._run, name="medic-ingest", daemon=True)
        self._thread.start()

    def submit(self, signals: Sequence[Signal], raw: str | None) -> Future[list[IngestResult]]:
        job = _Job(signals, raw)
        self._jobs.put(job)
        return job.future

    def close(self) -> None:
        self._jobs.put(None)
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while True:
            first = self._jobs.get()
            if first is None:
                return
            jobs: list[_Job] = []
            size = 0
            job: _Job | None = first
            while job is not None:
                # A request that gave up waiting (cancelled) is not stored: it got a 503.
                if job.future.set_running_or_notify_cancel():
                    jobs.append(job)
                    size += len(job.signals)
                if size >= self._max_batch:
                    break
                try:
                    job = self._jobs.get_nowait()
                except queue.Empty:
                    break
                if job is None:
                    self._jobs.put(None)  # finish this batch, then stop
            if jobs:
                self._answer(jobs)

    def _answer(self, jobs: list[_Job]) -> None:
        try:
            self._process(jobs)
        except Exception as exc:  # the writer thread must outlive any batch
            log.exception("ingest.failed", requests=len(jobs))
            for job in jobs:
                if not job.future.done():
                    job.future.set_exception(TransientError(f"alerts not stored: {exc}"))

    def _process(self, jobs: list[_Job]) -> None:
        # The body as received is kept once, with its request's first alert, not once per
        # alert: a storm of 100-alert notifications would otherwise store each 100 times.
        items = [
            (signal, job.raw if index == 0 else None)
            for job in jobs
            for index, signal in enumerate(job.signals)
        ]
        try:
            results = self._isolated(jobs, items)
        except TransientError as exc:
            for job in jobs:
                job.future.set_exception(exc)
            return
        offset = 0
        for job in jobs:
            job.future.set_result(results[offset : offset + len(job.signals)])
            offset += len(job.signals)
        # After the answers: the alerts are stored, the rest can be redone from the store.
        self._unstarted.update(r.incident_id for r in results if r.new_incident and r.incident_id)
        self._start_workflows()
        resolved = {
            r.incident_id
            for (signal, _), r in zip(items, results, strict=True)
            if r.created and r.incident_id and not signal.firing
        }
        if resolved:
            self._notify(sorted(resolved))
        self._aftermath(sorted({r.incident_id for r in results if r.created and r.incident_id}))

    def _isolated(
        self, jobs: list[_Job], items: list[tuple[Signal, str | None]]
    ) -> list[IngestResult]:
        """The results of the batch; if it fails, of each request alone, and of each
        alert alone in a request that fails. TransientError: the whole batch waits, as
        when every alert failed alone for a reason other than the database refusing it
        (a fault of medic's, not of the alerts: refusing them all would lose them)."""
        try:
            return _ingest_batch(items, self._now())
        except TransientError:
            raise
        except Exception as exc:  # noqa: BLE001 - any failure is isolated, then answered
            log.warning("ingest.batch_failed", alerts=len(items), error=str(exc)[:500])
        faults: list[Exception] = []
        results: list[IngestResult] = []
        offset = 0
        for job in jobs:
            mine = items[offset : offset + len(job.signals)]
            offset += len(job.signals)
            if len(jobs) > 1:
                try:
                    results.extend(_ingest_batch(mine, self._now()))
                    continue
                except TransientError:
                    raise
                except Exception as exc:  # noqa: BLE001 - this request's alerts one by one
                    log.warning("ingest.request_failed", alerts=len(mine), error=str(exc)[:500])
            results.extend(self._alone(item, faults) for item in mine)
        if all(r.error for r in results) and any(not isinstance(f, MedicError) for f in faults):
            raise TransientError(f"alerts not stored: {faults[0]}") from faults[0]
        return results

    def _alone(self, item: tuple[Signal, str | None], faults: list[Exception]) -> IngestResult:
        try:
            return _ingest_batch([item], self._now())[0]
        except TransientError:
            raise
        except Exception as exc:  # noqa: BLE001 - this alert alone is refused
            faults.append(exc)
            signal = item[0]
            log.warning("ingest.alert_refused", name=signal.name[:80], error=str(exc)[:500])
            return IngestResult.refused(f"not stored: {str(exc)[:300]}")

    def _start_workflows(self) -> None:
        for incident_id in sorted(self._unstarted):
            try:
                start_incident_workflow(incident_id)
            except Exception as exc:  # noqa: BLE001 - the engine's errors are not ours to list
                log.warning("workflow.start_failed", incident_id=incident_id, error=str(exc))
                return  # the engine is down: retry with the next batch or at restart
            self._unstarted.discard(incident_id)

    def _aftermath(self, incident_ids: list[str]) -> None:
        from medic.workflows.aftermath import after_change

        try:
            after_change(incident_ids)
        except Exception as exc:  # noqa: BLE001 - the record is stored; only the write-up waits
            log.warning("incident.aftermath_failed", error=str(exc), incidents=incident_ids)

    def _notify(self, incident_ids: list[str]) -> None:
        try:
            notify_resolved(incident_ids)
        except Exception as exc:  # noqa: BLE001 - the workflow re-checks before acting
            log.warning("incident.resolve_notice_failed", error=str(exc), incidents=incident_ids)
