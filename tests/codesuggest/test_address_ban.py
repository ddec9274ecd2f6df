"""An address that presents too many unknown credentials is refused until the window it guessed
in ends (docs/api.md#credentials): every later request is told how long the ban has left, the ban
lifts when the window ends, and each refusal is counted for monitoring."""

import time
from types import SimpleNamespace

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import make_token

pytestmark = pytest.mark.django_db

LIMIT = 3
RATE_LIMITED = {
    "message": {"error": "This endpoint has been requested too many times. Try again later."}
}


@pytest.fixture(autouse=True)
def _few_guesses(settings):
    settings.AUTH_FAILURE_LIMIT = LIMIT


@pytest.fixture
def clock(monkeypatch) -> SimpleNamespace:
    """The one clock the limiter's windows, the ban and the cache's expiry all read; it stands
    still until a test moves it (a whole second, so that no rounding moves the ban's end)."""
    clock = SimpleNamespace(now=float(int(time.time())))
    monkeypatch.setattr(time, "time", lambda: clock.now)
    return clock


def user(api, token: str):
    return api.get("/api/v4/user", token=token, REMOTE_ADDR="192.0.2.1")


def banned(api) -> int:
    """Guess until the address is banned; the seconds the ban lasts."""
    for n in range(LIMIT):
        assert user(api, f"glpat-guess-{n}").status_code == 401
    response = user(api, "glpat-one-guess-too-many")
    assert response.status_code == 429
    assert response.json() == RATE_LIMITED
    return int(response["Retry-After"])


def test_a_banned_address_is_told_how_long_its_ban_has_left(api, world, clock):
    valid = make_token(world.bob)
    lasts = banned(api)
    assert 1 <= lasts <= 180

    at_once = user(api, valid)
    clock.now += lasts // 2
    halfway = user(api, valid)

    assert at_once.status_code == halfway.status_code == 429
    assert int(at_once["Retry-After"]) == lasts
    assert int(halfway["Retry-After"]) == lasts - lasts // 2


def test_the_ban_lifts_when_its_window_ends_and_guesses_count_from_nothing(
    api, world, clock, settings
):
    if settings.REDIS_URL:
        pytest.skip("Redis expires the ban by its own clock, which the test cannot move")
    valid = make_token(world.bob)
    lasts = banned(api)

    clock.now += lasts + 1

    assert user(api, valid).status_code == 200
    assert user(api, "glpat-a-new-guess").status_code == 401


def test_the_ban_and_each_request_it_refuses_are_counted(api, client, world, clock):
    before = refusals(client, "auth-failures")
    banned(api)
    user(api, make_token(world.bob))

    assert refusals(client, "auth-failures") - before == 2


def refusals(client, limit: str) -> float:
    """The requests refused by `limit`, as GET /-/metrics tells monitoring."""
    response = client.get("/-/metrics")
    assert response.status_code == 200
    return sum(
        sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
        if sample.name == "codesuggest_rate_limited_requests_total"
        and sample.labels == {"limit": limit}
    )
