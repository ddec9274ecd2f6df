"""Model-provider clients behind one small interface. See `base.Provider`."""

from .base import (
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
from .registry import PROVIDERS, model_name, provider_for

__all__ = [
    "PROVIDERS",
    "Candidate",
    "ChatMessage",
    "ChatRequest",
    "CompletionRequest",
    "Provider",
    "ProviderConfig",
    "ProviderError",
    "ProviderTimeout",
    "References",
    "model_name",
    "provider_for",
]
