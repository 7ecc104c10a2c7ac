"""Support for the agent tests: a scripted FunctionModel, token counting, seed worlds.

`Script` plays a fixed sequence of model turns (tool calls, then a report) and records
everything the model was shown. It counts tokens the way a provider bills them: the
instructions, every message, and the tool and output schemas sent with each request
(which Pydantic AI's own FunctionModel estimate leaves out), at the usual ~4 characters
per token of English and JSON, plus a few tokens of framing per message.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import timedelta
from functools import cache

from pydantic_ai.messages import (
    ModelMessage,
    ModelRequest,
    ModelResponse,
    ModelResponsePart,
    ToolCallPart,
    ToolReturnPart,
    UserPromptPart,
)
from pydantic_ai.models.function import AgentInfo, FunctionModel
from pydantic_ai.usage import RequestUsage

from medic.bench.scripted_llm import input_tokens, output_tokens, tokens_of
from medic.diagnosis import diagnose
from medic.diagnosis.agent import AgentTools
from medic.domain.cluster import LogLine, MetricName, ServiceInfo, ServiceKind
from medic.domain.model import Diagnosis, Incident, Signal
from tests.diagnosis.fakes import FakeChanges, FakeLogs, SeedWorld, seed_world
from tests.diagnosis.injection import BLAMED
from tests.signals.fakes import MB, FakeCluster

__all__ = [
    "FENCE",
    "AgentWorld",
    "Script",
    "Seen",
    "agent_world",
    "call",
    "outside_fences",
    "report",
    "tokens_of",
]

FENCE = re.compile(r"<untrusted-data id=([0-9a-f]{12})>\n.*?\n</untrusted-data id=\1>", re.S)


@dataclass
class Seen:
    """One request as the model received it."""

    messages: list[ModelMessage]
    info: AgentInfo

    def texts(self) -> list[str]:
        """What the model read, part by part: the user prompt and tool results."""
        out = []
        for message in self.messages:
            if isinstance(message, ModelRequest):
                for part in message.parts:
                    if isinstance(part, UserPromptPart) and isinstance(part.content, str):
                        out.append(part.content)
                    elif isinstance(part, ToolReturnPart):
                        out.append(part.model_response_str())
        return out

    def evidence_ids(self) -> list[str]:
        """The evidence ids the tools have answered with so far, oldest first."""
        found: list[str] = []
        for text in self.texts():
            found.extend(re.findall(r"^evidence (ev-llm-\d+):", text))
        return found


Step = Callable[[Seen], list[ModelResponsePart]]


@dataclass
class Script:
    """A FunctionModel that plays `steps` in order and bills tokens like a provider."""

    steps: Sequence[Step]
    seen: list[Seen] = field(default_factory=list)
    billed: list[RequestUsage] = field(default_factory=list)

    def model(self) -> FunctionModel:
        return FunctionModel(self._respond, model_name="scripted")

    def _respond(self, messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        seen = Seen(list(messages), info)
        self.seen.append(seen)
        step = self.steps[min(len(self.seen), len(self.steps)) - 1]
        parts = step(seen)
        usage = RequestUsage(
            input_tokens=input_tokens(messages, info), output_tokens=output_tokens(parts)
        )
        self.billed.append(usage)
        return ModelResponse(parts=parts, usage=usage)


def call(tool: str, **args: object) -> Step:
    def step(seen: Seen) -> list[ModelResponsePart]:
        return [ToolCallPart(tool, dict(args))]

    return step


def report(
    hypotheses: Sequence[Mapping[str, object]] | Callable[[Seen], Sequence[Mapping[str, object]]],
    narrative: str = "",
    check_next: Sequence[str] = (),
) -> Step:
    """The final answer, through the output tool; `hypotheses` may depend on what was seen."""

    def step(seen: Seen) -> list[ModelResponsePart]:
        claims = hypotheses(seen) if callable(hypotheses) else hypotheses
        args = {
            "hypotheses": [dict(c) for c in claims],
            "narrative": narrative,
            "check_next": list(check_next),
        }
        return [ToolCallPart(seen.info.output_tools[0].name, args)]

    return step


def outside_fences(text: str) -> str:
    return FENCE.sub("", text)


@dataclass(frozen=True)
class AgentWorld:
    seed: SeedWorld
    incident: Incident
    diagnosis: Diagnosis
    tools: AgentTools


@cache
def _base_world() -> SeedWorld:
    seed = seed_world()
    services = [*seed.services, ServiceInfo(BLAMED, seed.namespace, kind=ServiceKind.DATABASE)]
    seed.cluster = FakeCluster(services)
    seed.services = services
    noisy = seed.metrics.noisy
    seed.metrics.set(BLAMED, MetricName.MEMORY_WORKING_SET_BYTES, 900 * MB, noisy(0.01))
    seed.metrics.set(BLAMED, MetricName.ERROR_RATIO, 0.001, noisy(0.2))
    seed.metrics.set(BLAMED, MetricName.LATENCY_P99_SECONDS, 0.004, noisy(0.05))
    return seed


def agent_world(
    *,
    log_lines: Sequence[str] = (),
    commit_messages: Sequence[str] = (),
    alert_summary: str = "",
    alert_name: str = "MemoryLeakSuspected",
) -> AgentWorld:
    """The seed world (auth-service v1.2.1 leaks), plus a healthy `payments-db`, with
    untrusted text planted in auth-service's recent logs, in the catalog deploy's commit
    message, and in the alert, then diagnosed by the deterministic core."""
    base = _base_world()
    pod = "auth-service-7d9f-abc"
    lines = list(base.logs.items)
    for i, text in enumerate(log_lines):
        at = base.now - timedelta(seconds=10 + i)  # the newest lines: a tool shows them first
        lines.append(LogLine(at, "auth-service", pod, text, "error"))
    changes = list(base.changes.items)
    if commit_messages:
        catalog = next(c for c in changes if c.service == "catalog")
        message = "\n".join(commit_messages)
        changes[changes.index(catalog)] = replace(catalog, commit_message=message)
    # The metrics (the slow part to build) are shared and only read; logs and changes
    # are this world's own.
    seed = replace(base, logs=FakeLogs(lines), changes=FakeChanges(changes))
    services = seed.services
    incident = replace(seed.incident(), title=f"{alert_name} on auth-service")
    signal: Signal = replace(seed.signal(), name=alert_name, summary=alert_summary)
    diagnosis = diagnose(
        incident, [signal], seed.metrics, seed.changes, seed.cluster, seed.logs, seed.now
    )
    tools = AgentTools(
        namespace=seed.namespace,
        metrics=seed.metrics,
        now=seed.now,
        changes=seed.changes,
        logs=seed.logs,
        services=tuple(s.name for s in services),
    )
    return AgentWorld(seed, incident, diagnosis, tools)
