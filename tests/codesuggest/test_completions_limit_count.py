"""The completions rate limit (docs/api.md#rate-limits) counts a request until its one-minute
window ends, however early in the window it came: a count kept in the in-process cache of the
embedded run must not expire before the window does. (In Redis, see test_rate_limit_window.py.)
"""

import time
from types import SimpleNamespace

import pytest

from tests.completions.conftest import COMPLETIONS, completion_body, upstream  # noqa: F401
from tests.conftest import make_token
from tests.fake_servers import openai_server  # noqa: F401  (upstream's model server)

pytestmark = pytest.mark.usefixtures("upstream")


def test_a_request_at_a_windows_start_still_counts_in_its_last_seconds(
    api, settings, world, monkeypatch
):
    if settings.REDIS_URL:
        pytest.skip("Redis expires the count by its own clock, which the test cannot move")
    settings.CODE_SUGGESTIONS_RATE_LIMIT = 1
    token = make_token(world.bob)
    # One clock for the limiter and the cache's expiry, at the start of a minute.
    clock = SimpleNamespace(now=float(int(time.time()) // 60 * 60))
    monkeypatch.setattr(time, "time", lambda: clock.now)
    assert api.post(COMPLETIONS, completion_body(), token=token).status_code == 200

    clock.now += 58

    limited = api.post(COMPLETIONS, completion_body(), token=token)
    assert limited.status_code == 429
    assert limited["Retry-After"] == "2"
