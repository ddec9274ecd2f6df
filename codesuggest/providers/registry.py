"""The one place that maps a provider name to its implementation.

Adding a provider is adding its module and its line in PROVIDERS: the settings, the admin's
choices and the API read the names, options and context windows from here.
"""

from __future__ import annotations

import threading
from collections.abc import Generator

from codesuggest import metrics

from .anthropic import AnthropicProvider
from .base import BaseProvider, Candidate, ChatRequest, CompletionRequest, Provider, ProviderConfig
from .local import LocalProvider
from .openai import OpenAIProvider
from .redaction import RedactingProvider
from .vertex import VertexProvider

PROVIDERS: dict[str, type[BaseProvider]] = {
    "local": LocalProvider,
    "vertex": VertexProvider,
    "openai": OpenAIProvider,
    "anthropic": AnthropicProvider,
}

_instances: dict[ProviderConfig, Provider] = {}
_lock = threading.Lock()


def provider_for(config: ProviderConfig) -> Provider:
    """The provider for `config`, built once per distinct config so its connection pool is
    reused by every request, and sent no secret unless it keeps what it is sent in this process
    or the config says not to mask them. Raises ValueError for an unknown provider name."""
    factory = provider_class(config.provider)
    with _lock:
        provider = _instances.get(config)
        if provider is None:
            provider = MeasuredProvider(factory(config), config)
            if masks_secrets(config):
                provider = RedactingProvider(provider)
            _instances[config] = provider
        return provider


def masks_secrets(config: ProviderConfig) -> bool:
    """Whether the provider for `config` is sent text with its secrets masked (redaction.py)."""
    return config.redact_secrets and not provider_class(config.provider).keeps_text_in_process


def provider_class(name: str) -> type[BaseProvider]:
    """The class registered as `name`. Raises ValueError for an unknown name."""
    try:
        return PROVIDERS[name]
    except KeyError:
        raise ValueError(
            f"Unknown model provider {name!r}; expected one of {', '.join(PROVIDERS)}"
        ) from None


class MeasuredProvider:
    """A provider whose every call is timed for /-/metrics, by provider and model."""

    def __init__(self, provider: Provider, config: ProviderConfig) -> None:
        self.provider = provider
        self.default_model = provider.default_model
        self.follows_instructions = provider.follows_instructions
        self.labels = {"provider": config.provider, "model": model_name(config)}
        self.chat_labels = {"provider": config.provider, "model": model_name(config, chat=True)}

    def complete(self, request: CompletionRequest) -> list[Candidate]:
        with metrics.upstream_call(**self.labels):
            return self.provider.complete(request)

    def chat(self, request: ChatRequest) -> Candidate:
        with metrics.upstream_call(**self.chat_labels):
            return self.provider.chat(request)

    def stream_chat(self, request: ChatRequest) -> Generator[str]:
        with metrics.upstream_call(**self.chat_labels):
            yield from self.provider.stream_chat(request)


def model_name(config: ProviderConfig, *, chat: bool = False) -> str:
    """The model a completion goes to, or with `chat` a chat or an instructed generation: the
    one the config names, or the one its provider uses when it names none."""
    return provider_class(config.provider).model_for(config.model, chat=chat)


def context_window(config: ProviderConfig, *, chat: bool = False) -> int:
    """The tokens the model reads at once, prompt and answer together (`chat` as model_name)."""
    return provider_class(config.provider).context_window(model_name(config, chat=chat))
