"""The real services some tests need: PostgreSQL, Redis, a Celery worker, server processes.

On a machine without a service those tests are skipped with the reason; under CI (CI=true)
a missing service fails them instead, so a green CI always means they ran.
"""

import os
import socket
from urllib.parse import urlparse

import pytest
from django.conf import settings

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"


def unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: a missing service is a failure)")
    pytest.skip(reason)


def port_open(url: str, default_port: int) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection(
            (parsed.hostname or "127.0.0.1", parsed.port or default_port), 1
        ):
            return True
    except OSError:
        return False


def redis_url() -> str:
    """A Redis the test may use (a database of its own, emptied first)."""
    url = os.environ.get("TEST_REDIS_URL", DEFAULT_REDIS_URL)
    if not port_open(url, 6379):
        unavailable(f"Redis is not running at {url}")
    return url


def database_is_postgresql() -> bool:
    return settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
