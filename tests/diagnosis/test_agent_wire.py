"""The agent over real HTTP, against a local server speaking the vendors' wire formats.

Whatever a model server answers (a malformed 200 of any shape, an error status, a body
that is not JSON, a tool call with wrong arguments, or nothing at all in time), the
run ends with the deterministic diagnosis and a reason naming what went wrong; and each
provider sends the authentication its real API expects.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic_ai import models

from medic.diagnosis.agent import AgentLimits, AgentOutcome, AgentStatus, refine
from medic.diagnosis.llm import build_model, endpoint_health
from medic.domain import PermanentError, TransientError
from tests.diagnosis.agent_support import AgentWorld, agent_world
from tests.llm_server import (
    Answer,
    FakeLLM,
    anthropic_message,
    anthropic_tool_use,
    fake_llm,
    final_args,
    hold,
    openai_completion,
    openai_tool_call,
    output_tool,
    raw,
)


@pytest.fixture(scope="module")
def world() -> AgentWorld:
    return agent_world()


@pytest.fixture
def server() -> Iterator[FakeLLM]:
    with fake_llm() as fake:
        yield fake


def _good_args(world: AgentWorld) -> dict[str, Any]:
    top = world.diagnosis.top
    assert top is not None
    claim = {
        "service": top.root_cause.service,
        "category": top.root_cause.category.value,
        "change": top.root_cause.change,
        "explanation": "The working set climbs from the deploy on.",
        "evidence_ids": list(top.evidence_ids[:2]),
    }
    return final_args([claim], "auth-service leaks memory.", ["heap profile of auth-service"])


def _run(world: AgentWorld, server: FakeLLM, provider: str, **limits: Any) -> AgentOutcome:
    base = server.url if provider == "anthropic" else f"{server.url}/v1"
    model = build_model(
        provider, "fake-model", base_url=base, api_key="sk-test", request_timeout_seconds=2
    )
    with models.override_allow_model_requests(True):
        return refine(
            world.diagnosis,
            world.incident,
            world.tools,
            model,
            AgentLimits(timeout_seconds=limits.pop("timeout_seconds", 8.0), **limits),
        )


def _stands(outcome: AgentOutcome, world: AgentWorld, status: AgentStatus, why: str) -> None:
    assert outcome.status is status, outcome.reason
    assert outcome.diagnosis is world.diagnosis
    assert outcome.reason.startswith(f"the deterministic diagnosis stands: {status.value}")
    assert why in outcome.reason
    review = outcome.review
    assert (review.status, review.reason) == (status, outcome.reason)
    assert review.accepted == () and review.narrative == ""


def _openai_body(**changes: object) -> str:
    body = openai_completion({"role": "assistant", "content": "hello"})
    body.update(changes)
    return json.dumps(body)


OPENAI_MALFORMED: dict[str, tuple[Answer, AgentStatus, str]] = {
    "empty choices": (raw(200, _openai_body(choices=[])), AgentStatus.INVALID_OUTPUT, "Index"),
    "choices of the wrong type": (
        raw(200, _openai_body(choices="nope")),
        AgentStatus.INVALID_OUTPUT,
        "AttributeError",
    ),
    "a choice without a message": (
        raw(200, _openai_body(choices=[{"index": 0, "finish_reason": "stop"}])),
        AgentStatus.INVALID_OUTPUT,
        "choices.0.message",
    ),
    "usage of the wrong type": (
        raw(200, _openai_body(usage="lots")),
        AgentStatus.INVALID_OUTPUT,
        "usage",
    ),
    "a truncated body": (
        raw(200, '{"id": "chatcmpl-1", "choices": [{"mess'),
        AgentStatus.INVALID_OUTPUT,
        "decode",
    ),
    "an HTML error page": (
        raw(200, "<html>502 Bad Gateway</html>", "text/html"),
        AgentStatus.INVALID_OUTPUT,
        "expected JSON",
    ),
    "plain text instead of the report": (
        raw(200, _openai_body()),
        AgentStatus.INVALID_OUTPUT,
        "output retries",
    ),
    "truncated JSON arguments": (
        openai_tool_call(output_tool, '{"hypotheses": [{"serv'),
        AgentStatus.INVALID_OUTPUT,
        "output retries",
    ),
    "arguments of the wrong types": (
        openai_tool_call(output_tool, {"hypotheses": "everything", "narrative": 5}),
        AgentStatus.INVALID_OUTPUT,
        "output retries",
    ),
    "a report missing its claims' fields": (
        openai_tool_call(output_tool, {"hypotheses": [{"service": "auth-service"}]}),
        AgentStatus.INVALID_OUTPUT,
        "output retries",
    ),
    "a tool call with wrong arguments": (
        openai_tool_call("query_metric", {"servicee": 1}),
        AgentStatus.INVALID_OUTPUT,
        "query_metric",
    ),
    "a tool that does not exist": (
        openai_tool_call("kubectl_delete", {"namespace": "production"}),
        AgentStatus.INVALID_OUTPUT,
        "kubectl_delete",
    ),
    "a server error": (
        raw(500, '{"error": {"message": "boom"}}'),
        AgentStatus.MODEL_ERROR,
        "status_code: 500",
    ),
    "a rate limit": (
        raw(429, '{"error": {"message": "rate limited"}}'),
        AgentStatus.MODEL_ERROR,
        "status_code: 429",
    ),
    "no answer in time": (hold(), AgentStatus.TIMEOUT, "timed out"),
}


@pytest.mark.parametrize("shape", list(OPENAI_MALFORMED))
@pytest.mark.parametrize("provider", ["openai-compatible", "ollama"])
def test_an_openai_format_reply_of_any_bad_shape_leaves_the_deterministic_diagnosis(
    world: AgentWorld, server: FakeLLM, provider: str, shape: str
) -> None:
    answer, status, why = OPENAI_MALFORMED[shape]
    server.queue(*[answer] * 4)
    outcome = _run(world, server, provider)
    _stands(outcome, world, status, why)
    assert server.posts[0].path == "/v1/chat/completions"


def _anthropic_body(**changes: object) -> str:
    body = anthropic_message([{"type": "text", "text": "hello"}])
    body.update(changes)
    return json.dumps(body)


ANTHROPIC_MALFORMED: dict[str, tuple[Answer, AgentStatus, str]] = {
    "content of the wrong type": (
        raw(200, _anthropic_body(content="nope")),
        AgentStatus.INVALID_OUTPUT,
        "",
    ),
    "a content block of an unknown shape": (
        raw(200, _anthropic_body(content=[{"kind": "mystery"}])),
        AgentStatus.INVALID_OUTPUT,
        "",
    ),
    "usage missing": (
        raw(200, _anthropic_body(usage=None)),
        AgentStatus.INVALID_OUTPUT,
        "",
    ),
    "a truncated body": (
        raw(200, '{"id": "msg_1", "content": [{"ty'),
        AgentStatus.INVALID_OUTPUT,
        "",
    ),
    "a report of the wrong types": (
        anthropic_tool_use(output_tool, {"hypotheses": [{"service": 7, "category": []}]}),
        AgentStatus.INVALID_OUTPUT,
        "output retries",
    ),
    "overloaded": (
        raw(529, '{"type": "error", "error": {"type": "overloaded_error", "message": "x"}}'),
        AgentStatus.MODEL_ERROR,
        "529",
    ),
}


@pytest.mark.parametrize("shape", list(ANTHROPIC_MALFORMED))
def test_an_anthropic_format_reply_of_any_bad_shape_leaves_the_deterministic_diagnosis(
    world: AgentWorld, server: FakeLLM, shape: str
) -> None:
    answer, status, why = ANTHROPIC_MALFORMED[shape]
    server.queue(*[answer] * 4)
    outcome = _run(world, server, "anthropic")
    _stands(outcome, world, status, why)
    assert server.posts[0].path == "/v1/messages"


@pytest.mark.parametrize("provider", ["openai", "openai-compatible", "ollama", "anthropic"])
def test_a_good_answer_is_applied_and_recorded_over_each_providers_wire_format(
    world: AgentWorld, server: FakeLLM, provider: str
) -> None:
    if provider == "anthropic":
        server.queue(anthropic_tool_use(output_tool, _good_args(world), input_tokens=2311))
    else:
        server.queue(openai_tool_call(output_tool, _good_args(world), prompt_tokens=2311))
    outcome = _run(world, server, provider)
    assert outcome.status is AgentStatus.APPLIED, outcome.reason
    review = outcome.review
    assert review.input_tokens == 2311 and review.output_tokens == 100
    assert review.requests == 1 and review.token_limit > review.tokens
    assert review.accepted and review.accepted[0].startswith("auth-service: bad_deploy")
    assert review.narrative == "auth-service leaks memory."
    assert review.check_next == ("heap profile of auth-service",)


def test_each_provider_sends_the_authentication_its_api_expects(
    world: AgentWorld, server: FakeLLM
) -> None:
    args = _good_args(world)
    server.queue(openai_tool_call(output_tool, args), anthropic_tool_use(output_tool, args))
    assert _run(world, server, "openai-compatible").applied
    assert _run(world, server, "anthropic").applied
    openai, anthropic = (r.headers for r in server.posts)
    assert openai["authorization"] == "Bearer sk-test"
    # Anthropic's Messages API: the key in x-api-key, a version header, no bearer token.
    assert anthropic["x-api-key"] == "sk-test"
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", anthropic["anthropic-version"])
    assert "authorization" not in anthropic


def test_a_local_server_without_a_key_gets_no_real_credentials(
    world: AgentWorld, server: FakeLLM, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    server.queue(openai_tool_call(output_tool, _good_args(world)))
    model = build_model("ollama", "qwen3", base_url=f"{server.url}/v1")
    with models.override_allow_model_requests(True):
        outcome = refine(world.diagnosis, world.incident, world.tools, model)
    assert outcome.applied, outcome.reason
    (post,) = server.posts
    assert post.body["model"] == "qwen3"
    assert "sk-" not in post.headers.get("authorization", "")


@pytest.mark.parametrize("provider", ["openai-compatible", "ollama", "anthropic"])
def test_the_doctor_check_lists_the_endpoints_models_with_the_agents_authentication(
    server: FakeLLM, provider: str
) -> None:
    base = server.url if provider == "anthropic" else f"{server.url}/v1"
    known = build_model(provider, "fake-model", base_url=base, api_key="sk-test")
    assert endpoint_health(known).endswith("answers; model fake-model is listed")
    unknown = build_model(provider, "gpt-9", base_url=base, api_key="sk-test")
    assert "does not list model gpt-9 (lists: fake-model)" in endpoint_health(unknown)
    (get, _) = server.received
    assert get.method == "GET" and get.path.startswith("/v1/models")
    if provider == "anthropic":
        assert get.headers["x-api-key"] == "sk-test" and "authorization" not in get.headers
    else:
        assert get.headers["authorization"] == "Bearer sk-test"
    assert server.posts == []  # no tokens spent


def test_the_doctor_check_says_when_the_endpoint_is_down_or_refuses(server: FakeLLM) -> None:
    down = build_model("openai-compatible", "m", base_url="http://127.0.0.1:9/v1", api_key="k")
    with pytest.raises(
        TransientError, match=re.escape("cannot reach openai at http://127.0.0.1:9")
    ):
        endpoint_health(down)
    server.api_key = "sk-right"
    for provider, base in (("anthropic", server.url), ("openai", f"{server.url}/v1")):
        wrong = build_model(provider, "fake-model", base_url=base, api_key="sk-wrong")
        with pytest.raises(PermanentError, match="answered 401"):
            endpoint_health(wrong)
