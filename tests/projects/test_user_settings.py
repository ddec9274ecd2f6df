"""A user's own pages, staff or not: /users/sign_in, their personal access tokens at GitLab's
/-/user_settings/personal_access_tokens, and their usage."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from completions.models import SuggestionEvent, UsageEvent
from projects.models import PersonalAccessToken
from tests.conftest import make_token

SIGN_IN = "/users/sign_in"
TOKENS = "/-/user_settings/personal_access_tokens"
USAGE = "/-/user_settings/usage"
PASSWORD = "bobs-long-password-1"


@pytest.fixture(autouse=True)
def _quick_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def bob(world):
    world.bob.set_password(PASSWORD)
    world.bob.save()
    return world.bob


@pytest.fixture
def signed_in(bob) -> Client:
    client = Client()
    client.force_login(bob)
    return client


def create(client: Client, **fields):
    return client.post(TOKENS, {"name": "laptop", "scopes": ["api", "ai_features"], **fields})


# signing in


def test_a_user_who_is_not_staff_signs_in_and_lands_on_their_tokens(bob):
    client = Client()
    response = client.post(SIGN_IN, {"username": "bob", "password": PASSWORD})

    assert response.status_code == 302
    assert response["Location"] == TOKENS
    assert client.get(TOKENS).status_code == 200


def test_signing_in_returns_to_the_page_asked_for(bob):
    client = Client()
    asked = client.get(USAGE)
    assert asked["Location"] == f"{SIGN_IN}?next={USAGE}"

    response = client.post(SIGN_IN, {"username": "bob", "password": PASSWORD, "next": USAGE})

    assert response["Location"] == USAGE


def test_a_wrong_password_shows_the_form_again(bob):
    response = Client().post(SIGN_IN, {"username": "bob", "password": "wrong"})
    assert response.status_code == 200
    assert "correct username and password" in response.content.decode()


def test_a_blocked_user_cannot_sign_in(bob):
    bob.is_active = False
    bob.save()
    client = Client()
    client.post(SIGN_IN, {"username": "bob", "password": PASSWORD})
    assert client.get(TOKENS).status_code == 302


def test_sign_in_is_throttled_as_the_admins_is(bob, settings):
    settings.LOGIN_FAILURE_LIMIT = 2
    for _ in range(2):
        assert Client().post(SIGN_IN, {"username": "bob", "password": "x"}).status_code == 200

    response = Client().post(SIGN_IN, {"username": "bob", "password": PASSWORD})

    assert response.status_code == 429
    assert int(response["Retry-After"]) >= 1


def test_signing_out_ends_the_session(signed_in):
    response = signed_in.post("/users/sign_out")
    assert response.status_code == 302
    assert signed_in.get(TOKENS).status_code == 302


# tokens


def test_a_user_creates_a_token_and_sees_it_once_after_a_redirect(api, signed_in, bob):
    response = create(signed_in, expires_at=str(timezone.localdate() + timedelta(days=30)))

    assert response.status_code == 302
    assert response["Location"] == TOKENS
    page = signed_in.get(TOKENS)
    assert "no-store" in page["Cache-Control"]
    plaintext = page.context["new_plaintext"]
    assert plaintext.startswith("glpat-")
    assert plaintext in page.content.decode()
    assert 'data-copy="new-token"' in page.content.decode()
    assert api.get("/api/v4/user", token=plaintext).json()["username"] == "bob"
    token = PersonalAccessToken.objects.get()
    assert (token.user, token.name, sorted(token.scopes)) == (bob, "laptop", ["ai_features", "api"])
    assert plaintext not in signed_in.get(TOKENS).content.decode()


def test_a_token_needs_a_scope_and_a_future_expiry(signed_in):
    response = create(signed_in, scopes=[], expires_at="2001-01-01")
    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"scopes", "expires_at"}
    assert not PersonalAccessToken.objects.exists()


def test_a_user_sees_their_own_tokens_only_with_their_last_use(api, signed_in, world):
    mine = make_token(world.bob)
    make_token(world.alice)
    PersonalAccessToken.objects.filter(user=world.alice).update(name="alices-secret-laptop")
    api.get("/api/v4/user", token=mine)

    html = signed_in.get(TOKENS).content.decode()

    assert "alices-secret-laptop" not in html
    token = PersonalAccessToken.objects.get(user=world.bob)
    assert token.last_used_at is not None
    assert f"<td>{token.last_used_at:%Y-%m-%d %H:%M}</td>" in html


def test_a_user_revokes_their_token_and_it_stops_working(api, signed_in, world):
    plaintext = make_token(world.bob)
    token = PersonalAccessToken.objects.get()

    response = signed_in.post(f"{TOKENS}/{token.pk}/revoke")

    assert response.status_code == 302
    assert api.get("/api/v4/user", token=plaintext).status_code == 401
    html = signed_in.get(TOKENS).content.decode()
    assert "The token test was revoked." in html
    assert "<td>revoked</td>" in html


def test_a_user_cannot_revoke_someone_elses_token(api, signed_in, world):
    plaintext = make_token(world.alice)
    token = PersonalAccessToken.objects.get()

    assert signed_in.post(f"{TOKENS}/{token.pk}/revoke").status_code == 404
    assert api.get("/api/v4/user", token=plaintext).status_code == 200


def test_revoking_needs_a_post(signed_in, world):
    make_token(world.bob)
    token = PersonalAccessToken.objects.get()
    assert signed_in.get(f"{TOKENS}/{token.pk}/revoke").status_code == 405


def test_the_pages_need_a_signed_in_user(db):
    for page in (TOKENS, USAGE):
        response = Client().get(page)
        assert response.status_code == 302
        assert response["Location"].startswith(SIGN_IN)


# usage


def usage_event(user, days_ago: int = 0, status: int = 200) -> None:
    UsageEvent.objects.create(
        created_at=timezone.now() - timedelta(days=days_ago),
        user=user,
        endpoint="completions",
        status=status,
        latency_ms=100,
    )


def test_a_user_sees_their_own_requests_and_suggestions_by_day(signed_in, world):
    usage_event(world.bob)
    usage_event(world.bob)
    usage_event(world.bob, days_ago=1)
    usage_event(world.alice)
    for kind in (
        SuggestionEvent.Kind.SHOWN,
        SuggestionEvent.Kind.SHOWN,
        SuggestionEvent.Kind.ACCEPTED,
    ):
        SuggestionEvent.objects.create(user=world.bob, event=kind)
    SuggestionEvent.objects.create(user=world.alice, event=SuggestionEvent.Kind.SHOWN)

    response = signed_in.get(USAGE)

    assert response.status_code == 200
    assert response.context["totals"] == {"requests": 3, "shown": 2, "accepted": 1}
    today = timezone.localdate()
    days = {day["day"]: day for day in response.context["days"]}
    assert len(days) == 30
    assert days[today.isoformat()]["requests"] == 2
    assert days[today.isoformat()]["rate"] == "50.0%"
    assert days[(today - timedelta(days=1)).isoformat()]["requests"] == 1
