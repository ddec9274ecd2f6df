"""Model-provider clients behind one small interface. See `base.Provider`."""

from .base import (
    Candidate,
    ChatMessage,
    CompletionRequest,
    Provider,
    ProviderConfig,
    ProviderError,
    ProviderTimeout,
)
from .registry import PROVIDER_NAMES, provider_for

__all__ = [
    "PROVIDER_NAMES",
    "Candidate",
    "ChatMessage",
    "CompletionRequest",
    "Provider",
    "ProviderConfig",
    "ProviderError",
    "ProviderTimeout",
    "provider_for",
]
