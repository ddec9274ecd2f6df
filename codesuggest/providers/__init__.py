"""Model-provider clients behind one small interface. See `base.Provider`."""

from .base import (
    BaseProvider,
    Candidate,
    ChatMessage,
    ChatRequest,
    CompletionRequest,
    Provider,
    ProviderConfig,
    ProviderError,
    ProviderTimeout,
    References,
)
from .registry import PROVIDERS, context_window, model_name, provider_class, provider_for

__all__ = [
    "PROVIDERS",
    "BaseProvider",
    "Candidate",
    "ChatMessage",
    "ChatRequest",
    "CompletionRequest",
    "Provider",
    "ProviderConfig",
    "ProviderError",
    "ProviderTimeout",
    "References",
    "context_window",
    "model_name",
    "provider_class",
    "provider_for",
]
