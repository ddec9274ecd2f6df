"""The one Redis client of a process: a connection pool shared by every thread or greenlet."""

from functools import cache

import redis
from django.conf import settings


@cache
def _client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, health_check_interval=30)


def shared_redis() -> redis.Redis | None:
    """The shared Redis (`REDIS_URL`), or None in the embedded default, which has none."""
    return _client(settings.REDIS_URL) if settings.REDIS_URL else None
