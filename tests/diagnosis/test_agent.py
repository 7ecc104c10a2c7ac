"""The optional LLM agent, driven by scripted FunctionModels on the seed scenario."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest
from pydantic_ai.exceptions import ModelHTTPError
from pydantic_ai.messages import ModelMessage, ModelResponse
from pydantic_ai.models.function import AgentInfo, FunctionModel

from medic.diagnosis.agent import AgentLimits, AgentStatus, refine, refine_async
from medic.domain.model import Diagnosis, RootCauseCategory
from tests.diagnosis.agent_support import AgentWorld, Script, Seen, agent_world, call, report


@pytest.fixture(scope="module")
def world() -> AgentWorld:
    return agent_world()


def _top_claim(diagnosis: Diagnosis) -> dict[str, object]:
    top = diagnosis.top
    assert top is not None
    return {
        "service": top.root_cause.service,
        "category": top.root_cause.category.value,
        "change": top.root_cause.change,
        "fault": top.fault,
        "explanation": "The working set climbs steadily since the v1.2.1 deploy.",
        "evidence_ids": list(top.evidence_ids[:2]),
    }


def test_a_run_that_cites_evidence_keeps_the_deterministic_top_and_adds_its_narrative(
    world: AgentWorld,
) -> None:
    script = Script(
        [report([_top_claim(world.diagnosis)], "auth-service v1.2.1 leaks session tokens.")]
    )
    outcome = refine(world.diagnosis, world.incident, world.tools, script.model())
    assert outcome.status is AgentStatus.APPLIED
    assert outcome.rejected_claims == ()
    before, after = world.diagnosis, outcome.diagnosis
    assert [h.root_cause for h in after.hypotheses] == [h.root_cause for h in before.hypotheses]
    assert (after.confidence, after.conclusive) == (before.confidence, before.conclusive)
    # The narrative is reported to the caller, never merged into medic's own summary.
    assert outcome.narrative == "auth-service v1.2.1 leaks session tokens."
    assert "leaks session tokens" not in after.summary
    assert outcome.requests == 1


def test_a_claim_citing_nothing_is_rejected_with_the_reason(world: AgentWorld) -> None:
    claim = {"service": "catalog", "category": "bad_deploy", "explanation": "it was deployed"}
    outcome = refine(
        world.diagnosis, world.incident, world.tools, Script([report([claim])]).model()
    )
    assert outcome.status is AgentStatus.APPLIED
    assert outcome.rejected_claims == ("LLM claim against catalog rejected: it cites no evidence",)
    assert "catalog" not in {h.root_cause.service for h in outcome.diagnosis.hypotheses}
    assert outcome.rejected_claims[0] in outcome.diagnosis.rejected


def test_a_claim_citing_a_nonexistent_id_is_rejected(world: AgentWorld) -> None:
    claim = {
        "service": "users-db",
        "category": "resource_exhaustion",
        "explanation": "disk filling up",
        "evidence_ids": ["ev-12", "ev-999"],
    }
    outcome = refine(
        world.diagnosis, world.incident, world.tools, Script([report([claim])]).model()
    )
    assert outcome.rejected_claims == (
        "LLM claim against users-db rejected: it cites 1 evidence id(s) that do not exist",
    )
    assert outcome.diagnosis.hypotheses == world.diagnosis.hypotheses


def test_a_claim_on_a_service_outside_the_topology_is_rejected(world: AgentWorld) -> None:
    claim = {
        "service": "billing",
        "category": "dependency_failure",
        "explanation": "billing is down",
        "evidence_ids": ["ev-1"],
    }
    outcome = refine(
        world.diagnosis, world.incident, world.tools, Script([report([claim])]).model()
    )
    assert outcome.rejected_claims == (
        "LLM claim against a service not in the topology rejected: "
        "the service is not in the topology",
    )


def test_blaming_a_change_made_after_the_onset_is_rejected(world: AgentWorld) -> None:
    catalog_deploy = next(
        e.id for e in world.diagnosis.evidence if e.summary.startswith("deploy of catalog")
    )
    claim = {
        "service": "catalog",
        "category": "bad_deploy",
        "change": "v3.0.1",
        "explanation": "v3.0.1 broke it",
        "evidence_ids": [catalog_deploy],
    }
    outcome = refine(
        world.diagnosis, world.incident, world.tools, Script([report([claim])]).model()
    )
    (reason,) = outcome.rejected_claims
    assert reason.startswith("LLM claim against catalog rejected: the change it blames")
    assert "happened at 19:50 UTC, after the onset at 18:5" in reason
    assert outcome.diagnosis.top == world.diagnosis.top


def test_blaming_a_service_whose_metrics_did_not_move_contradicts_the_evidence(
    world: AgentWorld,
) -> None:
    def claims(seen: Seen) -> list[dict[str, object]]:
        return [
            {
                "service": "users-db",
                "category": "resource_exhaustion",
                "explanation": "the database is saturated",
                "evidence_ids": ["ev-12", *seen.evidence_ids()],
            }
        ]

    script = Script(
        [
            call("query_metric", service="users-db", metric="latency_p99_seconds", minutes=180),
            report(claims),
        ]
    )
    outcome = refine(world.diagnosis, world.incident, world.tools, script.model())
    (reason,) = outcome.rejected_claims
    assert reason.startswith("LLM claim against users-db rejected: its metrics (ev-")
    assert "stay within 3 robust sigmas" in reason
    assert "while auth-service moved strongly" in reason
    assert [h.root_cause for h in outcome.diagnosis.hypotheses] == [
        h.root_cause for h in world.diagnosis.hypotheses
    ]


def test_a_tool_call_gathers_evidence_that_a_later_claim_cites(world: AgentWorld) -> None:
    def claims(seen: Seen) -> list[dict[str, object]]:
        return [
            {
                "service": "auth-service",
                "category": "resource_exhaustion",
                "fault": "memory_leak",
                "explanation": "GC pauses keep growing: the heap is filling up.",
                "evidence_ids": seen.evidence_ids(),
            }
        ]

    script = Script(
        [call("recent_logs", service="auth-service", pattern="GC pause"), report(claims)]
    )
    outcome = refine(world.diagnosis, world.incident, world.tools, script.model())
    assert outcome.status is AgentStatus.APPLIED
    (found,) = outcome.new_evidence
    assert found.id == "ev-llm-1"
    assert found.source == "logs"
    assert found.data["service"] == "auth-service"
    assert isinstance(found.data["matches"], int) and found.data["matches"] > 0
    assert found in outcome.diagnosis.evidence
    after = outcome.diagnosis.hypotheses
    assert after[0] == world.diagnosis.hypotheses[0]  # a conclusive top stays
    added = after[-1]
    assert added.root_cause.category is RootCauseCategory.RESOURCE_EXHAUSTION
    assert added.evidence_ids == ("ev-llm-1",)
    assert added.score <= min(h.score for h in world.diagnosis.hypotheses)
    assert outcome.tool_calls == 1


def test_an_inconclusive_diagnosis_can_be_led_by_a_validated_claim_but_stays_inconclusive(
    world: AgentWorld,
) -> None:
    unsure = replace(world.diagnosis, conclusive=False, confidence=0.4)
    claim = {
        "service": "auth-service",
        "category": "resource_exhaustion",
        "explanation": "memory grows until the limit",
        "evidence_ids": ["ev-5"],
    }
    outcome = refine(unsure, world.incident, world.tools, Script([report([claim])]).model())
    top = outcome.diagnosis.top
    assert top is not None
    assert top.root_cause.category is RootCauseCategory.RESOURCE_EXHAUSTION
    assert (outcome.diagnosis.conclusive, outcome.diagnosis.confidence) == (False, 0.4)
    scores = [h.score for h in outcome.diagnosis.hypotheses]
    assert scores == sorted(scores, reverse=True)
    assert "The LLM agent's validated lead: auth-service, resource_exhaustion" in (
        outcome.diagnosis.summary
    )


@pytest.mark.parametrize(
    ("limits", "why"),
    [
        (AgentLimits(requests=1), "request_limit of 1"),
        (AgentLimits(total_tokens=6000), "would pass the token limit of 6,000"),
        (AgentLimits(tool_calls=1), "tool_calls_limit of 1"),
    ],
)
def test_past_a_usage_limit_the_deterministic_diagnosis_stands(
    world: AgentWorld, limits: AgentLimits, why: str
) -> None:
    script = Script(
        [
            call("query_metric", service="users-db", metric="error_ratio"),
            call("query_metric", service="catalog", metric="error_ratio"),
            report([_top_claim(world.diagnosis)], "never reached"),
        ]
    )
    outcome = refine(world.diagnosis, world.incident, world.tools, script.model(), limits)
    assert outcome.status is AgentStatus.USAGE_LIMIT
    assert why in outcome.reason
    assert outcome.diagnosis is world.diagnosis
    assert outcome.tokens > 0  # what was spent before the limit is still reported
    assert outcome.review.tokens == outcome.tokens


def test_a_request_that_would_pass_the_token_limit_is_never_sent(world: AgentWorld) -> None:
    script = Script([report([_top_claim(world.diagnosis)], "never reached")])
    limits = AgentLimits(total_tokens=1500)
    outcome = refine(world.diagnosis, world.incident, world.tools, script.model(), limits)
    assert outcome.status is AgentStatus.USAGE_LIMIT
    assert "would pass the token limit of 1,500" in outcome.reason
    assert "it was not sent" in outcome.reason
    assert script.seen == [] and outcome.tokens == 0


def test_the_token_limit_fits_three_tool_calls_and_an_answer(world: AgentWorld) -> None:
    script = Script(
        [
            call("query_metric", service="users-db", metric="error_ratio"),
            call("recent_logs", service="auth-service", pattern="GC pause"),
            call("changes", minutes=180),
            report([_top_claim(world.diagnosis)], "auth-service leaks memory."),
        ]
    )
    outcome = refine(world.diagnosis, world.incident, world.tools, script.model())
    assert outcome.status is AgentStatus.APPLIED, outcome.reason
    assert (outcome.requests, outcome.tool_calls) == (4, 3)
    assert outcome.tokens < outcome.token_limit
    first = script.billed[0].input_tokens
    # derived from the first request: five requests' worth of it, and the tool turns
    assert 5 * first < outcome.token_limit < 5 * first + 25_000


@pytest.mark.parametrize(
    "error",
    [
        ConnectionError("connection refused"),
        ModelHTTPError(status_code=503, model_name="scripted", body="overloaded"),
    ],
)
def test_when_the_model_fails_the_deterministic_diagnosis_stands(
    world: AgentWorld, error: Exception
) -> None:
    def failing(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        raise error

    outcome = refine(world.diagnosis, world.incident, world.tools, FunctionModel(failing))
    assert outcome.status is AgentStatus.MODEL_ERROR
    assert outcome.diagnosis is world.diagnosis
    assert outcome.reason.startswith("the deterministic diagnosis stands: model_error")


def test_when_the_model_hangs_the_run_times_out_and_the_deterministic_diagnosis_stands(
    world: AgentWorld,
) -> None:
    async def hanging(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        await asyncio.Event().wait()  # never set: only the run's timeout ends this
        raise AssertionError("unreachable")

    limits = AgentLimits(timeout_seconds=0.05)
    outcome = refine(world.diagnosis, world.incident, world.tools, FunctionModel(hanging), limits)
    assert outcome.status is AgentStatus.TIMEOUT
    assert outcome.diagnosis is world.diagnosis


def test_output_that_never_fits_the_schema_leaves_the_deterministic_diagnosis(
    world: AgentWorld,
) -> None:
    claim = {"service": "auth-service", "category": "gremlins", "explanation": "?"}
    outcome = refine(
        world.diagnosis, world.incident, world.tools, Script([report([claim])]).model()
    )
    assert outcome.status is AgentStatus.INVALID_OUTPUT
    assert outcome.diagnosis is world.diagnosis
    assert outcome.requests == 2  # the first answer and one retry


def test_tokens_are_the_sum_of_what_the_model_billed_per_request(world: AgentWorld) -> None:
    script = Script(
        [
            call("recent_logs", service="auth-service", pattern="GC pause"),
            report([_top_claim(world.diagnosis)], "auth-service leaks memory since v1.2.1."),
        ]
    )
    outcome = refine(world.diagnosis, world.incident, world.tools, script.model())
    billed = script.billed
    assert outcome.requests == len(billed) == 2
    assert outcome.input_tokens == sum(u.input_tokens for u in billed)
    assert outcome.output_tokens == sum(u.output_tokens for u in billed)
    assert outcome.tokens == outcome.input_tokens + outcome.output_tokens
    # The second request re-sends the whole conversation, as real chat APIs bill it.
    assert billed[1].input_tokens > billed[0].input_tokens
    print(f"llm_tokens_per_case (1 tool call + report): {outcome.tokens}")


def test_the_async_entry_point_behaves_like_the_sync_one(world: AgentWorld) -> None:
    script = Script([report([_top_claim(world.diagnosis)], "same answer")])
    outcome = asyncio.run(
        refine_async(world.diagnosis, world.incident, world.tools, script.model())
    )
    assert outcome.status is AgentStatus.APPLIED
    assert outcome.diagnosis.top == world.diagnosis.top
