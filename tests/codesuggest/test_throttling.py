"""Limits against guessing and abuse (codesuggest/api/throttling.py): admin sign-in per address
and per username, unknown credentials per address, chat questions per user."""

import time
from types import SimpleNamespace

import django_ratelimit.core
import pytest
import requests
from django.conf import global_settings
from django.test import Client

from tests.chat.conftest import CHAT, chat_model, openai_server  # noqa: F401  (fixtures)
from tests.conftest import make_token
from tests.services import server_process

LOGIN = "/admin/login/"
RATE_LIMITED = {
    "message": {"error": "This endpoint has been requested too many times. Try again later."}
}
AI_ACTION = (
    "mutation($content: String!) "
    "{ aiAction(input: {chat: {content: $content}}) { requestId errors } }"
)


@pytest.fixture(autouse=True)
def _quick_password_hashing(settings):
    # Every attempt checks a password; the production hasher takes about a second each here.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _one_window(monkeypatch):
    # django-ratelimit starts each key's window at an offset of its own, so a test's attempts
    # could straddle a window's end and be counted afresh. Its clock stands still in-process.
    now = time.time()
    monkeypatch.setattr(django_ratelimit.core, "time", SimpleNamespace(time=lambda: now))


@pytest.fixture
def root(db, django_user_model):
    return django_user_model.objects.create_superuser("root", password="the-right-password-1")


def sign_in(password: str, *, address: str = "192.0.2.1", username: str = "root"):
    client = Client()
    response = client.post(
        LOGIN,
        {"username": username, "password": password, "next": "/admin/"},
        REMOTE_ADDR=address,
    )
    return response, client


def assert_rate_limited(response, *, longest: int) -> None:
    assert response.status_code == 429
    assert response.json() == RATE_LIMITED
    assert 1 <= int(response["Retry-After"]) <= longest


# Admin sign-in -------------------------------------------------------------------------------


def test_the_eleventh_sign_in_attempt_in_a_minute_is_refused_even_with_the_right_password(root):
    # Ten usernames, so that no username reaches its own limit.
    for n in range(10):
        response, _ = sign_in("wrong", username=f"guess-{n}")
        assert response.status_code == 200  # the form again, with its error

    response, client = sign_in("the-right-password-1")

    assert_rate_limited(response, longest=60)
    assert client.get("/admin/").status_code == 302  # not signed in: sent to the login page


def test_another_address_still_signs_in_while_one_is_refused(root):
    for _ in range(11):
        sign_in("wrong", address="192.0.2.1", username="someone-else")

    response, client = sign_in("the-right-password-1", address="198.51.100.7")

    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200


def test_ten_failures_lock_the_username_from_every_address(root):
    # One guess from each of ten addresses: no address reaches its own limit.
    for n in range(10):
        response, _ = sign_in("wrong", address=f"203.0.113.{n}")
        assert response.status_code == 200

    response, client = sign_in("the-right-password-1", address="198.51.100.7")

    assert_rate_limited(response, longest=600)
    assert client.get("/admin/").status_code == 302


def test_signing_in_is_not_a_failure(root):
    for n in range(12):
        response, _ = sign_in("the-right-password-1", address=f"203.0.113.{n}")
        assert response.status_code == 302


def test_the_login_page_itself_is_not_counted(root):
    client = Client()
    for _ in range(15):
        assert client.get(LOGIN, REMOTE_ADDR="192.0.2.1").status_code == 200

    response, _ = sign_in("the-right-password-1")

    assert response.status_code == 302


# Failed authentication -------------------------------------------------------------------------


def user(api, token: str, address: str = "192.0.2.1", **headers):
    return api.get("/api/v4/user", token=token, REMOTE_ADDR=address, **headers)


def test_an_address_that_guesses_30_tokens_is_refused_whatever_it_presents(api, world):
    valid = make_token(world.bob)
    for n in range(30):
        assert user(api, f"glpat-guess-{n}").status_code == 401

    guess = user(api, "glpat-guess-30")
    right = user(api, valid)

    assert_rate_limited(guess, longest=180)
    # A right guess must look like a wrong one while the address is refused.
    assert_rate_limited(right, longest=180)
    assert user(api, valid, address="198.51.100.7").status_code == 200


def test_guessed_short_lived_tokens_count_too(api, world):
    for n in range(31):
        response = api.post(
            "/api/v4/code_suggestions/completions",
            {},
            REMOTE_ADDR="192.0.2.1",
            HTTP_AUTHORIZATION=f"Bearer eyJ.guess{n}.sig",
        )

    assert_rate_limited(response, longest=180)


def test_valid_traffic_is_never_counted(api, world):
    valid = make_token(world.bob)
    for _ in range(40):
        assert user(api, valid).status_code == 200
    for n in range(30):
        assert user(api, f"glpat-guess-{n}").status_code == 401


def test_an_expired_token_is_not_a_guess(api, world):
    # An editor retrying with its expired token keeps being told why, never 429.
    expired = make_token(world.bob, expires_at="2020-01-01")
    for _ in range(40):
        response = user(api, expired)
        assert response.status_code == 401
        assert response.json()["error"] == "invalid_token"


def test_behind_the_tls_proxy_the_address_is_the_one_it_forwarded(api, world, settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    proxy = {"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_PROTO": "https"}
    for n in range(31):
        # The client writes its own X-Forwarded-For; the proxy appends the real address.
        forwarded = f"198.51.100.{n}, 192.0.2.1"
        response = api.get(
            "/api/v4/user", token=f"glpat-guess-{n}", HTTP_X_FORWARDED_FOR=forwarded, **proxy
        )

    assert_rate_limited(response, longest=180)
    other = api.get(
        "/api/v4/user",
        token=make_token(world.bob),
        HTTP_X_FORWARDED_FOR="192.0.2.99",
        **proxy,
    )
    assert other.status_code == 200


# Chat -----------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("chat_model")
def test_chat_refuses_questions_past_the_limit_on_both_endpoints(api, world, settings):
    settings.CHAT_RATE_LIMIT = 2
    token = make_token(world.bob)
    assert api.post(CHAT, {"content": "One?"}, token=token).status_code == 201
    graphql = api.post(
        "/api/graphql", {"query": AI_ACTION, "variables": {"content": "Two?"}}, token=token
    )
    assert graphql.json()["data"]["aiAction"]["errors"] == []

    rest = api.post(CHAT, {"content": "Three?"}, token=token)
    graphql = api.post(
        "/api/graphql", {"query": AI_ACTION, "variables": {"content": "Three?"}}, token=token
    )

    assert_rate_limited(rest, longest=8 * 3600)
    # GitLab answers its aiAction limit as a GraphQL error, with the REST endpoint's message.
    error = graphql.json()["errors"][0]
    assert error["message"] == RATE_LIMITED["message"]["error"]
    assert 1 <= error["extensions"]["retryAfter"] <= 8 * 3600
    # Another user's budget is their own.
    assert api.post(CHAT, {"content": "Mine?"}, token=make_token(world.alice)).status_code == 201


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("chat_model")
def test_a_refused_question_costs_nothing(api, world, settings):
    settings.CHAT_RATE_LIMIT = 1
    token = make_token(world.bob)
    assert api.post(CHAT, {"content": ""}, token=token).status_code == 400
    assert api.post(CHAT, {"content": "Fine?"}, token=token).status_code == 201


# With Redis -------------------------------------------------------------------------------------


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("without_redis", "then"), [("open", 302), ("closed", 503)])
def test_sign_in_limits_count_in_redis_and_follow_the_outage_setting(
    own_redis, django_user_model, settings, without_redis, then
):
    # Hashed as the server process, with the production settings, can check it.
    settings.PASSWORD_HASHERS = global_settings.PASSWORD_HASHERS
    django_user_model.objects.create_superuser("root", password="the-right-password-1")
    env = {
        "REDIS_URL": own_redis.url,
        "LOGIN_RATE_LIMIT": "3",
        "RATE_LIMIT_WITHOUT_REDIS": without_redis,
        "LOG_LEVEL": "WARNING",
    }
    with server_process(env, production=True) as url:

        def attempt(password: str) -> int:
            session = requests.Session()
            session.get(url + LOGIN, timeout=10)
            return session.post(
                url + LOGIN,
                data={
                    "username": "root",
                    "password": password,
                    "csrfmiddlewaretoken": session.cookies["csrftoken"],
                },
                allow_redirects=False,
                timeout=10,
            ).status_code

        # Until refused; the window may end once meanwhile (its clock runs in the server).
        before = [attempt("wrong")]
        while before[-1] != 429 and len(before) < 7:
            before.append(attempt("wrong"))
        own_redis.kill()
        during = attempt("the-right-password-1")

    assert before[:3] == [200, 200, 200]
    assert before[-1] == 429
    # Open: nothing can be counted, and the right password signs in. Closed: 503.
    assert during == then
