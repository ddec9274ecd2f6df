"""GET /api/v4/personal_access_tokens/self: the token the caller is using
(docs/api.md#personal-access-token)."""

from datetime import date, timedelta

from django.utils import timezone

from projects.models import PersonalAccessToken, User
from tests.conftest import make_token

URL = "/api/v4/personal_access_tokens/self"


def test_it_describes_the_token_in_use(api, world):
    expires_at = timezone.localdate() + timedelta(days=30)
    plaintext = make_token(world.alice, ("api", "read_user"), expires_at=expires_at)
    token = PersonalAccessToken.objects.get()

    response = api.get(URL, token=plaintext)

    assert response.status_code == 200
    body = response.json()
    assert body == {
        "id": token.pk,
        "name": "test",
        "revoked": False,
        "created_at": body["created_at"],
        "scopes": ["api", "read_user"],
        "user_id": world.alice.pk,
        "last_used_at": body["last_used_at"],
        "active": True,
        "expires_at": expires_at.isoformat(),
    }
    assert body["created_at"].endswith("Z")
    assert body["last_used_at"] is not None  # this very request used it


def test_a_token_without_an_expiry_says_so(api, world):
    body = api.get(URL, token=make_token(world.alice)).json()
    assert body["expires_at"] is None


def test_it_accepts_a_read_user_token(api, world):
    response = api.get(URL, token=make_token(world.alice, ("read_user",)))
    assert response.status_code == 200
    assert response.json()["scopes"] == ["read_user"]


def test_it_refuses_a_browser_session(api, world):
    admin = User.objects.create_superuser("root", password=None)
    api.client.force_login(admin)
    response = api.get(URL)
    assert response.status_code == 400
    assert response.json() == {
        "message": "400 Bad request - This endpoint requires token type to be a personal "
        "access token"
    }


def test_a_browser_session_still_reaches_the_user_endpoint(api, world):
    api.client.force_login(world.alice)
    response = api.get("/api/v4/user")
    assert response.status_code == 200
    assert response.json()["username"] == "alice"


def test_it_refuses_an_expired_token(api, world):
    response = api.get(URL, token=make_token(world.alice, expires_at=date(2020, 1, 1)))
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_token"
