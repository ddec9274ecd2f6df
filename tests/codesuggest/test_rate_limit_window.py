"""The completions rate limit (docs/api.md#rate-limits): per user, in fixed one-minute windows
aligned to the clock, with `Retry-After` saying exactly when the window ends, and counters that
do not outlive their window in Redis."""

import math
import time
from types import SimpleNamespace

import pytest
import redis

from codesuggest.api import ratelimit
from tests.completions.conftest import COMPLETIONS, completion_body, upstream  # noqa: F401
from tests.completions.test_rate_limit_across_processes import wait_for_a_fresh_window
from tests.conftest import make_token
from tests.fake_servers import openai_server  # noqa: F401  (upstream's model server)

pytestmark = pytest.mark.usefixtures("upstream")

WINDOW = 60


def complete(api, token: str):
    return api.post(COMPLETIONS, completion_body(), token=token)


def test_it_counts_per_user_across_the_users_tokens(api, settings, world):
    settings.CODE_SUGGESTIONS_RATE_LIMIT = 2
    first, second = make_token(world.bob), make_token(world.bob)
    wait_for_a_fresh_window(seconds_needed=3)

    statuses = [complete(api, token).status_code for token in (first, second, first, second)]

    assert statuses == [200, 200, 429, 429]


def test_retry_after_is_the_rest_of_the_window(api, settings, world):
    settings.CODE_SUGGESTIONS_RATE_LIMIT = 1
    token = make_token(world.bob)
    # Not in a window's first or last seconds: a Retry-After of a whole window, or of one
    # second, would then be right by accident.
    wait_for_a_fresh_window(seconds_needed=3)
    if time.time() % WINDOW < 2:
        time.sleep(2)
    assert complete(api, token).status_code == 200

    before = time.time()
    limited = complete(api, token)
    after = time.time()

    assert limited.status_code == 429
    window_end = (before // WINDOW + 1) * WINDOW
    # Whole seconds, rounded up; the only slack is the time the request took.
    assert int(limited["Retry-After"]) in {
        math.ceil(window_end - before),
        math.ceil(window_end - after),
    }


def test_the_window_resets_in_the_next_minute(api, settings, world, monkeypatch):
    settings.CODE_SUGGESTIONS_RATE_LIMIT = 1
    token = make_token(world.bob)
    # The limiter's clock, half a second before a minute ends: waiting a real minute is too slow.
    now = 1_800_000_000 // WINDOW * WINDOW + WINDOW - 0.5
    monkeypatch.setattr(ratelimit, "time", SimpleNamespace(time=lambda: now))
    assert complete(api, token).status_code == 200
    limited = complete(api, token)
    assert limited.status_code == 429
    assert limited["Retry-After"] == "1"

    now += 1

    assert complete(api, token).status_code == 200


@pytest.mark.services
def test_the_counters_expire_in_redis(api, settings, world, own_redis):
    settings.REDIS_URL = own_redis.url
    settings.CODE_SUGGESTIONS_RATE_LIMIT = 5
    wait_for_a_fresh_window(seconds_needed=3)

    assert complete(api, make_token(world.bob)).status_code == 200
    rest_of_window = WINDOW - time.time() % WINDOW

    client = redis.Redis.from_url(own_redis.url)
    [counter] = client.keys("ratelimit:*")
    assert client.get(counter) == b"1"
    # Kept to the end of its window and only a few seconds more, never for good.
    assert math.floor(rest_of_window) <= client.ttl(counter) <= WINDOW + 5
