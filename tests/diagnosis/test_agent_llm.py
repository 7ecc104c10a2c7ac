"""Model construction from configuration, and the agent against a vendor wire format.

No test reaches a real LLM: the conftest forbids model requests, and the one test
that lets a request through answers it with an httpx2 transport speaking OpenAI's
chat-completions format (tool calls and the `usage` block), as a vLLM, LiteLLM or
Ollama server would.
"""

from __future__ import annotations

import json
from typing import Any

import httpx2
import pytest
from pydantic_ai import models
from pydantic_ai.models.anthropic import AnthropicModel
from pydantic_ai.models.ollama import OllamaModel
from pydantic_ai.models.openai import OpenAIChatModel

from medic.diagnosis.agent import AgentStatus, refine
from medic.diagnosis.agent_prompt import INSTRUCTIONS
from medic.diagnosis.llm import DEFAULT_OLLAMA_BASE_URL, build_model
from medic.domain.errors import InvalidInputError
from tests.diagnosis.agent_support import AgentWorld, agent_world, outside_fences


@pytest.fixture(scope="module")
def world() -> AgentWorld:
    return agent_world()


def test_each_provider_builds_its_model_pointing_where_configured() -> None:
    openai = build_model("openai", "gpt-4o-mini", api_key="sk-test")
    assert isinstance(openai, OpenAIChatModel)
    assert openai.base_url.startswith("https://api.openai.com/v1")
    anthropic = build_model("Anthropic", "claude-haiku-4-5", api_key="sk-ant-test")
    assert isinstance(anthropic, AnthropicModel)
    ollama = build_model("ollama", "qwen3")
    assert isinstance(ollama, OllamaModel)
    assert ollama.base_url.rstrip("/") == DEFAULT_OLLAMA_BASE_URL
    local = build_model("openai-compatible", "llama", base_url="http://10.0.0.5:8000/v1")
    assert isinstance(local, OpenAIChatModel)
    assert local.base_url.rstrip("/") == "http://10.0.0.5:8000/v1"


@pytest.mark.parametrize(
    ("provider", "base_url", "message"),
    [
        ("gemini", None, "unknown LLM provider 'gemini': use one of openai, anthropic"),
        ("openai-compatible", None, "an openai-compatible LLM needs a base_url"),
    ],
)
def test_a_bad_configuration_says_what_is_wrong(
    provider: str, base_url: str | None, message: str
) -> None:
    with pytest.raises(InvalidInputError, match=message):
        build_model(provider, "some-model", base_url=base_url)


def test_a_missing_api_key_is_a_configuration_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    with pytest.raises(InvalidInputError, match="cannot configure the anthropic LLM"):
        build_model("anthropic", "claude-haiku-4-5")


def test_a_real_model_is_never_called_in_tests_and_the_deterministic_diagnosis_stands(
    world: AgentWorld,
) -> None:
    model = build_model("openai-compatible", "m", base_url="http://127.0.0.1:9/v1")
    outcome = refine(world.diagnosis, world.incident, world.tools, model)
    assert outcome.status is AgentStatus.MODEL_ERROR
    assert "Model requests are not allowed" in outcome.reason
    assert outcome.diagnosis is world.diagnosis


def test_an_openai_compatible_server_is_driven_and_billed_from_its_own_usage_block(
    world: AgentWorld,
) -> None:
    requests: list[dict[str, Any]] = []
    top = world.diagnosis.top
    assert top is not None

    def server(request: httpx2.Request) -> httpx2.Response:
        body = json.loads(request.content)
        requests.append(body)
        output = next(
            t["function"]["name"] for t in body["tools"] if "final" in t["function"]["name"]
        )
        args = {
            "hypotheses": [
                {
                    "service": "auth-service",
                    "category": "bad_deploy",
                    "change": "v1.2.1",
                    "explanation": "Memory climbs from the v1.2.1 deploy on.",
                    "evidence_ids": list(top.evidence_ids),
                }
            ],
            "narrative": "auth-service v1.2.1 leaks memory.",
            "check_next": ["heap profile of auth-service"],
        }
        call = {
            "id": "call_1",
            "type": "function",
            "function": {"name": output, "arguments": json.dumps(args)},
        }
        return httpx2.Response(
            200,
            json={
                "id": "chatcmpl-1",
                "object": "chat.completion",
                "created": 1_800_000_000,
                "model": "local-model",
                "choices": [
                    {
                        "index": 0,
                        "finish_reason": "tool_calls",
                        "message": {"role": "assistant", "content": None, "tool_calls": [call]},
                    }
                ],
                "usage": {"prompt_tokens": 2311, "completion_tokens": 97, "total_tokens": 2408},
            },
        )

    client = httpx2.AsyncClient(transport=httpx2.MockTransport(server))
    model = build_model(
        "openai-compatible", "local-model", base_url="http://llm.test/v1", http_client=client
    )
    with models.override_allow_model_requests(True):
        outcome = refine(world.diagnosis, world.incident, world.tools, model)

    assert outcome.status is AgentStatus.APPLIED
    assert (outcome.input_tokens, outcome.output_tokens, outcome.tokens) == (2311, 97, 2408)
    assert outcome.narrative == "auth-service v1.2.1 leaks memory."
    (body,) = requests
    messages = body["messages"]
    assert isinstance(messages, list)
    system, user = messages[0], messages[1]
    assert system["role"] == "system" and system["content"] == INSTRUCTIONS.strip()
    assert "untrusted-data id=" in user["content"]
    assert outside_fences(user["content"]).startswith("Incident inc-1.")
    assert {t["function"]["name"] for t in body["tools"]} >= {
        "query_metric",
        "recent_logs",
        "changes",
    }
