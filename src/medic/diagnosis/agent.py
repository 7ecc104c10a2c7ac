"""The optional LLM agent: a second opinion on the deterministic diagnosis, never a judge.

`refine` hands the model a compact, fenced digest of the evidence and the core's
ranked hypotheses, lets it call read-only tools for more evidence, and takes back a
typed `AgentReport`. Every claim is validated against the evidence
(`agent_validate`), and only validated claims are merged (`agent_merge`: the
deterministic top of a conclusive diagnosis always stays; confidence is never
raised). Requests, tokens and tool calls are capped per incident with Pydantic AI's
`UsageLimits`, the whole run has a timeout, and on any failure (the model erroring,
a limit exceeded, the timeout, output that does not parse) the deterministic
diagnosis is returned unchanged, with the reason in the outcome.

The agent has no way to act: it has no write tool, its output has no action field,
and commands in its free text are dropped.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

import httpx2
from pydantic_ai import Agent, RunUsage, Tool, UsageLimits
from pydantic_ai.exceptions import (
    AgentRunError,
    ModelTimeoutError,
    RunTimedOut,
    UnexpectedModelBehavior,
    UsageLimitExceeded,
)
from pydantic_ai.models import Model

from medic.diagnosis.agent_merge import merge
from medic.diagnosis.agent_prompt import INSTRUCTIONS, Fence, build_prompt
from medic.diagnosis.agent_tools import AgentTools, ToolLedger, changes, query_metric, recent_logs
from medic.diagnosis.agent_validate import AgentReport, EvidenceIndex, validate_claims
from medic.domain.errors import MedicError
from medic.domain.model import Diagnosis, Evidence, Incident

__all__ = [
    "AgentLimits",
    "AgentOutcome",
    "AgentReport",
    "AgentStatus",
    "AgentTools",
    "refine",
    "refine_async",
]

# What a failing model call can raise through Pydantic AI: its own run errors (limits,
# timeouts, bad output, HTTP errors), configuration errors (UserError is a RuntimeError),
# network errors, and validation errors. Anything else is a bug and propagates.
_LLM_FAILURES = (RuntimeError, OSError, ValueError, httpx2.HTTPError, MedicError)


@dataclass(frozen=True)
class AgentLimits:
    """Per-incident budget of the agent."""

    requests: int = 4
    total_tokens: int = 16_000
    tool_calls: int = 4
    timeout_seconds: float = 60.0


class AgentStatus(StrEnum):
    APPLIED = "applied"  # the validated output was merged
    MODEL_ERROR = "model_error"
    USAGE_LIMIT = "usage_limit"
    TIMEOUT = "timeout"
    INVALID_OUTPUT = "invalid_output"


@dataclass(frozen=True)
class AgentOutcome:
    """The diagnosis after the agent (the deterministic one unless `applied`) and why."""

    diagnosis: Diagnosis
    status: AgentStatus
    reason: str
    input_tokens: int = 0
    output_tokens: int = 0
    requests: int = 0
    tool_calls: int = 0
    new_evidence: tuple[Evidence, ...] = ()
    rejected_claims: tuple[str, ...] = ()
    narrative: str = ""
    check_next: tuple[str, ...] = ()

    @property
    def applied(self) -> bool:
        return self.status is AgentStatus.APPLIED

    @property
    def tokens(self) -> int:
        """Input plus output tokens the model counted, failed runs included."""
        return self.input_tokens + self.output_tokens


def refine(
    diagnosis: Diagnosis,
    incident: Incident,
    tools: AgentTools,
    model: Model,
    limits: AgentLimits | None = None,
) -> AgentOutcome:
    """`diagnosis` reviewed by the LLM agent (synchronous; not inside a running event loop)."""
    run = _Run.start(diagnosis, incident, tools, limits or AgentLimits())
    try:
        result = _agent().run_sync(
            run.prompt,
            model=model,
            deps=run.ledger,
            usage=run.usage,
            usage_limits=run.usage_limits,
            timeout=run.limits.timeout_seconds,
        )
    except _LLM_FAILURES as e:
        return run.failed(e)
    return run.finish(result.output)


async def refine_async(
    diagnosis: Diagnosis,
    incident: Incident,
    tools: AgentTools,
    model: Model,
    limits: AgentLimits | None = None,
) -> AgentOutcome:
    """`refine` for callers that already run an event loop."""
    run = _Run.start(diagnosis, incident, tools, limits or AgentLimits())
    try:
        result = await _agent().run(
            run.prompt,
            model=model,
            deps=run.ledger,
            usage=run.usage,
            usage_limits=run.usage_limits,
            timeout=run.limits.timeout_seconds,
        )
    except _LLM_FAILURES as e:
        return run.failed(e)
    return run.finish(result.output)


def _agent() -> Agent[ToolLedger, AgentReport]:
    return Agent(
        output_type=AgentReport,
        instructions=INSTRUCTIONS,
        deps_type=ToolLedger,
        tools=[
            Tool(query_metric, takes_ctx=True, sequential=True),
            Tool(recent_logs, takes_ctx=True, sequential=True),
            Tool(changes, takes_ctx=True, sequential=True),
        ],
        retries={"tools": 1, "output": 1},
        name="medic-diagnostician",
    )


@dataclass
class _Run:
    diagnosis: Diagnosis
    limits: AgentLimits
    ledger: ToolLedger
    prompt: str
    services: tuple[str, ...]
    usage: RunUsage
    usage_limits: UsageLimits

    @classmethod
    def start(
        cls, diagnosis: Diagnosis, incident: Incident, tools: AgentTools, limits: AgentLimits
    ) -> _Run:
        fence = Fence.new()
        services = tools.services or _services_seen(diagnosis)
        ledger = ToolLedger(
            tools=tools,
            now=tools.now,
            services=frozenset(tools.services),
            known_ids={e.id for e in diagnosis.evidence},
            onset=diagnosis.onset,
            wrap=fence.wrap,
        )
        usage_limits = UsageLimits(
            request_limit=limits.requests,
            total_tokens_limit=limits.total_tokens,
            tool_calls_limit=limits.tool_calls,
        )
        prompt = build_prompt(diagnosis, incident, services, fence)
        return cls(diagnosis, limits, ledger, prompt, services, RunUsage(), usage_limits)

    def finish(self, report: AgentReport) -> AgentOutcome:
        index = EvidenceIndex.build(
            self.diagnosis,
            self.services,
            self.ledger.evidence,
            self.ledger.changes,
            self.ledger.untrusted,
        )
        claims = validate_claims(report, index)
        merged = merge(self.diagnosis, claims, self.ledger.evidence, self.ledger.missing)
        kept = len(claims.accepted)
        return self._outcome(
            merged,
            AgentStatus.APPLIED,
            f"{kept} claim(s) accepted, {len(claims.rejected)} rejected",
            new_evidence=tuple(self.ledger.evidence),
            rejected_claims=claims.rejected,
            narrative=claims.narrative,
            check_next=claims.check_next,
        )

    def failed(self, error: BaseException) -> AgentOutcome:
        if isinstance(error, UsageLimitExceeded):
            status = AgentStatus.USAGE_LIMIT
        elif isinstance(error, RunTimedOut | ModelTimeoutError | TimeoutError):
            status = AgentStatus.TIMEOUT
        elif isinstance(error, UnexpectedModelBehavior):
            status = AgentStatus.INVALID_OUTPUT
        else:
            status = AgentStatus.MODEL_ERROR
        message = error.message if isinstance(error, AgentRunError) else str(error)
        reason = (
            f"the deterministic diagnosis stands: {status.value} "
            f"({type(error).__name__}: {message[:300]})"
        )
        return self._outcome(self.diagnosis, status, reason)

    def _outcome(
        self,
        diagnosis: Diagnosis,
        status: AgentStatus,
        reason: str,
        *,
        new_evidence: tuple[Evidence, ...] = (),
        rejected_claims: tuple[str, ...] = (),
        narrative: str = "",
        check_next: tuple[str, ...] = (),
    ) -> AgentOutcome:
        return AgentOutcome(
            diagnosis=diagnosis,
            status=status,
            reason=reason,
            input_tokens=self.usage.input_tokens,
            output_tokens=self.usage.output_tokens,
            requests=self.usage.requests,
            tool_calls=self.usage.tool_calls,
            new_evidence=new_evidence,
            rejected_claims=rejected_claims,
            narrative=narrative,
            check_next=check_next,
        )


def _services_seen(diagnosis: Diagnosis) -> tuple[str, ...]:
    """Without a topology, the services the evidence and the hypotheses name."""
    names: list[str] = [h.root_cause.service for h in diagnosis.hypotheses]
    names.extend(_strings(e.data.get("service") for e in diagnosis.evidence))
    return tuple(dict.fromkeys(names))


def _strings(values: Iterable[object]) -> list[str]:
    return [v for v in values if isinstance(v, str) and v]
