import os
import subprocess
import sys

import pytest

from codesuggest.providers import PROVIDERS, ProviderConfig, context_window, provider_for


def test_the_four_built_in_providers_are_registered():
    assert {"local", "vertex", "openai", "anthropic"} <= set(PROVIDERS)


def test_an_unknown_provider_is_a_value_error():
    with pytest.raises(ValueError, match="Unknown model provider 'bard'"):
        provider_for(ProviderConfig(provider="bard", model="x"))


def test_the_same_config_gets_the_same_instance_and_so_the_same_connection_pool():
    config = ProviderConfig(provider="openai", model="m", base_url="http://127.0.0.1:9")

    assert provider_for(config) is provider_for(ProviderConfig(**vars(config)))
    assert provider_for(config) is not provider_for(ProviderConfig(provider="openai", model="n"))


def test_the_package_needs_no_django_settings_and_defers_the_google_sdk():
    code = (
        "import sys, codesuggest.providers as p;"
        "p.provider_for(p.ProviderConfig(provider='vertex', model=''));"
        "from django.conf import settings;"
        "print(settings.configured, 'google.cloud.aiplatform_v1' in sys.modules)"
    )
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False False"


@pytest.mark.parametrize(
    ("provider", "model", "tokens"),
    [
        ("openai", "Qwen/Qwen2.5-Coder-7B", 32_768),
        ("openai", "claude-sonnet-4-5", 200_000),  # through an OpenAI-compatible proxy
        ("anthropic", "", 200_000),  # its default model
        ("vertex", "", 2048),  # code-gecko
        ("openai", "a-model-of-no-known-family", 8192),
        # The local engine reads whole files whatever model name is configured.
        ("local", "codestral-22b", 1_000_000),
    ],
)
def test_the_context_window_is_the_providers_and_by_default_its_model_familys(
    provider, model, tokens
):
    assert context_window(ProviderConfig(provider=provider, model=model)) == tokens
