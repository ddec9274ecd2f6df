"""`manage.py check --deploy` passes, warnings included, with the production settings: DEBUG off,
behind the TLS proxy, a real secret key, PostgreSQL and Redis."""

import secrets
import subprocess
import sys

from django.conf import settings

from tests.test_production_config import FULL_CONFIG, environment

PRODUCTION = {
    **FULL_CONFIG,
    "DJANGO_DEBUG": "false",
    "DJANGO_SECURE_SSL_REDIRECT": "true",
    "DJANGO_ALLOWED_HOSTS": "codesuggest.example.com",
    "CODESUGGEST_URL": "https://codesuggest.example.com",
}


def check_deploy(**env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=settings.BASE_DIR,
        env=environment(**env),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_it_passes_with_the_production_settings():
    result = check_deploy(**PRODUCTION, DJANGO_SECRET_KEY=secrets.token_urlsafe(50))

    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def test_it_fails_without_the_tls_proxy():
    # The same check, run where it has something to find: so the pass above means something.
    result = check_deploy(
        **{**PRODUCTION, "DJANGO_SECURE_SSL_REDIRECT": "false"},
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
    )

    assert result.returncode != 0
    assert "security.W008" in result.stderr  # SECURE_SSL_REDIRECT
    assert "security.W004" in result.stderr  # SECURE_HSTS_SECONDS
    assert "security.W012" in result.stderr  # SESSION_COOKIE_SECURE


def test_it_fails_with_a_weak_secret_key():
    result = check_deploy(**PRODUCTION, DJANGO_SECRET_KEY="short")

    assert result.returncode != 0
    assert "security.W009" in result.stderr
