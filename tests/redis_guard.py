"""The machine's Redis (127.0.0.1:6379) is shared with other users: a test may use the database
REDIS_URL gives this run, keys it created there, or a Redis server of its own
(tests/services.py RedisServer). This guard fails any test whose process talks to the shared
Redis on another database than that one, however it got there (the URL, SELECT). That nothing
empties a database is checked in the source (tests/test_shared_redis.py).

Checked where every redis-py client sends its commands (Django's cache, kombu, channels_redis
and our own clients are all redis-py), before anything reaches the server: the command is
refused with SharedRedisMisuse, and because the code under test may catch that (the cache
does without Redis), the misuse is also remembered and fails the test at its teardown.
Processes the tests start (servers, workers) are not watched; they get their URLs from tests.
"""

import functools
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import pytest
import redis.asyncio.connection
import redis.connection


class SharedRedisMisuse(AssertionError):
    pass


@dataclass(frozen=True)
class SharedRedis:
    ports: frozenset[int]
    database: int | None  # the one this run may use; None: none of them


def _shared_redis(url: str) -> SharedRedis:
    given = redis.connection.parse_url(url) if url else {}
    return SharedRedis(
        ports=frozenset({6379, int(given.get("port", 6379))}),
        database=int(given.get("db", 0)) if url else None,
    )


SHARED = _shared_redis(os.environ.get("REDIS_URL", ""))
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}

misuses: list[str] = []


def misuse(connection: Any, command: Sequence[Any]) -> str | None:
    """What is wrong with sending `command` over `connection`, if anything."""
    shared = SHARED
    if getattr(connection, "host", None) not in LOCAL_HOSTS:
        return None
    if getattr(connection, "port", None) not in shared.ports:
        return None
    name = _text(command[0]).split()[0].upper() if command else ""
    selected = name == "SELECT" and len(command) > 1
    database = int(_text(command[1]) if selected else connection.db)
    if database != shared.database:
        allowed = "none" if shared.database is None else f"only {shared.database} (REDIS_URL)"
        return (
            f"{name} sent to database {database} of the shared Redis at port {connection.port}:"
            f" this run may use {allowed}; start a Redis of the test's own (`own_redis`)"
        )
    return None


def _text(value: Any) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes | memoryview) else str(value)


def _refuse_misuse(connection: Any, commands: Iterable[Sequence[Any]]) -> None:
    for command in commands:
        problem = misuse(connection, command)
        if problem:
            misuses.append(problem)
            raise SharedRedisMisuse(problem)


def _checking_each(method: Callable[..., Any]) -> Callable[..., Any]:
    # pack_command and send_command take one command's arguments.
    @functools.wraps(method)
    def checked(connection: Any, *args: Any, **kwargs: Any) -> Any:
        _refuse_misuse(connection, [args])
        return method(connection, *args, **kwargs)

    return checked


def _checking_all(method: Callable[..., Any]) -> Callable[..., Any]:
    # pack_commands takes a pipeline's commands.
    @functools.wraps(method)
    def checked(connection: Any, commands: Iterable[Sequence[Any]]) -> Any:
        commands = list(commands)
        _refuse_misuse(connection, commands)
        return method(connection, commands)

    return checked


def install() -> None:
    # Every command of a synchronous connection is packed by send_command (alone) or
    # pack_commands (pipelines); every command of an asyncio connection by pack_command.
    sync = redis.connection.AbstractConnection
    sync.send_command = _checking_each(sync.send_command)
    sync.pack_command = _checking_each(sync.pack_command)
    sync.pack_commands = _checking_all(sync.pack_commands)
    asynchronous = redis.asyncio.connection.AbstractConnection
    asynchronous.pack_command = _checking_each(asynchronous.pack_command)


def report() -> None:
    """Fail the test if it misused the shared Redis (even where the code under test caught the
    refusal)."""
    if misuses:
        found = "\n".join(misuses)
        misuses.clear()
        pytest.fail(f"This test misused the shared Redis:\n{found}", pytrace=False)


@pytest.fixture(autouse=True)
def shared_redis_guard():
    yield
    report()


# Installed when tests/conftest.py imports this module, before any fixture can connect.
install()
