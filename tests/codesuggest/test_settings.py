"""Settings come from the environment and refuse bad values at start-up
(docs/operations.md#settings)."""

import os
import subprocess
import sys

import pytest
from django.conf import settings

SETUP = "import django; django.setup(); from django.conf import settings; print(settings.DEBUG)"


def start(*, code: str = SETUP, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_"))}
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=settings.BASE_DIR,
        env={**clean, "DJANGO_SETTINGS_MODULE": "codesuggest.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_it_starts_in_production_mode_with_a_secret_key():
    result = start(DJANGO_DEBUG="false", DJANGO_SECRET_KEY="a-real-secret")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_it_starts_in_debug_mode_without_a_secret_key():
    result = start(DJANGO_DEBUG="true")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "True"


def test_debug_is_off_by_default():
    result = start(DJANGO_SECRET_KEY="a-real-secret")
    assert result.stdout.strip() == "False"


def test_it_refuses_to_start_without_a_secret_key_when_not_debugging():
    result = start(DJANGO_DEBUG="false")
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_it_refuses_to_start_with_no_settings_at_all():
    result = start()
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


@pytest.mark.parametrize("value", ["maybe", "ture", "1", "yes", "on", "off"])
def test_it_refuses_a_debug_value_that_is_not_true_or_false(value):
    result = start(DJANGO_DEBUG=value, DJANGO_SECRET_KEY="a-real-secret")
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "DJANGO_DEBUG" in result.stderr


def test_it_refuses_a_rate_limit_that_is_not_a_number():
    result = start(DJANGO_SECRET_KEY="s", CODE_SUGGESTIONS_RATE_LIMIT="lots")
    assert result.returncode != 0
    assert "CODE_SUGGESTIONS_RATE_LIMIT" in result.stderr


@pytest.mark.parametrize("name", ["COMPLETIONS_PROVIDER", "GENERATIONS_PROVIDER", "CHAT_PROVIDER"])
def test_it_refuses_a_provider_the_registry_does_not_know_naming_those_it_does(name):
    result = start(DJANGO_SECRET_KEY="s", **{name: "bard"})
    assert result.returncode != 0
    assert f"{name} must be one of local, vertex, openai, anthropic, not 'bard'" in result.stderr


def test_a_provider_added_to_the_registry_is_one_the_settings_accept():
    code = (
        "from codesuggest.providers import PROVIDERS;"
        "PROVIDERS['parrot'] = PROVIDERS['openai'];"
        "from django.conf import settings;"
        "print(settings.COMPLETIONS_PROVIDER)"
    )
    result = start(code=code, DJANGO_SECRET_KEY="s", COMPLETIONS_PROVIDER="parrot")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "parrot"


def test_an_empty_variable_counts_as_unset_so_generations_follow_completions():
    # As docker-compose passes every setting it lists, empty when the operator left it out.
    result = start(
        DJANGO_SECRET_KEY="s",
        COMPLETIONS_MODEL="codestral",
        COMPLETIONS_BASE_URL="http://models.internal/v1",
        COMPLETIONS_API_KEY="key",
        GENERATIONS_MODEL="",
        GENERATIONS_BASE_URL="",
        GENERATIONS_API_KEY="",
        CODESUGGEST_URL="",
        code="import django; django.setup(); from django.conf import settings as s; "
        "print(s.GENERATIONS_MODEL, s.GENERATIONS_BASE_URL, s.GENERATIONS_API_KEY, "
        "s.CODESUGGEST_URL)",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "codestral",
        "http://models.internal/v1",
        "key",
        "http://localhost:8000",
    ]


def test_it_reads_true_and_false_whatever_their_case():
    result = start(DJANGO_DEBUG="True", DJANGO_SECRET_KEY="s")
    assert result.stdout.strip() == "True"


def test_the_forwarded_protocol_is_trusted_only_behind_a_tls_proxy():
    result = start(
        DJANGO_SECRET_KEY="a-real-secret",
        code="from django.conf import settings; print(settings.SECURE_PROXY_SSL_HEADER)",
    )
    behind_proxy = start(
        DJANGO_SECRET_KEY="a-real-secret",
        DJANGO_SECURE_SSL_REDIRECT="true",
        code="from django.conf import settings; print(settings.SECURE_PROXY_SSL_HEADER)",
    )

    assert result.stdout.strip() == "None"
    assert behind_proxy.stdout.strip() == "('HTTP_X_FORWARDED_PROTO', 'https')"
