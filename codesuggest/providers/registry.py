"""The one place that maps a provider name to its implementation."""

from __future__ import annotations

import threading
from collections.abc import Generator

from codesuggest import metrics

from .anthropic import AnthropicProvider
from .base import Candidate, ChatRequest, CompletionRequest, Provider, ProviderConfig
from .local import LocalProvider
from .openai import OpenAIProvider
from .vertex import VertexProvider

PROVIDERS: dict[str, type[LocalProvider | VertexProvider | OpenAIProvider | AnthropicProvider]] = {
    "local": LocalProvider,
    "vertex": VertexProvider,
    "openai": OpenAIProvider,
    "anthropic": AnthropicProvider,
}

_instances: dict[ProviderConfig, Provider] = {}
_lock = threading.Lock()


def provider_for(config: ProviderConfig) -> Provider:
    """The provider for `config`, built once per distinct config so its connection pool is
    reused by every request. Raises ValueError for an unknown provider name."""
    try:
        factory = PROVIDERS[config.provider]
    except KeyError:
        raise ValueError(
            f"Unknown model provider {config.provider!r}; expected one of "
            f"{', '.join(PROVIDERS)}"
        ) from None
    with _lock:
        provider = _instances.get(config)
        if provider is None:
            provider = _instances[config] = MeasuredProvider(factory(config), config)
        return provider


class MeasuredProvider:
    """A provider whose every call is timed for /-/metrics, by provider and model."""

    def __init__(self, provider: Provider, config: ProviderConfig) -> None:
        self.provider = provider
        self.default_model = provider.default_model
        self.follows_instructions = provider.follows_instructions
        self.labels = {"provider": config.provider, "model": model_name(config)}

    def complete(self, request: CompletionRequest) -> list[Candidate]:
        with metrics.upstream_call(**self.labels):
            return self.provider.complete(request)

    def chat(self, request: ChatRequest) -> Candidate:
        with metrics.upstream_call(**self.labels):
            return self.provider.chat(request)

    def stream_chat(self, request: ChatRequest) -> Generator[str]:
        with metrics.upstream_call(**self.labels):
            yield from self.provider.stream_chat(request)


def model_name(config: ProviderConfig) -> str:
    """The model a config names, or the one its provider uses when it names none."""
    return config.model or PROVIDERS[config.provider].default_model
