"""Short-lived code-suggestions tokens (JWTs) are minted only from a personal access token and
die with it: a JWT cannot mint another, a browser session mints none (README, "Security")."""

import datetime

import jwt
import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from projects.models import PersonalAccessToken, token_digest
from tests.completions.conftest import COMPLETIONS, completion_body, upstream  # noqa: F401
from tests.conftest import make_token
from tests.fake_servers import openai_server  # noqa: F401  (upstream's model server)

TOKENS = "/api/v4/code_suggestions/tokens"
DIRECT_ACCESS = "/api/v4/code_suggestions/direct_access"
UNAUTHORIZED = {"message": "401 Unauthorized"}

# A model server behind completions, so that a token that works gets its 200.
pytestmark = pytest.mark.usefixtures("upstream")


def mint(api, pat: str, where: str) -> str:
    response = api.post(where, token=pat)
    assert response.status_code == 201
    body = response.json()
    return body["access_token"] if where == TOKENS else body["token"]


def bearer(value: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {value}"}


@pytest.mark.parametrize("minted_at", [TOKENS, DIRECT_ACCESS])
@pytest.mark.parametrize("asked_at", [TOKENS, DIRECT_ACCESS])
def test_a_short_lived_token_cannot_mint_another(api, world, minted_at, asked_at):
    jwt_token = mint(api, make_token(world.bob), minted_at)
    # The JWT itself works: only minting is refused.
    assert api.post(COMPLETIONS, completion_body(), **bearer(jwt_token)).status_code == 200

    response = api.post(asked_at, **bearer(jwt_token))

    assert response.status_code == 401
    assert response.json() == UNAUTHORIZED


@pytest.mark.parametrize("where", [TOKENS, DIRECT_ACCESS])
def test_a_browser_session_mints_no_token(world, where):
    # A signed-in admin with a valid CSRF token: everything a page of the service could send.
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.alice)
    client.get("/admin/login/")  # sets the CSRF cookie, as the page would
    csrf = client.cookies["csrftoken"].value

    response = client.post(where, "{}", content_type="application/json", HTTP_X_CSRFTOKEN=csrf)

    # 401, not the 403 of a failed CSRF check: the session got through and was refused.
    assert response.status_code == 401
    assert response.json() == UNAUTHORIZED


def test_a_browser_session_still_reaches_what_it_reached(world):
    # The refusal is about minting, not sessions: the session goes on opening the other pages.
    client = Client()
    client.force_login(world.alice)
    assert client.get("/api/v4/user").status_code == 200


def test_a_token_that_names_no_personal_access_token_is_refused(api, world):
    # What a browser session used to mint: signed with the real key, valid for the hour, tied to
    # the user alone. Such tokens stop working at once.
    pat = make_token(world.bob)
    claims = jwt.decode(
        mint(api, pat, TOKENS),
        settings.SIMPLE_JWT["SIGNING_KEY"],
        algorithms=["HS256"],
        audience="gitlab-code-suggestions",
    )
    claims["pat_id"] = None
    session_minted = jwt.encode(claims, settings.SIMPLE_JWT["SIGNING_KEY"], algorithm="HS256")

    response = api.post(COMPLETIONS, completion_body(), **bearer(session_minted))

    assert response.status_code == 401
    assert response.json() == UNAUTHORIZED


@pytest.mark.parametrize("where", [TOKENS, DIRECT_ACCESS])
def test_a_short_lived_token_dies_the_day_its_personal_access_token_expires(
    api, world, monkeypatch, where
):
    today = timezone.localdate()
    pat = make_token(world.bob, expires_at=today + datetime.timedelta(days=1))
    jwt_token = mint(api, pat, where)
    assert api.post(COMPLETIONS, completion_body(), **bearer(jwt_token)).status_code == 200

    # The personal access token's last day ends within the short-lived token's hour.
    monkeypatch.setattr(timezone, "localdate", lambda *args: today + datetime.timedelta(days=1))

    response = api.post(COMPLETIONS, completion_body(), **bearer(jwt_token))
    assert response.status_code == 401
    assert response.json() == UNAUTHORIZED


@pytest.mark.parametrize("where", [TOKENS, DIRECT_ACCESS])
def test_a_short_lived_token_dies_when_its_personal_access_token_is_revoked(api, world, where):
    pat = make_token(world.bob)
    jwt_token = mint(api, pat, where)
    assert api.post(COMPLETIONS, completion_body(), **bearer(jwt_token)).status_code == 200

    revoked = PersonalAccessToken.objects.get(digest=token_digest(pat))
    revoked.revoked = True
    revoked.save()

    response = api.post(COMPLETIONS, completion_body(), **bearer(jwt_token))
    assert response.status_code == 401
    assert response.json() == UNAUTHORIZED
