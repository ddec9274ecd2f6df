"""Personas and a small API client, as in the house style: alice (admin of a group), bob (a
member) and charlie (an outsider)."""

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.cache import cache
from django.core.management.base import CommandError
from django.test import Client, TransactionTestCase

from codesuggest.shared_redis import shared_redis
from completions import usage
from projects.models import AccessLevel, Group, Membership, PersonalAccessToken, Project, User

# Fixtures for every test module: the guard runs around each test; the others on request.
from tests.chat.worker import worker  # noqa: F401
from tests.fake_servers import model_server  # noqa: F401
from tests.redis_guard import shared_redis_guard  # noqa: F401
from tests.services import own_redis, redis_server  # noqa: F401

# The fixtures that start a real service or need one: a test using one is marked `services`, so
# that `-m "not services"` runs without Redis, PostgreSQL or a Celery worker.
SERVICE_FIXTURES = frozenset({"redis_server", "own_redis", "worker", "own_postgres"})


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Fails, before its fixtures start anything, a test using a service without the marker."""
    used = SERVICE_FIXTURES.intersection(getattr(item, "fixturenames", ()))
    if used and item.get_closest_marker("services") is None:
        pytest.fail(f"uses {', '.join(sorted(used))}: mark it services", pytrace=False)


@dataclass
class World:
    alice: User
    bob: User
    charlie: User
    group: Group
    subgroup: Group
    project: Project  # private, in the subgroup
    public_project: Project


def _flush_retried_after_a_deadlock(flush: Callable[[TransactionTestCase], None]) -> Callable:
    """A server process or worker a test started may still be writing (a usage event after its
    response) while the test's database is emptied: PostgreSQL may then end the TRUNCATE as one
    side of a deadlock, and the next test would start on the rows left behind. Tried again."""

    def flush_until_done(test: TransactionTestCase) -> None:
        for attempt in range(3):
            try:
                return flush(test)
            except CommandError as error:
                if attempt == 2 or "deadlock" not in str(error.__cause__):
                    raise
                time.sleep(0.5)

    return flush_until_done


TransactionTestCase._fixture_teardown = _flush_retried_after_a_deadlock(  # type: ignore[method-assign]
    TransactionTestCase._fixture_teardown
)


@pytest.fixture(autouse=True)
def _fresh_cache():
    forget_what_the_service_kept()
    yield
    forget_what_the_service_kept()
    # Usage events buffered by one test must not land in the next test's database.
    usage._buffer.clear()


def forget_what_the_service_kept() -> None:
    """Empty the cache, and in Redis the chat relay's keys and the request counters too: the
    service's keys only, not the whole database, as the Redis is shared (tests/redis_guard.py)."""
    cache.clear()  # in Redis, the cache's own keys (codesuggest/cache.py)
    client = shared_redis()
    if client is not None:
        for pattern in ("codesuggest:chat:*", "ratelimit:*"):
            for key in client.scan_iter(match=pattern, count=1000):
                client.unlink(key)


@pytest.fixture
def world(db) -> World:
    alice = User.objects.create_user("alice", email="alice@example.com")
    bob = User.objects.create_user("bob", email="bob@example.com")
    charlie = User.objects.create_user("charlie", email="charlie@example.com")
    group = Group.objects.create(name="Acme", path="acme")
    subgroup = Group.objects.create(name="Platform", path="platform", parent=group)
    project = Project.objects.create(name="Tools", path="tools", group=subgroup)
    public_project = Project.objects.create(
        name="Website", path="website", group=group, visibility="public"
    )
    Membership.objects.create(user=alice, group=group, access_level=AccessLevel.OWNER)
    Membership.objects.create(user=bob, group=group)
    return World(alice, bob, charlie, group, subgroup, project, public_project)


# What an AI endpoint answers a token without the `api` or `ai_features` scope (docs/api.md#errors).
INSUFFICIENT_SCOPE = {
    "error": "insufficient_scope",
    "error_description": "The request requires higher privileges than provided by the "
    "access token.",
    "scope": "ai_features api",
}


INSTANCE_SETTINGS_PAGE = "/admin/projects/instancesettings/1/change/"


def instance_settings_form(**values: str) -> dict[str, str]:
    """What the admin's instance settings page posts: `values`, and every other field blank."""
    fields = [
        f"{feature}_{part}"
        for feature in ("completions", "generations", "chat")
        for part in ("provider", "model")
    ]
    return {"code_suggestions": "", **dict.fromkeys(fields, ""), "fim_template": "", **values}


def make_token(user: User, scopes: tuple[str, ...] = ("api",), **fields: Any) -> str:
    _, plaintext = PersonalAccessToken.create(user=user, name="test", scopes=list(scopes), **fields)
    return plaintext


class Api:
    """Talks to the service as an editor would: JSON in, JSON out, a PAT in PRIVATE-TOKEN."""

    def __init__(self) -> None:
        self.client = Client()

    def post(self, path: str, body: Any = None, *, token: str | None = None, **headers: Any):
        data = body if isinstance(body, str | bytes) else json.dumps(body or {})
        return self.client.post(
            path, data, content_type="application/json", **self._headers(token, headers)
        )

    def get(self, path: str, *, token: str | None = None, **headers: Any):
        return self.client.get(path, **self._headers(token, headers))

    @staticmethod
    def _headers(token: str | None, headers: dict[str, Any]) -> dict[str, Any]:
        if token is not None:
            headers.setdefault("HTTP_PRIVATE_TOKEN", token)
        return headers


@pytest.fixture
def api() -> Api:
    return Api()
