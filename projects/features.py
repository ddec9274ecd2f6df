"""Which provider and model serve each AI feature: the environment, unless an admin overrode it."""

from typing import Literal

from django.conf import settings

from codesuggest.providers import ProviderConfig, provider_class
from projects.models import InstanceSettings

Feature = Literal["completions", "generations", "chat"]


def provider_config(feature: Feature) -> ProviderConfig:
    prefix = feature.upper()
    overrides = InstanceSettings.load()
    provider = getattr(overrides, f"{feature}_provider") or getattr(settings, f"{prefix}_PROVIDER")
    model = getattr(overrides, f"{feature}_model") or getattr(settings, f"{prefix}_MODEL")
    return ProviderConfig(
        provider=provider,
        model=model,
        base_url=getattr(settings, f"{prefix}_BASE_URL"),
        api_key=getattr(settings, f"{prefix}_API_KEY"),
        timeout=getattr(settings, f"{prefix}_TIMEOUT"),
        fim_template=overrides.fim_template,
        redact_secrets=settings.REDACT_SECRETS,
        options=provider_class(provider).options_from(settings),
    )
