"""Writing the post-mortem down: the Markdown file and its charts in the post-mortem
folder, the record in the store, and a page in each configured `DocStore`.

Called whenever an incident ends and again whenever it changes after (an escalated
incident's alerts resolve, a signal joins it): each call re-renders from the record and
replaces the same file, the same chart files and the same published pages.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Protocol

from medic.domain import (
    Approval,
    Diagnosis,
    Execution,
    Incident,
    MedicError,
    Plan,
    Postmortem,
    Signal,
    TimelineEntry,
    Verification,
)
from medic.ports import DocStore, MetricsSource
from medic.scribe.charts import reread
from medic.scribe.impact import ended_at
from medic.scribe.postmortem import render_postmortem
from medic.scribe.record import PostmortemRecord, Slo

__all__ = ["IncidentRecords", "Published", "Scribe", "gather"]


class IncidentRecords(Protocol):
    """What the scribe reads of the store (medic.store.Store is one)."""

    def get_incident(self, incident_id: str) -> Incident: ...
    def timeline(self, incident_id: str) -> list[TimelineEntry]: ...
    def diagnosis(self, incident_id: str) -> Diagnosis | None: ...
    def plan(self, incident_id: str) -> Plan | None: ...
    def approvals(self, incident_id: str) -> list[Approval]: ...
    def executions(self, incident_id: str) -> list[Execution]: ...
    def verification(self, incident_id: str) -> Verification | None: ...
    def signals_of(self, incident_id: str) -> list[Signal]: ...
    def postmortem(self, incident_id: str) -> Postmortem | None: ...
    def save_postmortem(self, postmortem: Postmortem) -> None: ...


@dataclass(frozen=True)
class Published:
    postmortem: Postmortem
    failures: tuple[str, ...]  # "confluence: why", one per publisher that failed


def gather(store: IncidentRecords, incident_id: str) -> PostmortemRecord:
    """The incident's record as the store holds it now."""
    return PostmortemRecord(
        incident=store.get_incident(incident_id),
        timeline=tuple(store.timeline(incident_id)),
        diagnosis=store.diagnosis(incident_id),
        plan=store.plan(incident_id),
        approvals=tuple(store.approvals(incident_id)),
        executions=tuple(store.executions(incident_id)),
        verification=store.verification(incident_id),
        signals=tuple(store.signals_of(incident_id)),
    )


@dataclass(frozen=True)
class Scribe:
    """Writes and publishes post-mortems; one per process, built by the composition root."""

    store: IncidentRecords
    directory: Path
    metrics: MetricsSource | None = None
    namespace: str = "default"
    publishers: Sequence[DocStore] = ()
    slos: dict[str, Slo] | None = None
    time_scale: float = 1.0
    base_url: str = "http://127.0.0.1:8700"

    def record(self, incident_id: str) -> PostmortemRecord:
        previous = self.store.postmortem(incident_id)
        record = replace(
            gather(self.store, incident_id),
            slos=dict(self.slos or {}),
            time_scale=self.time_scale,
            console_url=f"{self.base_url}/ui/incidents/{incident_id}",
            published=dict(previous.links) if previous else {},
        )
        if self.metrics is not None:
            namespace = record.incident.namespace or self.namespace
            series = reread(record, self.metrics, namespace, ended_at(record))
            record = replace(record, series=series)
        return record

    def write(self, incident_id: str) -> Published:
        """Render, write the file (same path every time), publish, save the record."""
        record = self.record(incident_id)
        path = self.directory / f"{incident_id}.md"
        written = self._write(record, path)
        links = dict(record.published)
        failures: list[str] = []
        for publisher in self.publishers:
            try:
                links[publisher.name] = publisher.publish(written)
            except MedicError as exc:
                failures.append(f"{publisher.name}: {exc}")
        if links != dict(record.published):
            # The document names where it was published: render once more with the links.
            written = self._write(replace(record, published=links), path)
        self.store.save_postmortem(written)
        return Published(written, tuple(failures))

    def _write(self, record: PostmortemRecord, path: Path) -> Postmortem:
        charts_dir = path.with_suffix("")
        rendered = render_postmortem(record, chart_dir=f"{charts_dir.name}/")
        _atomically(path, rendered.markdown)
        for name, svg in rendered.charts.items():
            _atomically(charts_dir / name, svg)
        return Postmortem(
            incident_id=record.incident.id,
            title=f"Post-mortem: {record.incident.title}",
            markdown=rendered.markdown,
            path=str(path),
            charts=dict(rendered.charts),
            links=dict(record.published),
        )


def _atomically(path: Path, body: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(body, encoding="utf-8")
    tmp.replace(path)
