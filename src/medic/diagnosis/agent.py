"""The optional LLM agent: a second opinion on the deterministic diagnosis, never a judge.

`refine` hands the model a compact, fenced digest of the evidence and the core's
ranked hypotheses, lets it call read-only tools for more evidence, and takes back a
typed `AgentReport`. Every claim is validated against the evidence
(`agent_validate`), and only validated claims are merged (`agent_merge`: the
deterministic top of a conclusive diagnosis always stays; confidence is never
raised). Requests and tool calls are capped per incident with Pydantic AI's
`UsageLimits`; tokens by a budget derived from the prompt and checked before each
request (`agent_budget`); the whole run has a timeout. On any failure, whatever it
raises (the model erroring, a limit reached, the timeout, a reply of any malformed
shape), the deterministic diagnosis is returned unchanged, with the reason in the
outcome. `AgentOutcome.review` is what the incident records of the run.

The agent has no way to act: it has no write tool, its output has no action field,
and commands in its free text are dropped.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

import pydantic
from pydantic_ai import Agent, RunUsage, Tool, UsageLimits
from pydantic_ai.exceptions import (
    AgentRunError,
    ModelHTTPError,
    ModelTimeoutError,
    RunTimedOut,
    UnexpectedModelBehavior,
    UsageLimitExceeded,
)
from pydantic_ai.models import Model

from medic.diagnosis.agent_budget import BudgetedModel, TokenMeter, planned_requests
from medic.diagnosis.agent_merge import merge
from medic.diagnosis.agent_prompt import INSTRUCTIONS, Fence, build_prompt
from medic.diagnosis.agent_tools import AgentTools, ToolLedger, changes, query_metric, recent_logs
from medic.diagnosis.agent_validate import AgentReport, EvidenceIndex, validate_claims
from medic.domain.agent import AgentReview, AgentStatus
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

# What the model's reply looks like when it does not fit the vendor's format or ours:
# the SDKs index and attribute their way through the JSON (`"choices": []` raises
# IndexError, `"choices": "nope"` AttributeError) before any validation of theirs runs.
_MALFORMED = (
    UnexpectedModelBehavior,
    pydantic.ValidationError,
    json.JSONDecodeError,
    IndexError,
    KeyError,
    AttributeError,
    TypeError,
    AssertionError,  # the SDKs assert on a reply's shape while reading it
)


@dataclass(frozen=True)
class AgentLimits:
    """Per-incident budget of the agent (see `agent_budget` for how tokens are derived).

    `total_tokens` None: the limit derived from the prompt and `tool_calls`; a number
    caps that. `requests` None: one per tool call, the answer, and one repair."""

    requests: int | None = None
    total_tokens: int | None = None
    tool_calls: int = 3
    timeout_seconds: float = 60.0
    answer_tokens: int = 1500  # the model's max_tokens per answer

    @property
    def request_limit(self) -> int:
        return self.requests or planned_requests(self.tool_calls)


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
    accepted_claims: tuple[str, ...] = ()
    token_limit: int = 0
    model: str = ""

    @property
    def applied(self) -> bool:
        return self.status is AgentStatus.APPLIED

    @property
    def tokens(self) -> int:
        """Input plus output tokens the model counted, failed runs included."""
        return self.input_tokens + self.output_tokens

    @property
    def review(self) -> AgentReview:
        """What the incident keeps of this run."""
        return AgentReview(
            status=self.status,
            reason=self.reason,
            model=self.model,
            requests=self.requests,
            tool_calls=self.tool_calls,
            input_tokens=self.input_tokens,
            output_tokens=self.output_tokens,
            token_limit=self.token_limit,
            accepted=self.accepted_claims,
            rejected=self.rejected_claims,
            new_evidence=tuple(e.id for e in self.new_evidence) if self.applied else (),
            narrative=self.narrative,
            check_next=self.check_next,
        )


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
            model=run.model(model),
            deps=run.ledger,
            usage=run.usage,
            usage_limits=run.usage_limits,
            timeout=run.limits.timeout_seconds,
        )
    # The boundary to a third party whose replies can be of any shape: whatever the
    # call raises, the incident goes on with the deterministic diagnosis.
    except Exception as e:  # noqa: BLE001
        return run.failed(e)
    return run.finish_safely(result.output)


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
            model=run.model(model),
            deps=run.ledger,
            usage=run.usage,
            usage_limits=run.usage_limits,
            timeout=run.limits.timeout_seconds,
        )
    # The boundary to a third party whose replies can be of any shape: whatever the
    # call raises, the incident goes on with the deterministic diagnosis.
    except Exception as e:  # noqa: BLE001
        return run.failed(e)
    return run.finish_safely(result.output)


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
    meter: TokenMeter
    model_name: str = ""

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
        # Tokens are the meter's (checked before each request); Pydantic AI's own
        # token limit would only notice after an answer had overshot it.
        usage_limits = UsageLimits(
            request_limit=limits.request_limit, tool_calls_limit=limits.tool_calls
        )
        meter = TokenMeter(limits.tool_calls, limits.answer_tokens, cap=limits.total_tokens)
        prompt = build_prompt(diagnosis, incident, services, fence, limits.tool_calls)
        return cls(diagnosis, limits, ledger, prompt, services, RunUsage(), usage_limits, meter)

    def model(self, model: Model) -> Model:
        self.model_name = f"{model.system}:{model.model_name}"
        return BudgetedModel(model, self.meter, INSTRUCTIONS)

    def finish_safely(self, report: AgentReport) -> AgentOutcome:
        try:
            return self.finish(report)
        except Exception as e:  # noqa: BLE001  # the model's output, however odd, never stalls
            return self.failed(e)

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
        accepted = tuple(
            f"{c.service}: {c.category.value}{f' {c.change}' if c.change else ''}, "
            f"citing {', '.join(c.evidence_ids)}"
            for c in claims.accepted
        )
        return self._outcome(
            merged,
            AgentStatus.APPLIED,
            f"{kept} claim(s) accepted, {len(claims.rejected)} rejected",
            new_evidence=tuple(self.ledger.evidence),
            rejected_claims=claims.rejected,
            narrative=claims.narrative,
            check_next=claims.check_next,
            accepted_claims=accepted,
        )

    def failed(self, error: BaseException) -> AgentOutcome:
        status = _status_of(error)
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
        accepted_claims: tuple[str, ...] = (),
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
            accepted_claims=accepted_claims,
            token_limit=self.meter.limit,
            model=self.model_name,
        )


def _status_of(error: BaseException) -> AgentStatus:
    if isinstance(error, UsageLimitExceeded):
        return AgentStatus.USAGE_LIMIT
    if isinstance(error, RunTimedOut | ModelTimeoutError | TimeoutError):
        return AgentStatus.TIMEOUT
    if isinstance(error, ModelHTTPError):
        return AgentStatus.MODEL_ERROR
    cause: BaseException | None = error
    for _ in range(8):  # an SDK's error wrapping a reply it could not read
        if cause is None:
            break
        if isinstance(cause, _MALFORMED):
            return AgentStatus.INVALID_OUTPUT
        cause = cause.__cause__ or cause.__context__
    return AgentStatus.MODEL_ERROR


def _services_seen(diagnosis: Diagnosis) -> tuple[str, ...]:
    """Without a topology, the services the evidence and the hypotheses name."""
    names: list[str] = [h.root_cause.service for h in diagnosis.hypotheses]
    names.extend(_strings(e.data.get("service") for e in diagnosis.evidence))
    return tuple(dict.fromkeys(names))


def _strings(values: Iterable[object]) -> list[str]:
    return [v for v in values if isinstance(v, str) and v]
