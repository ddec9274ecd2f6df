"""An address that presents too many unknown credentials is refused until the window it guessed
in ends (docs/api.md#credentials): every later request is told how long the ban has left, and
the ban lifts when the window ends. Who the client is: its IPv6 /64, or behind the TLS proxy the
address the proxy forwarded."""

import time
from collections.abc import Callable
from types import SimpleNamespace

import pytest

from tests.conftest import make_token

pytestmark = pytest.mark.django_db

LIMIT = 3
RATE_LIMITED = {
    "message": {"error": "This endpoint has been requested too many times. Try again later."}
}


@pytest.fixture(autouse=True)
def _few_guesses(settings):
    settings.AUTH_FAILURE_LIMIT = LIMIT


@pytest.fixture(autouse=True)
def clock(monkeypatch) -> SimpleNamespace:
    """The one clock the limiter's windows, the ban and the cache's expiry all read; it stands
    still until a test moves it (a whole second, so that no rounding moves the ban's end), so
    that no guesses straddle the end of a window."""
    clock = SimpleNamespace(now=float(int(time.time())))
    monkeypatch.setattr(time, "time", lambda: clock.now)
    return clock


def user(api, token: str, address: str = "192.0.2.1", **headers):
    return api.get("/api/v4/user", token=token, REMOTE_ADDR=address, **headers)


def banned(api, addresses: Callable[[int], dict] = lambda n: {}) -> int:
    """Guess until the address is banned, the request of guess n from `addresses(n)` (headers
    and REMOTE_ADDR); the seconds the ban lasts."""
    for n in range(LIMIT):
        assert user(api, f"glpat-guess-{n}", **addresses(n)).status_code == 401
    response = user(api, "glpat-one-guess-too-many", **addresses(LIMIT))
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


def test_in_the_last_second_of_a_ban_it_says_one_second(api, world, clock):
    lasts = banned(api)

    clock.now += lasts - 1

    response = user(api, make_token(world.bob))
    assert response.status_code == 429
    assert response["Retry-After"] == "1"


def test_a_ban_that_starts_in_the_last_second_of_its_window_lasts_one_second(
    api, world, clock, settings
):
    if settings.REDIS_URL:
        pytest.skip("Redis expires the first ban by its own clock, which the test cannot move")
    # A first ban says when this address's windows end; the next one ends 3 minutes later.
    clock.now += banned(api) + 179

    assert banned(api) == 1


# Who the client is -----------------------------------------------------------------------------


def test_addresses_in_one_ipv6_64_are_one_client(api, world):
    # One client usually holds a whole /64: each guess from another address of it still counts.
    banned(api, lambda n: {"address": f"2001:db8:0:1:{n + 1:x}::{n + 7:x}"})

    assert user(api, make_token(world.bob), "2001:db8:0:1::1").status_code == 429
    assert user(api, make_token(world.bob), "2001:db8:0:2::1").status_code == 200


@pytest.mark.parametrize(
    "forwarded",
    [
        lambda n: "192.0.2.1",
        lambda n: f"198.51.100.{n}, 192.0.2.1",
        lambda n: f"203.0.113.{n},198.51.100.{n},192.0.2.1",
    ],
    ids=["alone", "after-one", "after-two-without-spaces"],
)
def test_behind_the_tls_proxy_the_client_is_the_address_it_forwarded_last(
    api, world, settings, forwarded
):
    # The proxy appends the address it saw; whatever comes before it, the client wrote.
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    proxy = {"address": "10.0.0.2", "HTTP_X_FORWARDED_PROTO": "https"}

    banned(api, lambda n: {**proxy, "HTTP_X_FORWARDED_FOR": forwarded(n)})

    other = {**proxy, "HTTP_X_FORWARDED_FOR": "192.0.2.99"}
    assert user(api, make_token(world.bob), **other).status_code == 200


def test_behind_the_tls_proxy_a_request_forwarded_by_no_one_is_its_own_address(
    api, world, settings
):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

    banned(api, lambda n: {"address": "192.0.2.1"})

    assert user(api, make_token(world.bob), "192.0.2.99").status_code == 200
