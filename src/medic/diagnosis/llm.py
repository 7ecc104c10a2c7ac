"""Building the LLM the diagnostic agent talks to, from plain configuration values.

Supported: OpenAI, Anthropic, Ollama (through its OpenAI-compatible endpoint) and any
OpenAI-compatible server (vLLM, LiteLLM, LM Studio, ...) given its base URL, all through
Pydantic AI's providers. Nothing is contacted or downloaded here: a model object is a
description of where requests will go; the first request happens when the agent runs.
The provider SDKs are imported only when a model of theirs is built.
"""

from __future__ import annotations

import asyncio
from enum import StrEnum
from typing import Any, Protocol, cast

import httpx2
from pydantic_ai.exceptions import UserError
from pydantic_ai.models import Model
from pydantic_ai.settings import ModelSettings

from medic.domain.errors import InvalidInputError, PermanentError, TransientError

__all__ = [
    "DEFAULT_OLLAMA_BASE_URL",
    "SDK_RETRIES",
    "LLMProvider",
    "build_model",
    "endpoint_health",
]

DEFAULT_OLLAMA_BASE_URL = "http://localhost:11434/v1"
_DEFAULT_REQUEST_TIMEOUT_S = 30.0
_DEFAULT_MAX_OUTPUT_TOKENS = 1500
# The provider SDK is the one retry owner of a model call: one retry of a 429/5xx or a
# dropped connection, then the agent gives up and the deterministic diagnosis stands.
SDK_RETRIES = 1


class LLMProvider(StrEnum):
    OPENAI = "openai"
    ANTHROPIC = "anthropic"
    OLLAMA = "ollama"
    OPENAI_COMPATIBLE = "openai-compatible"


def build_model(
    provider: str,
    model: str,
    *,
    base_url: str | None = None,
    api_key: str | None = None,
    request_timeout_seconds: float = _DEFAULT_REQUEST_TIMEOUT_S,
    max_output_tokens: int = _DEFAULT_MAX_OUTPUT_TOKENS,
    http_client: httpx2.AsyncClient | None = None,
) -> Model:
    """A Pydantic AI model for `provider` and `model`.

    `api_key` None lets the provider SDK use its usual variable (OPENAI_API_KEY,
    ANTHROPIC_API_KEY); a local Ollama or OpenAI-compatible server needs none.
    `http_client` (the provider SDKs' httpx2 client) carries proxies, TLS settings, or
    in tests a transport that answers in the vendor's wire format.
    Raises InvalidInputError for an unknown provider, a missing model name, a missing
    base URL (openai-compatible) or a missing API key.
    """
    try:
        kind = LLMProvider(provider.strip().lower())
    except ValueError as e:
        choices = ", ".join(p.value for p in LLMProvider)
        raise InvalidInputError(f"unknown LLM provider {provider!r}: use one of {choices}") from e
    if not model.strip():
        raise InvalidInputError(f"no model name given for the {kind.value} LLM provider")
    settings = ModelSettings(timeout=request_timeout_seconds, max_tokens=max_output_tokens)
    try:
        return _build(kind, model.strip(), base_url, api_key, settings, http_client)
    except UserError as e:  # pydantic-ai's "no API key" and similar configuration errors
        raise InvalidInputError(f"cannot configure the {kind.value} LLM: {e}") from e


def _build(
    kind: LLMProvider,
    model: str,
    base_url: str | None,
    api_key: str | None,
    settings: ModelSettings,
    http_client: httpx2.AsyncClient | None,
) -> Model:
    if kind is LLMProvider.ANTHROPIC:
        return _anthropic(model, base_url, api_key, settings, http_client)
    if kind is LLMProvider.OLLAMA:
        from pydantic_ai.models.ollama import OllamaModel
        from pydantic_ai.providers.ollama import OllamaProvider

        ollama = OllamaProvider(
            base_url=base_url or DEFAULT_OLLAMA_BASE_URL, api_key=api_key, http_client=http_client
        )
        client = ollama.client.with_options(max_retries=SDK_RETRIES)
        return OllamaModel(model, provider=OllamaProvider(openai_client=client), settings=settings)

    from pydantic_ai.models.openai import OpenAIChatModel
    from pydantic_ai.providers.openai import OpenAIProvider

    if kind is LLMProvider.OPENAI_COMPATIBLE and not base_url:
        raise InvalidInputError("an openai-compatible LLM needs a base_url (e.g. http://host/v1)")
    openai = OpenAIProvider(base_url=base_url, api_key=api_key, http_client=http_client)
    client = openai.client.with_options(max_retries=SDK_RETRIES)
    return OpenAIChatModel(model, provider=OpenAIProvider(openai_client=client), settings=settings)


def _anthropic(
    model: str,
    base_url: str | None,
    api_key: str | None,
    settings: ModelSettings,
    http_client: httpx2.AsyncClient | None,
) -> Model:
    from anthropic import omit
    from pydantic_ai.models.anthropic import AnthropicModel
    from pydantic_ai.providers.anthropic import AnthropicProvider

    provider = AnthropicProvider(api_key=api_key, base_url=base_url, http_client=http_client)
    client = provider.client.with_options(max_retries=SDK_RETRIES)
    key = getattr(client, "api_key", None)
    if isinstance(key, str) and key:
        # The Messages API authenticates with `x-api-key` (and `anthropic-version`, which
        # the SDK sends); this SDK sends an API key as `Authorization: Bearer` instead.
        # (`omit` drops a header; the SDK's annotation says str only.)
        headers: dict[str, Any] = {"x-api-key": key, "Authorization": omit}
        client = client.with_options(default_headers=headers)
    return AnthropicModel(
        model, provider=AnthropicProvider(anthropic_client=client), settings=settings
    )


def endpoint_health(model: Model) -> str:
    """Whether the model's endpoint answers and knows the model: its models list, asked
    through the same SDK client (and so the same authentication) the agent uses. No
    tokens are spent. Raises TransientError (unreachable, 429, 5xx) or PermanentError
    (a refused key, a missing endpoint)."""
    client = getattr(model, "client", None)
    models_api = getattr(client, "models", None)
    if models_api is None:
        return f"{model.system}:{model.model_name}: no endpoint to check"
    where = f"{model.system} at {model.base_url}"
    try:
        names = asyncio.run(_model_ids(models_api))
    except Exception as e:  # the SDKs' errors, translated below
        raise _translated(e, where) from e
    if model.model_name in names:
        return f"{where}: answers; model {model.model_name} is listed"
    shown = ", ".join(sorted(names)[:5]) or "none"
    return f"{where}: answers, but does not list model {model.model_name} (lists: {shown})"


class _ModelsApi(Protocol):
    """`client.models` of the OpenAI and Anthropic SDKs."""

    async def list(self) -> object: ...


async def _model_ids(models_api: object) -> set[str]:
    page = await cast(_ModelsApi, models_api).list()
    return {str(getattr(m, "id", "")) for m in getattr(page, "data", [])}


def _translated(error: Exception, where: str) -> TransientError | PermanentError:
    status = getattr(error, "status_code", None)
    if isinstance(status, int):
        text = f"{where} answered {status}: {str(error)[:200]}"
        return TransientError(text) if status == 429 or status >= 500 else PermanentError(text)
    return TransientError(f"cannot reach {where}: {type(error).__name__}: {str(error)[:200]}")
