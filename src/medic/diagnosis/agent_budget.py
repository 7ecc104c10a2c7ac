"""The LLM agent's token budget: derived from what the prompt allows, checked before
every request.

Every request to a chat model re-sends the whole conversation: the instructions, the
tool definitions, the incident digest, then each earlier tool call and its result. So
the cost of a run that may call `tool_calls` tools is known in advance from the size
of the first request (instructions + tool schemas + digest, measured when it is about
to be sent) and a bound on what each tool turn adds:

    requests = tool_calls + 1 (the answer) + OUTPUT_RETRIES (one repair of a bad answer)
    limit    = sum over request k = 0 .. requests-1 of (first + k * TURN_TOKENS)
               + (requests - 1) * TOOL_CALL_OUTPUT + answer_tokens

`TURN_TOKENS` bounds a tool call plus its result (the tools cut their answers to a
dozen log lines or twenty changes, about 1,500 tokens at most). A configured
`llm.max_tokens` caps the derived limit, never raises it.

`BudgetedModel` wraps the provider's model: before each request it estimates the
request's input tokens the way providers bill them (`estimate_input`: ~4 characters
per token of English and JSON, plus a few tokens of framing per message) and refuses
the request, with `UsageLimitExceeded`, when the tokens already billed plus that
estimate plus the output allowance would pass the limit. One answer can therefore
never overshoot the budget by more than the estimate's error.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from pydantic_ai.exceptions import UsageLimitExceeded
from pydantic_ai.messages import (
    ModelMessage,
    ModelRequest,
    ModelResponse,
    ModelResponsePart,
    RetryPromptPart,
    SystemPromptPart,
    TextPart,
    ToolCallPart,
    ToolReturnPart,
    UserPromptPart,
)
from pydantic_ai.models import Model, ModelRequestParameters
from pydantic_ai.models.wrapper import WrapperModel
from pydantic_ai.settings import ModelSettings
from pydantic_ai.tools import ToolDefinition

__all__ = [
    "CHARS_PER_TOKEN",
    "OUTPUT_RETRIES",
    "TOKENS_PER_MESSAGE",
    "TOOL_CALL_OUTPUT",
    "TURN_TOKENS",
    "BudgetedModel",
    "TokenMeter",
    "derived_limit",
    "estimate_input",
    "output_tokens",
    "planned_requests",
    "tokens_of",
]

CHARS_PER_TOKEN = 4
TOKENS_PER_MESSAGE = 4
OUTPUT_RETRIES = 1
# A tool call (~60 tokens) and its result (at most ~1,500: twenty changes or a dozen
# log lines of 240 characters, fenced).
TURN_TOKENS = 1600
# What the model writes to call one tool.
TOOL_CALL_OUTPUT = 120


def tokens_of(text: str) -> int:
    return (len(text) + CHARS_PER_TOKEN - 1) // CHARS_PER_TOKEN


def planned_requests(tool_calls: int) -> int:
    """Requests a run needs: one per tool call, the answer, and one repair of it."""
    return tool_calls + 1 + OUTPUT_RETRIES


def derived_limit(first_request: int, tool_calls: int, answer_tokens: int) -> int:
    """The token limit of a run whose first request is `first_request` tokens."""
    requests = planned_requests(tool_calls)
    inputs = sum(first_request + k * TURN_TOKENS for k in range(requests))
    return inputs + (requests - 1) * TOOL_CALL_OUTPUT + answer_tokens


def estimate_input(
    messages: Sequence[ModelMessage], tools: Sequence[ToolDefinition], instructions: str
) -> int:
    """What a provider would bill for a request: the instructions, every tool
    definition and all messages so far, at CHARS_PER_TOKEN, plus TOKENS_PER_MESSAGE each."""
    chars = len(instructions)
    for tool in tools:
        schema = json.dumps(tool.parameters_json_schema, separators=(",", ":"))
        chars += len(tool.name) + len(tool.description or "") + len(schema)
    count = 0
    for message in messages:
        count += TOKENS_PER_MESSAGE
        if isinstance(message, ModelRequest):
            chars += sum(len(_request_text(part)) for part in message.parts)
        elif isinstance(message, ModelResponse):
            count += output_tokens(message.parts)
    return count + (chars + CHARS_PER_TOKEN - 1) // CHARS_PER_TOKEN


def output_tokens(parts: Sequence[ModelResponsePart]) -> int:
    """What a provider would bill for a response's text and tool calls."""
    count = 0
    for part in parts:
        if isinstance(part, TextPart):
            count += tokens_of(part.content)
        elif isinstance(part, ToolCallPart):
            count += TOKENS_PER_MESSAGE + tokens_of(part.tool_name + part.args_as_json_str())
    return count


def _request_text(part: object) -> str:
    if isinstance(part, SystemPromptPart):
        return part.content
    if isinstance(part, UserPromptPart):
        return part.content if isinstance(part.content, str) else str(part.content)
    if isinstance(part, ToolReturnPart):
        return part.model_response_str()
    if isinstance(part, RetryPromptPart):
        return part.model_response()
    return ""


@dataclass
class TokenMeter:
    """One run's budget: the limit (fixed at the first request) and what was billed."""

    tool_calls: int
    answer_tokens: int  # the most one answer may write (the model's max_tokens)
    cap: int | None = None  # a configured ceiling (llm.max_tokens)
    limit: int = 0
    billed: int = 0
    first_request: int = 0

    def admit(self, estimate: int) -> None:
        """Fix the limit on the first request; refuse one that would pass it."""
        if not self.limit:
            self.first_request = estimate
            derived = derived_limit(estimate, self.tool_calls, self.answer_tokens)
            self.limit = min(derived, self.cap) if self.cap else derived
        allowance = self.answer_tokens
        if self.billed + estimate + allowance > self.limit:
            raise UsageLimitExceeded(
                f"the next request (about {estimate:,} input tokens plus up to {allowance:,} "
                f"output) would pass the token limit of {self.limit:,} "
                f"({self.billed:,} already spent); it was not sent"
            )

    def bill(self, tokens: int) -> None:
        self.billed += tokens


class BudgetedModel(WrapperModel):
    """The provider's model, asked only for requests that fit the run's TokenMeter."""

    def __init__(self, wrapped: Model, meter: TokenMeter, instructions: str) -> None:
        super().__init__(wrapped)
        self.meter = meter
        self.instructions = instructions

    async def request(
        self,
        messages: list[ModelMessage],
        model_settings: ModelSettings | None,
        model_request_parameters: ModelRequestParameters,
    ) -> ModelResponse:
        tools = [*model_request_parameters.function_tools, *model_request_parameters.output_tools]
        self.meter.admit(estimate_input(messages, tools, self.instructions))
        response = await super().request(messages, model_settings, model_request_parameters)
        self.meter.bill(response.usage.input_tokens + response.usage.output_tokens)
        return response
