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
from .registry import PROVIDER_NAMES, model_name, provider_for

__all__ = [
    "PROVIDER_NAMES",
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
