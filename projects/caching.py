"""Short-lived copies, in the shared cache, of what every API request reads.

Every request looks up its token (and the token's user), and every completion that names a
project asks whether code suggestions are on for it and which of its files are excluded. These
copies save those database queries and are dropped the moment the rows behind them change
(signals below), so a revoked token or a blocked user is refused at once by every process and
node that shares the cache.
"""

import time
from collections.abc import Callable
from typing import Any, TypeVar

from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils import timezone

from projects.models import (
    Group,
    InstanceSettings,
    Membership,
    PersonalAccessToken,
    Project,
    User,
)

TTL_SECONDS = 60
_NOTHING = "-"  # stands for "no such row", so that unknown tokens are remembered too

T = TypeVar("T")


def _remember(key: str, compute: Callable[[], T | None]) -> T | None:
    value = cache.get(key)
    if value is None:
        value = compute()
        cache.set(key, _NOTHING if value is None else value, TTL_SECONDS)
    return None if value == _NOTHING else value


def token_by_digest(digest: str) -> PersonalAccessToken | None:
    return _remember(
        f"pat:{digest}",
        lambda: PersonalAccessToken.objects.select_related("user").filter(digest=digest).first(),
    )


def token_by_id(token_id: int) -> PersonalAccessToken | None:
    return _remember(
        f"pat-id:{token_id}",
        lambda: PersonalAccessToken.objects.select_related("user").filter(pk=token_id).first(),
    )


# When this process last saw each token's use marked, so that it asks the shared cache at most
# once a minute per token instead of on every request.
_marked_here: dict[str, float] = {}
_MAX_MARKED_HERE = 10_000


def first_use_this_minute(token: PersonalAccessToken) -> bool:
    """True once a minute per token, across all processes: when last_used_at is written."""
    now = timezone.now().timestamp()
    if now - _marked_here.get(token.digest, -TTL_SECONDS) < TTL_SECONDS:
        return False
    if len(_marked_here) >= _MAX_MARKED_HERE:
        _marked_here.clear()
    _marked_here[token.digest] = now
    return cache.add(f"pat-used:{token.pk}", 1, timeout=TTL_SECONDS)


def _token_keys(token: PersonalAccessToken) -> list[str]:
    return [f"pat:{token.digest}", f"pat-id:{token.pk}"]


def _now_and_at_commit(forget: Callable[[], None]) -> None:
    """Drop cached copies now, for the rest of this transaction, and again when it commits: a
    request served meanwhile read the rows as they were and may have cached them (a revoked
    token then worked for another minute, tests/projects/test_cache_on_commit.py)."""
    forget()
    transaction.on_commit(forget)


@receiver([post_save, post_delete], sender=PersonalAccessToken)
def _forget_token(sender: Any, instance: PersonalAccessToken, **kwargs: Any) -> None:
    keys = _token_keys(instance)
    _now_and_at_commit(lambda: cache.delete_many(keys))


@receiver([post_save, post_delete], sender=User)
def _forget_user(sender: Any, instance: User, **kwargs: Any) -> None:
    # Cached tokens carry their user: a blocked user's tokens must stop working too.
    keys = []
    for token in PersonalAccessToken.objects.filter(user_id=instance.pk).only("pk", "digest"):
        keys += _token_keys(token)
    if keys:
        _now_and_at_commit(lambda: cache.delete_many(keys))


# Code-suggestions decisions depend on groups, projects, memberships and the instance settings.
# Any change to one of them starts a new generation of cached decisions.
GENERATION_KEY = "namespaces-generation"


def _generation() -> int | None:
    generation = cache.get(GENERATION_KEY)
    if generation is None:
        _start_generations()
        generation = cache.get(GENERATION_KEY)
    return generation


def _start_generations() -> None:
    # From the clock, not from 1: a counter that the cache lost must never come back to a number
    # whose cached decisions are still there.
    cache.add(GENERATION_KEY, time.time_ns() // 1000, timeout=None)


@receiver([post_save, post_delete], sender=Group)
@receiver([post_save, post_delete], sender=Project)
@receiver([post_save, post_delete], sender=Membership)
@receiver([post_save, post_delete], sender=InstanceSettings)
def _new_generation(sender: Any, **kwargs: Any) -> None:
    _now_and_at_commit(_next_generation)


def _next_generation() -> None:
    try:
        cache.incr(GENERATION_KEY)
    except ValueError:
        _start_generations()


def remembered_for_namespaces(key: str, compute: Callable[[], T]) -> T:
    """`compute()`, remembered until any group, project, membership or instance setting changes:
    one round trip to the cache when it is remembered."""
    generation, entry = _generation_and_entry(f"ns:{key}")
    if entry is not None and entry[0] == generation:
        return entry[1]
    value = compute()
    if generation is not None:  # None: the cache is unavailable
        cache.set(f"ns:{key}", (generation, value), TTL_SECONDS * 10)
    return value


def _generation_and_entry(full_key: str) -> tuple[int | None, tuple[int, Any] | None]:
    # The entry holds the generation it was computed in, rather than its key holding it, so
    # that both are read at once: a completion naming a project made four round trips here,
    # the generation and the entry for its gate and again for its exclusions.
    found = cache.get_many([GENERATION_KEY, full_key])
    if GENERATION_KEY not in found:
        return _generation(), None  # a new generation, which nothing was computed in yet
    return found[GENERATION_KEY], found.get(full_key)
