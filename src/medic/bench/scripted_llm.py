"""A benchmark fixture, never used by the product: a scripted stand-in for a real LLM.

`medic bench scenarios --llm scripted` installs the product's LLM agent (the same
refiner `medic.bootstrap` builds from the `llm` settings, with the same usage limits)
but talks to a Pydantic AI `FunctionModel` instead of a provider, so the benchmark can
report what the agent costs per incident without a network or an API key.

The scripted model behaves like a well-behaved real model, reading only what the agent
sends it (the messages and the tool definitions), never medic's internals:

1. first call: it reads the deterministic ranking from the prompt's digest and asks
   for one read-only tool about the top hypothesis: the namespace's changes when the
   top is a deploy or config change, else the top service's recent logs;
2. second call: it returns the typed report through the output tool, agreeing with the
   deterministic top hypothesis (service, category, change, fault) and citing the
   evidence ids the digest lists for it plus the one the tool answered with.

Tokens are billed the way a provider counts them, not with Pydantic AI's own estimate
(`FunctionModel` counts whitespace/punctuation-separated words of the messages only,
leaving out the instructions and the tool schemas sent with every request, and bills
every earlier response again as output). Here, per request:

- input: the instructions, every tool definition (name, description and JSON schema,
  compact JSON) and every message so far (user prompt, tool results, retry prompts and
  the model's own earlier turns), at ~4 characters per token, the usual figure for
  English and JSON with GPT/Claude tokenizers, plus 4 tokens of framing per message;
- output: the response's text and tool calls (name and JSON arguments), the same way.

This is the agent budget's own estimate (`medic.diagnosis.agent_budget`), so the
budget's before-request check and the billed counts agree here; the request and tool
call limits and the token limit apply to these counts as they would to a provider's.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

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

from medic.bootstrap import Medic
from medic.bootstrap.llm import agent_limits, agent_refiner
from medic.diagnosis.agent_budget import estimate_input, output_tokens, tokens_of
from medic.domain import InvalidInputError
from medic.workflows.context import install

__all__ = [
    "BENCH_LLMS",
    "input_tokens",
    "output_tokens",
    "scripted_model",
    "tokens_of",
    "use_llm",
]

BENCH_LLMS = ("none", "scripted")

_CHANGE_CATEGORIES = ("bad_deploy", "config_change")
# "1. cart: bad_deploy, change v2.1.0, fault memory_leak, score 0.91, cites ev-1, ev-4"
_TOP = re.compile(
    r"^1\. (?P<service>[^:\s]+): (?P<category>[a-z_]+)(?:, change (?P<change>.+?))?"
    r", fault (?P<fault>\S+?), score [-\d.]+, cites (?P<cites>.+)$",
    re.MULTILINE,
)
_EVIDENCE_ID = re.compile(r"\bev-[\w-]+")
_TOOL_EVIDENCE = re.compile(r"^evidence (ev-[\w-]+):")


def use_llm(medic: Medic, llm: str | None) -> None:
    """Give `medic` (built, not started) the LLM agent named `llm` (one of BENCH_LLMS;
    None or "none": no LLM)."""
    if llm is None or llm == "none":
        return
    if llm != "scripted":
        raise InvalidInputError(f"unknown bench LLM {llm!r}: use one of {', '.join(BENCH_LLMS)}")
    limits = agent_limits(medic.settings.llm)
    medic.deps = replace(medic.deps, refiner=agent_refiner(scripted_model(), limits, medic.world))
    install(medic.deps)


def scripted_model() -> FunctionModel:
    return FunctionModel(_respond, model_name="bench-scripted")


@dataclass(frozen=True)
class _Top:
    service: str
    category: str
    change: str | None
    fault: str | None
    cites: tuple[str, ...]


def _respond(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
    prompt = _prompt(messages)
    top = _top(prompt)
    answered = any(isinstance(m, ModelResponse) for m in messages)
    if answered or not info.output_tools:
        parts: list[ModelResponsePart] = [_report(top, _tool_evidence(messages), info)]
    else:
        parts = [_tool_call(top, info)]
    usage = RequestUsage(
        input_tokens=input_tokens(messages, info), output_tokens=output_tokens(parts)
    )
    return ModelResponse(parts=parts, usage=usage)


def _prompt(messages: Sequence[ModelMessage]) -> str:
    for message in messages:
        if isinstance(message, ModelRequest):
            for part in message.parts:
                if isinstance(part, UserPromptPart) and isinstance(part.content, str):
                    return part.content
    return ""


def _top(prompt: str) -> _Top | None:
    match = _TOP.search(prompt)
    if match is None:
        return None
    fault = match["fault"]
    return _Top(
        service=match["service"],
        category=match["category"],
        change=match["change"],
        fault=None if fault == "?" else fault,
        cites=tuple(_EVIDENCE_ID.findall(match["cites"])),
    )


def _tool_call(top: _Top | None, info: AgentInfo) -> ToolCallPart:
    offered = {t.name for t in info.function_tools}
    if top is not None and "recent_logs" in offered and top.category not in _CHANGE_CATEGORIES:
        return ToolCallPart("recent_logs", {"service": top.service, "minutes": 30})
    if "changes" in offered:
        return ToolCallPart("changes", {"minutes": 180})
    # Nothing fitting to ask: answer straight away.
    return _report(top, [], info)


def _tool_evidence(messages: Sequence[ModelMessage]) -> list[str]:
    found: list[str] = []
    for message in messages:
        if isinstance(message, ModelRequest):
            for part in message.parts:
                if isinstance(part, ToolReturnPart):
                    match = _TOOL_EVIDENCE.match(part.model_response_str())
                    if match:
                        found.append(match[1])
    return found


def _report(top: _Top | None, gathered: Sequence[str], info: AgentInfo) -> ToolCallPart:
    if top is None or not top.cites:
        args: dict[str, object] = {
            "hypotheses": [],
            "narrative": "No service moved enough to support a root cause; none is proposed.",
            "check_next": ["whether the alert reflects a real user-facing problem"],
        }
    else:
        claim: dict[str, object] = {
            "service": top.service,
            "category": top.category,
            "explanation": (
                f"The cited evidence shows {top.service} degrading from the onset, "
                f"consistent with a {top.category.replace('_', ' ')}."
            ),
            "evidence_ids": [*top.cites, *gathered],
        }
        if top.change:
            claim["change"] = top.change
        if top.fault:
            claim["fault"] = top.fault
        args = {
            "hypotheses": [claim],
            "narrative": (
                f"The evidence agrees with the deterministic ranking: {top.service} is the "
                "most likely root cause."
            ),
            "check_next": [f"whether {top.service} recovers after the remediation"],
        }
    return ToolCallPart(info.output_tools[0].name, args)


def input_tokens(messages: Sequence[ModelMessage], info: AgentInfo) -> int:
    """What a real model would bill for a request (the agent budget's own estimate:
    instructions, tool definitions and all messages so far)."""
    tools = [*info.function_tools, *info.output_tools]
    return estimate_input(messages, tools, info.instructions or "")
