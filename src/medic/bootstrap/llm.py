"""The optional LLM agent, built from settings; without a provider there is none."""

from __future__ import annotations

from dataclasses import replace

from pydantic_ai.models import Model

from medic.bootstrap.watched import Watched
from medic.diagnosis.agent import AgentLimits, AgentTools, refine
from medic.diagnosis.llm import build_model, endpoint_health
from medic.domain import Diagnosis, Incident, MedicError
from medic.integrations import Integration
from medic.log import get_logger
from medic.settings import LlmSettings, Settings
from medic.workflows.context import Refiner

__all__ = [
    "agent_limits",
    "agent_refiner",
    "agent_tools",
    "llm_integrations",
    "llm_model",
    "refiner",
]

log = get_logger(__name__)


def refiner(settings: Settings, world: Watched) -> Refiner | None:
    llm = settings.llm
    if llm.provider is None:
        return None
    return agent_refiner(llm_model(llm), agent_limits(llm), world)


def llm_integrations(settings: Settings) -> list[Integration]:
    """`medic doctor`'s check of the LLM endpoint, when an LLM is configured."""
    llm = settings.llm
    if llm.provider is None:
        return []

    # Built here, not in the timed check: a provider SDK can take seconds to import.
    try:
        model = llm_model(llm)
    except MedicError as e:
        error = e

        def broken() -> str:
            raise error

        return [Integration(f"llm ({llm.provider})", broken, "diagnosis")]
    return [Integration(f"llm ({llm.provider})", lambda: endpoint_health(model), "diagnosis")]


def llm_model(llm: LlmSettings) -> Model:
    """The configured model (nothing is contacted until the agent runs)."""
    return build_model(
        llm.provider or "",
        llm.model or "",
        base_url=llm.base_url,
        api_key=llm.api_key,
        request_timeout_seconds=llm.timeout_seconds,
        max_output_tokens=llm.max_output_tokens,
    )


def agent_limits(llm: LlmSettings) -> AgentLimits:
    """The agent's per-incident budget, from the `llm` settings: the whole run may take
    two request timeouts (a slow first answer still leaves time for the report)."""
    return AgentLimits(
        requests=llm.max_requests,
        total_tokens=llm.max_tokens,
        tool_calls=llm.max_tool_calls,
        answer_tokens=llm.max_output_tokens,
        timeout_seconds=2 * llm.timeout_seconds,
    )


def agent_tools(world: Watched, incident: Incident) -> AgentTools:
    """The agent's read-only tools over `world`, scoped to the incident's namespace."""
    namespace = incident.namespace or world.namespace
    return AgentTools(
        namespace=namespace,
        metrics=world.metrics,
        now=world.clock.now(),
        changes=world.changes,
        logs=world.logs,
        services=tuple(s.name for s in world.cluster.services(namespace)),
    )


def agent_refiner(model: Model, limits: AgentLimits, world: Watched) -> Refiner:
    """The LLM agent over `world`'s read ports, talking to `model` within `limits`."""

    def run(diagnosis: Diagnosis, incident: Incident) -> Diagnosis:
        outcome = refine(diagnosis, incident, agent_tools(world, incident), model, limits)
        log.info(
            "llm.refined",
            incident_id=incident.id,
            status=outcome.status.value,
            reason=outcome.reason,
            tokens=outcome.tokens,
            requests=outcome.requests,
            token_limit=outcome.token_limit,
        )
        return replace(outcome.diagnosis, agent=outcome.review)

    return run
