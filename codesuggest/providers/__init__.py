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
from .redaction import redact_text
from .registry import (
    PROVIDERS,
    context_window,
    masks_secrets,
    model_name,
    provider_class,
    provider_for,
)

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
    "masks_secrets",
    "model_name",
    "provider_class",
    "provider_for",
    "redact_text",
]
