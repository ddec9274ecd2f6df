"""The machine's Redis is shared: no code of the service, test or benchmark may empty a database
of it, and no test may use a database of it other than the one REDIS_URL gives the run. Tests
that need a Redis to themselves start one (tests/services.py RedisServer); the rest delete only
the keys they created. The first test reads the source; tests/redis_guard.py enforces the
database while the tests run."""

import asyncio
import re
from pathlib import Path

import pytest
import redis
import redis.asyncio
from django.conf import settings

from codesuggest.cache import PooledRedisCache
from tests import redis_guard
from tests.redis_guard import SharedRedis, SharedRedisMisuse
from tests.services import port_open, unavailable

EMPTYING = re.compile(r"flush_?(db|all)", re.IGNORECASE)


def test_no_code_test_or_benchmark_empties_a_redis_database():
    root = Path(settings.BASE_DIR)
    folders = ("codesuggest", "projects", "completions", "chat", "tests", "bench", "tools")
    offenders = [
        f"{path.relative_to(root)}:{number}"
        for folder in folders
        for path in sorted((root / folder).rglob("*.py"))
        if path != Path(__file__)  # the pattern below
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if EMPTYING.search(line)
    ]

    assert offenders == []


@pytest.mark.services
def test_the_cache_clears_its_own_keys_and_nothing_else_in_its_database(own_redis):
    # Django's RedisCache.clear() empties the database: the chat relay's streams and the rate
    # limits live beside the cache, as may another service's keys on a shared Redis.
    redis_cache = PooledRedisCache(own_redis.url, {"KEY_PREFIX": "codesuggest"})
    neighbour = redis.Redis(port=own_redis.port)
    redis_cache.set("token", "cached")
    neighbour.set("codesuggest:chat:stream", "kept")
    neighbour.set("someone-else", "kept")

    redis_cache.clear()

    assert redis_cache.get("token") is None
    assert sorted(neighbour.keys()) == [b"codesuggest:chat:stream", b"someone-else"]


@pytest.mark.services
def test_a_write_into_another_database_of_the_shared_redis_is_refused_and_fails_the_test():
    if not port_open("redis://127.0.0.1:6379", 6379):
        unavailable("Redis is not running at 127.0.0.1:6379")
    other = 15 if redis_guard.SHARED.database != 15 else 14
    client = redis.Redis(host="127.0.0.1", port=6379, db=other, socket_connect_timeout=1)

    # Refused before any command reaches the server (the connection's first one).
    with pytest.raises(SharedRedisMisuse, match=f"database {other} of the shared Redis"):
        client.set("codesuggest:test:guard", "written")

    # And the test fails, even had the code under test caught the refusal (this one passes
    # because report() here takes the failure the guard would report at teardown).
    with pytest.raises(pytest.fail.Exception, match=f"database {other} of the shared Redis"):
        redis_guard.report()


@pytest.mark.services
def test_the_database_given_to_the_run_is_let_through_and_no_other(own_redis, monkeypatch):
    # A Redis of the test's own plays the shared one, with database 3 given to the run.
    monkeypatch.setattr(redis_guard, "SHARED", SharedRedis(frozenset({own_redis.port}), 3))
    given = redis.Redis(port=own_redis.port, db=3)
    given.set("kept", "yes")
    assert given.pipeline().get("kept").execute() == [b"yes"]

    with pytest.raises(SharedRedisMisuse):
        redis.Redis(port=own_redis.port, db=4).set("stray", "no")
    with pytest.raises(SharedRedisMisuse):
        given.execute_command("SELECT", 4)
    with pytest.raises(SharedRedisMisuse):  # channels_redis's clients are redis-py's asyncio ones
        asyncio.run(redis.asyncio.Redis(port=own_redis.port, db=4).set("stray", "no"))
    with pytest.raises(pytest.fail.Exception, match="sent to database 4 of the shared Redis"):
        redis_guard.report()

    monkeypatch.undo()
    assert given.get("kept") == b"yes"
    assert redis.Redis(port=own_redis.port, db=4).dbsize() == 0
    given.delete("kept")


@pytest.mark.services
def test_a_redis_of_the_tests_own_is_let_through_whatever_the_database(own_redis):
    client = redis.Redis(port=own_redis.port, db=5)
    client.set("key", "value")

    assert client.get("key") == b"value"
    client.delete("key")
