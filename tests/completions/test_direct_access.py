import time

from tests.completions.conftest import COMPLETIONS, completion_body
from tests.conftest import INSUFFICIENT_SCOPE, make_token

DIRECT_ACCESS = "/api/v4/code_suggestions/direct_access"


def test_it_hands_out_a_short_lived_token_and_where_to_use_it(
    api, upstream, settings, world, bob_token
):
    settings.CODESUGGEST_URL = "https://codesuggest.example.com:8443"

    response = api.post(DIRECT_ACCESS, token=bob_token)

    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"base_url", "token", "expires_at", "headers"}
    assert body["base_url"] == f"{settings.CODESUGGEST_URL}/api/v4/code_suggestions"
    assert abs(body["expires_at"] - (time.time() + 3600)) < 60
    assert body["headers"] == {
        "X-Gitlab-Realm": "self-managed",
        "X-Gitlab-Global-User-Id": str(world.bob.pk),
        "X-Gitlab-Host-Name": "codesuggest.example.com",
    }


def test_its_token_gets_completions(api, upstream, bob_token):
    token = api.post(DIRECT_ACCESS, token=bob_token).json()["token"]

    response = api.post(COMPLETIONS, completion_body(), HTTP_AUTHORIZATION=f"Bearer {token}")

    assert response.status_code == 200
    assert response.json()["choices"][0]["text"] == "return a * b"


def test_its_token_opens_nothing_else(api, upstream, bob_token):
    token = api.post(DIRECT_ACCESS, token=bob_token).json()["token"]

    response = api.get("/api/v4/user", HTTP_AUTHORIZATION=f"Bearer {token}")

    assert response.status_code == 401


def test_a_read_api_token_cannot_get_one(api, world):
    response = api.post(DIRECT_ACCESS, token=make_token(world.bob, scopes=("read_api",)))

    assert response.status_code == 403
    assert response.json() == INSUFFICIENT_SCOPE


def test_a_user_without_code_suggestions_cannot_get_one(api, world, bob_token):
    world.bob.code_suggestions_access = False
    world.bob.save()

    response = api.post(DIRECT_ACCESS, token=bob_token)

    assert response.status_code == 401
    assert response.json() == {"message": "401 Unauthorized"}


def test_anonymous_callers_get_401(api):
    assert api.post(DIRECT_ACCESS).status_code == 401
