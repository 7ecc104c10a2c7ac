"""`LogSource` over the simulated pods: per pod and step a request summary, routine
warnings now and then, what its faults say and how its calls to dependencies fail,
and the lines the scenario's `log` events plant.

Every line is derived from the pods' state at a step, so logs agree with the
metrics: a GC pause line carries the heap size the memory series shows, an OOM kill
appears when the restart counter goes up.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from medic.domain.cluster import LogLine
from medic.sandbox.edges import datastore_of
from medic.sandbox.faultlogs import crash_lines
from medic.sandbox.faultview import PodView
from medic.sandbox.logtemplates import call_lines, routine_lines
from medic.sandbox.pods import RESTART_DOWN, PodState, pods_at
from medic.sandbox.simulation import Simulation, Snapshot
from medic.sandbox.telemetry import Sample

__all__ = ["SimLogs"]


class SimLogs:
    def __init__(self, simulation: Simulation) -> None:
        self._sim = simulation

    def lines(
        self,
        namespace: str,
        service: str,
        start: datetime,
        end: datetime,
        limit: int,
    ) -> list[LogLine]:
        """The newest `limit` lines in [start, end], oldest first (like `kubectl logs --tail`)."""
        scenario = self._sim.scenario
        if namespace != scenario.namespace or not scenario.has_service(service) or limit <= 0:
            return []
        snap = self._sim.current()
        timeline = snap.world.deployments[service]
        if not timeline.has_pods:
            return []
        step = scenario.step
        first = max(self._sim.offset(start), -scenario.history)
        last = min(self._sim.offset(end), snap.now)
        k_first, k_last = int(first // step), int(last // step)
        out: list[LogLine] = []
        k = k_last
        # Walk back from the newest step so a small limit reads little.
        while k >= k_first and len(out) < limit * 4:
            out += self._step_lines(snap, service, k)
            k -= 1
        lines = sorted(
            (line for line in out if start <= line.at <= end), key=lambda x: (x.at, x.pod)
        )
        return lines[-limit:]

    def _step_lines(self, snap: Snapshot, service: str, k: int) -> list[LogLine]:
        step = self._sim.scenario.step
        t = k * step
        now = {p.name: p for p in pods_at(snap.world, service, t)}
        before = {p.name: p for p in pods_at(snap.world, service, t - step)}
        sample = snap.telemetry.at_step(k)[service]
        running = [p for p in now.values() if p.running]
        out: list[LogLine] = []
        for pod in now.values():
            out += self._lifecycle(service, pod, before.get(pod.name), t - step, t)
        for pod in running:
            out += self._activity(snap, service, pod, sample, len(running), t)
        if running:
            out += self._planted(service, min(p.name for p in running), t - step, t)
        return out

    def _planted(self, service: str, pod: str, since: float, t: float) -> list[LogLine]:
        """The scenario's `log` events of `service` due in (since, t], written by `pod`."""
        out = []
        for event in self._sim.scenario.timeline:
            planted = event.log
            if planted is None or planted.service != service or event.at > t:
                continue
            n = max(0, math.floor((since - event.at) / planted.every) + 1)
            while event.at + n * planted.every <= t:
                at = event.at + n * planted.every
                out.append(self._line(at, service, pod, planted.message, planted.level))
                n += 1
        return out

    def _lifecycle(
        self, service: str, pod: PodState, before: PodState | None, since: float, t: float
    ) -> list[LogLine]:
        out = []
        version = pod.generation.template.version
        if before is not None and pod.restarts > before.restarts:
            killed = pod.container_started - RESTART_DOWN
            out.append(
                self._line(
                    killed,
                    service,
                    pod.name,
                    f"fatal error: runtime: out of memory (limit {pod.limit_mb:.0f}MB); "
                    "container OOMKilled",
                    "error",
                )
            )
        if since < pod.container_started <= t and pod.crash_reason is not None:
            view = PodView(service, pod.name, pod.memory_mb, pod.limit_mb, node=pod.node)
            for level, message in crash_lines(view, pod.crash_reason):
                out.append(
                    self._line(pod.container_started + 0.5, service, pod.name, message, level)
                )
        if since < pod.container_started <= t:
            note = f" after {pod.restarts} restarts" if pod.restarts else ""
            out.append(
                self._line(
                    pod.container_started,
                    service,
                    pod.name,
                    f"starting {service} {version} on {pod.node}{note}",
                    "info",
                )
            )
        return out

    def _activity(
        self, snap: Snapshot, service: str, pod: PodState, sample: Sample, pods: int, t: float
    ) -> list[LogLine]:
        step, seed = self._sim.scenario.step, self._sim.scenario.seed
        k = round(t / step)
        own = next((p for p in sample.pods if p.pod == pod.name), None)
        rps = own.request_rate if own else sample.request_rate / max(pods, 1)
        latency = own.latency_p99_seconds if own else sample.latency_p99_seconds
        ratio = own.error_ratio if own else sample.error_ratio
        handled = round(rps * step)
        errors = round(handled * ratio)
        at = t + 0.001 * (pod.slot + 1)
        out = []
        if pod.ready:
            out.append(
                self._line(
                    at,
                    service,
                    pod.name,
                    f"handled {handled} requests in {step:g}s: p99 "
                    f"{latency * 1000:.0f}ms, {errors} errors",
                    "error" if errors and errors >= handled * 0.05 else "info",
                )
            )
        timeline = snap.world.deployments[service]
        view = PodView(
            service=service,
            pod=pod.name,
            memory_mb=pod.memory_mb,
            limit_mb=pod.limit_mb,
            node=pod.node,
            version=pod.generation.template.version,
            seed=seed,
            step=k,
            rps=rps,
            latency_ms=latency * 1000.0,
            cpu_cores=own.cpu_usage_cores if own else 0.0,
            cpu_limit=timeline.service.cpu_limit_cores,
            datastore=datastore_of(timeline, snap.telemetry.kinds) or "",
        )
        for fault in pod.faults(timeline, t):
            for level, message in fault.log_lines(view):
                out.append(self._line(at + 0.0005, service, pod.name, message, level))
        if pod.ready:
            out += [
                self._line(at + 0.0007, service, pod.name, message, level)
                for level, message in call_lines(view, sample.edges)
            ]
            out += [
                self._line(at + 0.0009, service, pod.name, message, level)
                for level, message in routine_lines(view)
            ]
        return out

    def _line(self, offset: float, service: str, pod: str, message: str, level: str) -> LogLine:
        at = self._sim.origin + timedelta(seconds=offset)
        return LogLine(at=at, service=service, pod=pod, message=message, level=level)
