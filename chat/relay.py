"""How an answer travels from the worker to the web processes, without the database.

Two channels, both in Redis so that any web process can read what any worker wrote:
- the *answer signal*: one list per question; the worker pushes the outcome and the web process
  waiting for it BLPOPs it (no polling, no database connection held while waiting);
- the *subscription stream*: one Redis Stream per (user, client_subscription_id), to which the
  worker XADDs the answer's chunks; it outlives the answer by CHAT_STREAM_TTL seconds so a
  client that connects late still reads everything.

Without Redis (the embedded default, where tasks run in-process) both live in Django's cache,
which works within one process only.

While Redis is unavailable the worker's writes are skipped (the answer's record is the database;
the outage is logged once), and the web process's reads raise RelayUnavailable, which the chat
endpoints answer with 503.
"""

import asyncio
import json
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import Any

import redis
import redis.asyncio
from django.conf import settings
from django.core.cache import cache

from codesuggest.outages import Dependency
from codesuggest.shared_redis import redis_client

PREFIX = "codesuggest:chat"
# How often the cache fallback looks again; Redis readers block instead.
CACHE_POLL_SECONDS = 0.05
# Longest single block on a stream, so that the reader can send keep-alives.
STREAM_BLOCK_MS = 5_000
# Logged apart from the cache's Redis: in a deployment with a RabbitMQ broker they may differ.
RELAY = Dependency("Redis (chat answers)")


class RelayUnavailable(Exception):
    """Redis, through which answers reach the web processes, cannot be reached."""


def shared_client() -> redis.Redis | None:
    url = settings.CHAT_REDIS_URL
    if not url:
        return None
    # Blocking reads last up to CHAT_TIMEOUT: the socket must wait longer than they do.
    return redis_client(url, socket_timeout=settings.CHAT_TIMEOUT + STREAM_BLOCK_MS / 1000 + 5)


@contextmanager
def _reading() -> Iterator[None]:
    try:
        yield
    except redis.RedisError as exc:
        RELAY.failed(exc)
        raise RelayUnavailable from exc
    RELAY.succeeded()


@contextmanager
def _best_effort() -> Iterator[None]:
    try:
        yield
    except redis.RedisError as exc:
        RELAY.failed(exc)
    else:
        RELAY.succeeded()


def _signal_key(request_id: str) -> str:
    # By request id, not row id: ids start again in a fresh database, request ids never repeat.
    return f"{PREFIX}:answered:{request_id}"


def _stream_key(user_id: int, subscription_id: str) -> str:
    return f"{PREFIX}:stream:{user_id}:{subscription_id}"


def _signal_ttl() -> int:
    # Long enough for the slowest answer; a signal nobody waits for any more simply expires.
    return settings.CHAT_QUESTION_DEADLINE + 60


# The answer signal --------------------------------------------------------------------------


def signal_answer(request_id: str, outcome: dict[str, Any]) -> None:
    """Tell whoever waits for `request_id` how it ended: {"state", "content" | "error"}."""
    payload = json.dumps(outcome)
    client = shared_client()
    if client is None:
        cache.set(_signal_key(request_id), payload, _signal_ttl())
        return
    key = _signal_key(request_id)
    pipe = client.pipeline()
    pipe.rpush(key, payload)
    pipe.expire(key, _signal_ttl())
    with _best_effort():
        pipe.execute()


def wait_for_answer(request_id: str, timeout: float) -> dict[str, Any] | None:
    """The outcome signalled for `request_id`, or None after `timeout` seconds."""
    client = shared_client()
    key = _signal_key(request_id)
    if client is None:
        deadline = time.monotonic() + timeout
        while True:
            payload = cache.get(key)
            if payload is not None or time.monotonic() >= deadline:
                break
            time.sleep(CACHE_POLL_SECONDS)
    else:
        # BLPOP takes whole seconds on old servers; fractions work on Redis ≥ 6.
        with _reading():
            popped = client.blpop([key], timeout=max(timeout, 0.01))
        payload = popped[1] if popped else None
    return json.loads(payload) if payload is not None else None


# The subscription stream ----------------------------------------------------------------------


def stream_reset(user_id: int, subscription_id: str) -> None:
    """Forget an earlier answer on this subscription, so that a reader sees only the new one."""
    client = shared_client()
    key = _stream_key(user_id, subscription_id)
    if client is None:
        cache.delete(key)
    else:
        with _reading():
            client.delete(key)


def stream_publish(user_id: int, subscription_id: str, event: str, data: dict[str, Any]) -> None:
    key = _stream_key(user_id, subscription_id)
    entry: dict[Any, Any] = {"event": event, "data": json.dumps(data)}
    client = shared_client()
    if client is None:
        # Only one process writes (the eager task), so read-modify-write is safe enough here.
        cache.set(key, [*cache.get(key, []), entry], settings.CHAT_STREAM_TTL)
        return
    pipe = client.pipeline()
    pipe.xadd(key, entry, maxlen=100_000, approximate=True)
    pipe.expire(key, settings.CHAT_STREAM_TTL)
    with _best_effort():
        pipe.execute()


def stream_read(
    user_id: int, subscription_id: str, *, timeout: float
) -> Iterator[tuple[str, dict[str, Any]] | None]:
    """Yield (event, data) from the start of the stream as entries arrive, until an event that
    ends the answer (`done` or `error`) or `timeout` seconds without one. Yields None while
    nothing new arrives, so the caller can keep its connection alive."""
    key = _stream_key(user_id, subscription_id)
    deadline = time.monotonic() + timeout
    client = shared_client()
    position: Any = "0-0" if client is not None else 0
    while time.monotonic() < deadline:
        block = min(STREAM_BLOCK_MS, max(1, int((deadline - time.monotonic()) * 1000)))
        if client is None:
            entries = _cached_entries(key, position, block / 1000)
            position += len(entries)
        else:
            with _reading():
                result: Any = client.xread({key: position}, block=block, count=100)
            entries, position = _decoded(result, position)
        if not entries:
            yield None
            continue
        for entry in entries:
            event, data = entry["event"], json.loads(entry["data"])
            yield event, data
            if event in ("done", "error"):
                return


async def stream_read_async(
    user_id: int, subscription_id: str, *, timeout: float
) -> AsyncIterator[tuple[str, dict[str, Any]]]:
    """stream_read for an event loop (the websockets at /-/cable): the same (event, data), to the
    same end, without holding a thread while it waits; nothing is yielded while nothing arrives.
    Raises RelayUnavailable as stream_read does."""
    key = _stream_key(user_id, subscription_id)
    deadline = time.monotonic() + timeout
    if not settings.CHAT_REDIS_URL:
        entries_read = 0
        while time.monotonic() < deadline:
            entries = (await cache.aget(key, []))[entries_read:]
            entries_read += len(entries)
            for entry in entries:
                event, data = entry["event"], json.loads(entry["data"])
                yield event, data
                if event in ("done", "error"):
                    return
            await asyncio.sleep(CACHE_POLL_SECONDS)
        return
    # A client of its own: each blocked XREAD holds a connection until an entry arrives, and an
    # asyncio client belongs to the event loop it was made in.
    client = redis.asyncio.Redis.from_url(
        settings.CHAT_REDIS_URL, socket_timeout=STREAM_BLOCK_MS / 1000 + 5, socket_connect_timeout=5
    )
    position: Any = "0-0"
    try:
        while time.monotonic() < deadline:
            block = min(STREAM_BLOCK_MS, max(1, int((deadline - time.monotonic()) * 1000)))
            with _reading():
                result = await client.xread({key: position}, block=block, count=100)
            entries, position = _decoded(result, position)
            for entry in entries:
                event, data = entry["event"], json.loads(entry["data"])
                yield event, data
                if event in ("done", "error"):
                    return
    finally:
        await client.aclose()


def _decoded(result: Any, position: Any) -> tuple[list[dict[str, str]], Any]:
    """XREAD's answer for one stream as entries, and the position after the last of them."""
    entries = []
    for _, items in result or []:
        for entry_id, fields in items:
            position = entry_id
            entries.append({k.decode(): v.decode() for k, v in fields.items()})
    return entries, position


def _cached_entries(key: str, position: int, wait: float) -> list[dict[str, str]]:
    deadline = time.monotonic() + wait
    while True:
        entries = cache.get(key, [])[position:]
        if entries or time.monotonic() >= deadline:
            return entries
        time.sleep(CACHE_POLL_SECONDS)
