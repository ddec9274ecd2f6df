"""POST /api/v4/code_suggestions/tokens: a short-lived JWT for code suggestions
(docs/api.md#tokens)."""

import time
import uuid

import jwt
import pytest
from django.conf import settings
from django.test import Client

from projects.models import PersonalAccessToken, token_digest
from tests.conftest import INSUFFICIENT_SCOPE, make_token

URL = "/api/v4/code_suggestions/tokens"
COMPLETIONS = "/api/v4/code_suggestions/completions"


def decode(access_token: str) -> dict:
    return jwt.decode(
        access_token,
        settings.SIMPLE_JWT["SIGNING_KEY"],
        algorithms=[settings.SIMPLE_JWT["ALGORITHM"]],
        audience="gitlab-code-suggestions",
        issuer=settings.CODESUGGEST_URL,
    )


def mint(api, world, **token_fields) -> tuple[str, str]:
    pat = make_token(world.alice, **token_fields)
    response = api.post(URL, token=pat)
    assert response.status_code == 201
    return pat, response.json()["access_token"]


def test_it_issues_a_token_for_an_hour(api, world):
    before = int(time.time())
    response = api.post(URL, token=make_token(world.alice))
    after = int(time.time())

    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"access_token", "expires_in", "created_at"}
    assert body["expires_in"] == 3600
    assert before <= body["created_at"] <= after


def test_its_claims_say_who_when_and_from_which_token(api, world):
    pat = make_token(world.alice)
    body = api.post(URL, token=pat).json()

    claims = decode(body["access_token"])
    assert claims["iat"] == body["created_at"]
    assert claims["nbf"] == claims["iat"] - 5
    assert claims["exp"] == claims["iat"] + 3600
    assert claims["aud"] == "gitlab-code-suggestions"
    assert claims["iss"] == settings.CODESUGGEST_URL
    assert claims["user_id"] == world.alice.pk
    assert claims["pat_id"] == PersonalAccessToken.objects.get(digest=token_digest(pat)).pk


def test_it_gives_every_token_its_own_jti(api, world):
    pat = make_token(world.alice)
    first = decode(api.post(URL, token=pat).json()["access_token"])
    second = decode(api.post(URL, token=pat).json()["access_token"])
    assert first["jti"] != second["jti"]
    assert uuid.UUID(hex=first["jti"])


@pytest.mark.parametrize("scopes", [("api",), ("ai_features",)])
def test_it_accepts_either_ai_scope(api, world, scopes):
    assert api.post(URL, token=make_token(world.alice, scopes)).status_code == 201


def test_it_refuses_a_read_api_token(api, world):
    response = api.post(URL, token=make_token(world.alice, ("read_api",)))
    assert response.status_code == 403
    assert response.json() == INSUFFICIENT_SCOPE


def test_a_browser_session_needs_the_csrf_token(world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.alice)
    response = client.post(URL, "{}", content_type="application/json")
    assert response.status_code in (401, 403)
    assert "access_token" not in response.content.decode()


def test_it_refuses_an_anonymous_caller(api, world):
    response = api.post(URL)
    assert response.status_code == 401
    assert response.json() == {"message": "401 Unauthorized"}


def test_it_refuses_a_user_whose_code_suggestions_were_withdrawn(api, world):
    world.alice.code_suggestions_access = False
    world.alice.save()
    response = api.post(URL, token=make_token(world.alice))
    assert response.status_code == 401
    assert response.json() == {"message": "401 Unauthorized"}


def test_it_refuses_to_mint_a_token_from_a_token(api, world):
    _, access_token = mint(api, world)
    response = api.post(URL, HTTP_AUTHORIZATION=f"Bearer {access_token}")
    assert response.status_code == 401
    assert response.json() == {"message": "401 Unauthorized"}


def test_the_token_opens_the_completions_endpoint(api, world):
    _, access_token = mint(api, world)
    # An empty body gets past authentication to parameter validation.
    response = api.post(COMPLETIONS, {}, HTTP_AUTHORIZATION=f"Bearer {access_token}")
    assert response.status_code == 400
    assert response.json() == {"error": "current_file is missing"}


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/v4/user"),
        ("get", "/api/v4/version"),
        ("get", "/api/v4/personal_access_tokens/self"),
        ("post", "/api/v4/code_suggestions/enabled"),
    ],
)
def test_the_token_opens_nothing_else(api, world, method, path):
    _, access_token = mint(api, world)
    response = getattr(api, method)(path, HTTP_AUTHORIZATION=f"Bearer {access_token}")
    assert response.status_code == 401
    assert response.json() == {"message": "401 Unauthorized"}


def test_the_token_dies_with_its_personal_access_token(api, world):
    pat, access_token = mint(api, world)
    token = PersonalAccessToken.objects.get(digest=token_digest(pat))
    token.revoked = True
    token.save()
    response = api.post(COMPLETIONS, {}, HTTP_AUTHORIZATION=f"Bearer {access_token}")
    assert response.status_code == 401
    assert response.json() == {"message": "401 Unauthorized"}


def test_the_token_stops_when_the_user_is_blocked(api, world):
    _, access_token = mint(api, world)
    world.alice.is_active = False
    world.alice.save()
    response = api.post(COMPLETIONS, {}, HTTP_AUTHORIZATION=f"Bearer {access_token}")
    assert response.status_code == 403
    assert response.json() == {"message": "403 Forbidden - Your account has been blocked."}


def test_it_refuses_a_forged_token(api, world):
    _, access_token = mint(api, world)
    claims = decode(access_token)
    claims["user_id"] = world.bob.pk
    forged = jwt.encode(claims, "not-the-key-but-a-key-just-as-long", algorithm="HS256")
    response = api.post(COMPLETIONS, {}, HTTP_AUTHORIZATION=f"Bearer {forged}")
    assert response.status_code == 401


def test_it_refuses_an_expired_token(api, world):
    _, access_token = mint(api, world)
    claims = decode(access_token)
    claims["iat"] -= 7200
    claims["nbf"] -= 7200
    claims["exp"] -= 7200
    stale = jwt.encode(claims, settings.SIMPLE_JWT["SIGNING_KEY"], algorithm="HS256")
    response = api.post(COMPLETIONS, {}, HTTP_AUTHORIZATION=f"Bearer {stale}")
    assert response.status_code == 401
    assert response.json() == {"message": "401 Unauthorized"}
