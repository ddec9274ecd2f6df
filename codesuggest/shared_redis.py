"""The one Redis client of a process: a connection pool shared by every thread or greenlet."""

from functools import cache

import redis
from django.conf import settings


@cache
def redis_client(url: str, *, socket_timeout: float | None = None) -> redis.Redis:
    """One client (and connection pool) per Redis URL and timeout for the whole process."""
    return redis.Redis.from_url(
        url, socket_timeout=socket_timeout, socket_connect_timeout=5, health_check_interval=30
    )


def shared_redis() -> redis.Redis | None:
    """The shared Redis (`REDIS_URL`), or None in the embedded default, which has none."""
    # A Redis that stops answering must fail a request quickly, not hold it.
    return redis_client(settings.REDIS_URL, socket_timeout=2) if settings.REDIS_URL else None
