"""Django's Redis cache with one client per connection pool instead of one per operation.

Django's RedisCacheClient builds a new redis.Redis object for every get and set; most of that
cost is redis-py setting up its response callbacks, about a tenth of a completion's CPU here
(profiled with py-spy in bench/completions.py). The pools are Django's; only the client object
around each is kept.
"""

from typing import Any

from django.core.cache.backends.redis import RedisCache, RedisCacheClient


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


class PooledRedisCache(RedisCache):
    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = PooledRedisCacheClient
