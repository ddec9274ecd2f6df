"""Django's Redis cache, made cheap per call and able to do without Redis.

One client per connection pool instead of one per operation: Django's RedisCacheClient builds a
new redis.Redis object for every get and set; most of that cost is redis-py setting up its
response callbacks, about a tenth of a completion's CPU here (profiled with py-spy in
bench/completions.py). The pools are Django's; only the client object around each is kept.

What is cached are copies of database rows (tokens, users, decisions, instance settings), so
while Redis is down every operation is a miss and callers read the database instead of failing
(`codesuggest.outages` logs the outage once). Invalidations sent during an outage are lost, so
when Redis answers again every cached copy is dropped: a token revoked meanwhile must not come
back to life from a stale copy.
"""

from collections.abc import Callable
from typing import Any

import redis
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache, RedisCacheClient

from codesuggest.outages import REDIS


def _or_miss(operation: Callable[..., Any], miss: Callable[..., Any]) -> Callable[..., Any]:
    """`operation`, answering `miss(*args)` instead while Redis is unavailable."""

    def call(client: RedisCacheClient, *args: Any) -> Any:
        if REDIS.down:
            return miss(*args)
        # The first answers after an outage may be copies it made stale: misses too, until
        # the recovery hook below has dropped them.
        stale = REDIS.in_outage
        try:
            result = operation(client, *args)
        except redis.RedisError as exc:
            REDIS.failed(exc)
            return miss(*args)
        REDIS.succeeded()
        return miss(*args) if stale else result

    return call


def _false(*args: Any) -> bool:
    return False


def _nothing(*args: Any) -> None:
    return None


def _cannot_count(key: Any, delta: Any) -> int:
    raise ValueError(f"{key!r} cannot be counted while Redis is unavailable")


class PooledRedisCacheClient(RedisCacheClient):
    # Set by RedisCacheClient.__init__, which django-stubs does not describe.
    _servers: list[str]
    _pools: dict[int, Any]
    _pool_options: dict[str, Any]
    _pool_class: Any
    _client: Any

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        index = self._get_connection_pool_index(write)  # type: ignore[attr-defined]
        client = self._clients.get(index)
        if client is None:
            if index not in self._pools:
                self._pools[index] = self._pool_class.from_url(
                    self._servers[index], **self._pool_options
                )
            client = self._clients[index] = self._client(connection_pool=self._pools[index])
        return client

    # Every operation of Django's cache but clear(), which would empty a shared database.
    add = _or_miss(RedisCacheClient.add, _false)
    get = _or_miss(RedisCacheClient.get, lambda key, default: default)
    set = _or_miss(RedisCacheClient.set, _nothing)
    touch = _or_miss(RedisCacheClient.touch, _false)
    delete = _or_miss(RedisCacheClient.delete, _false)
    get_many = _or_miss(RedisCacheClient.get_many, lambda keys: {})
    has_key = _or_miss(RedisCacheClient.has_key, _false)
    incr = _or_miss(RedisCacheClient.incr, _cannot_count)
    set_many = _or_miss(RedisCacheClient.set_many, _nothing)
    delete_many = _or_miss(RedisCacheClient.delete_many, _nothing)


class PooledRedisCache(RedisCache):
    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = PooledRedisCacheClient

    def clear(self) -> None:
        """Delete this cache's keys only. Django's clear() empties the whole Redis database,
        with what shares it: chat streams, rate limits, other services."""
        client = self._cache.get_client(write=True)  # type: ignore[attr-defined]
        batch: list[bytes] = []
        for key in client.scan_iter(match=self.make_key("*"), count=1000):
            batch.append(key)
            if len(batch) == 1000:
                client.unlink(*batch)
                batch.clear()
        if batch:
            client.unlink(*batch)


def _drop_cached_copies() -> None:
    backend = caches["default"]
    if isinstance(backend, PooledRedisCache):
        backend.clear()


REDIS.on_recovery(_drop_cached_copies)
