"""Per-user request limits, counted in the shared cache so every web process and node agrees.

Fixed windows aligned to the clock: every process computes the same window from the time alone,
and `Retry-After` is simply the rest of the current window. With Redis, counting is one round
trip (INCR and EXPIRE in one pipeline); django-ratelimit needs two to three (SET NX, EXISTS,
INCRBY) and staggers windows per key, so it is not used here.

While Redis is unavailable nothing can be counted; RATE_LIMIT_WITHOUT_REDIS says whether
requests are then served uncounted (open) or refused with 503 (closed).
"""

import time

from django.conf import settings
from django.core.cache import cache
from redis import RedisError

from codesuggest import metrics
from codesuggest.api import errors
from codesuggest.outages import REDIS
from codesuggest.shared_redis import shared_redis

WINDOW_SECONDS = 60


def count_in_window(key: str, window: int) -> tuple[int, int]:
    """Count one more hit for `key` in the current window: (hits so far, seconds left)."""
    now = time.time()
    start = int(now // window) * window
    window_key = f"ratelimit:{key}:{start}"
    seconds_left = max(1, int(start + window - now + 0.999))
    redis = shared_redis()
    if redis is None:
        cache.add(window_key, 0, timeout=window + 5)
        return cache.incr(window_key), seconds_left
    if REDIS.down:
        raise CounterUnavailable
    pipeline = redis.pipeline(transaction=True)
    pipeline.incr(window_key)
    pipeline.expire(window_key, window + 5)
    try:
        hits, _ = pipeline.execute()
    except RedisError as exc:
        REDIS.failed(exc)
        raise CounterUnavailable from exc
    REDIS.succeeded()
    return hits, seconds_left


class CounterUnavailable(Exception):
    """Redis, which counts requests for every process, cannot be reached."""


def enforce_code_suggestions_rate_limit(user_id: int) -> None:
    """429 past the user's limit of completions per minute; a limit of 0 switches it off."""
    limit = settings.CODE_SUGGESTIONS_RATE_LIMIT
    if not limit:
        return
    try:
        hits, seconds_left = count_in_window(f"code_suggestions:{user_id}", WINDOW_SECONDS)
    except CounterUnavailable:
        if settings.RATE_LIMIT_WITHOUT_REDIS == "open":
            return
        raise errors.service_unavailable("the rate limit cannot be checked") from None
    if hits > limit:
        metrics.RATE_LIMITED.labels("code_suggestions").inc()
        raise errors.rate_limited(retry_after=seconds_left)
