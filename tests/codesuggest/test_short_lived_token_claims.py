"""Which short-lived tokens the code-suggestion endpoints take (docs/api.md#tokens): only one this
service signed, with its algorithm, for its audience, from its issuer, of its type, inside its
lifetime, naming a user and that user's personal access token. Each refused token is a minted
one with one thing changed; the same claims signed as minted are taken, so each refusal is about
that one thing. Every refusal is GitLab's plain 401, whatever was wrong."""

import time
from collections.abc import Callable

import jwt
import pytest
from django.conf import settings

from tests.conftest import make_token

TOKENS = "/api/v4/code_suggestions/tokens"
COMPLETIONS = "/api/v4/code_suggestions/completions"
UNAUTHORIZED = {"message": "401 Unauthorized"}
# What completions answers a caller it let in, for a body without the file: no model is asked.
LET_IN = {"error": "current_file is missing"}

pytestmark = pytest.mark.django_db


def key() -> str:
    return settings.SIMPLE_JWT["SIGNING_KEY"]


def minted_claims(api, world) -> dict:
    response = api.post(TOKENS, token=make_token(world.bob))
    assert response.status_code == 201
    return jwt.decode(
        response.json()["access_token"],
        key(),
        algorithms=["HS256"],
        audience="gitlab-code-suggestions",
    )


def complete_with(api, token: str):
    return api.post(COMPLETIONS, {}, HTTP_AUTHORIZATION=f"Bearer {token}")


def test_the_minted_claims_signed_again_as_minted_are_taken(api, world):
    token = jwt.encode(minted_claims(api, world), key(), algorithm="HS256")

    response = complete_with(api, token)

    assert response.status_code == 400
    assert response.json() == LET_IN


def _shifted(seconds: int, *names: str) -> Callable[[dict], None]:
    def shift(claims: dict) -> None:
        for name in names:
            claims[name] += seconds

    return shift


def _set(name: str, value: object) -> Callable[[dict], None]:
    return lambda claims: claims.__setitem__(name, value)


def _without(name: str) -> Callable[[dict], None]:
    return lambda claims: claims.pop(name)


CHANGED_CLAIMS = {
    "expired a minute ago": lambda claims: claims.update(
        exp=int(time.time()) - 60, iat=int(time.time()) - 3660, nbf=int(time.time()) - 3665
    ),
    "not valid for another minute": _shifted(65, "nbf"),
    "for another audience": _set("aud", "gitlab-other-service"),
    "for no audience": _without("aud"),
    "from another issuer": _set("iss", "https://gitlab.example.com"),
    "of another type": _set("token_type", "access"),
    "of no type": _without("token_type"),
    "without an id": _without("jti"),
    "without an expiry": _without("exp"),
    "naming no user": _without("user_id"),
    "naming its user as text": lambda claims: claims.update(user_id=str(claims["user_id"])),
    "naming no personal access token": _without("pat_id"),
    "naming its personal access token as text": lambda claims: claims.update(
        pat_id=str(claims["pat_id"])
    ),
    "naming a personal access token that does not exist": _set("pat_id", 2**31 - 1),
}


@pytest.mark.parametrize("change", CHANGED_CLAIMS.values(), ids=CHANGED_CLAIMS.keys())
def test_a_token_signed_with_the_key_is_refused_when_a_claim_is_wrong(api, world, change):
    claims = minted_claims(api, world)
    change(claims)

    response = complete_with(api, jwt.encode(claims, key(), algorithm="HS256"))

    assert response.status_code == 401
    assert response.json() == UNAUTHORIZED


def test_a_token_is_taken_a_few_seconds_before_it_is_valid_as_clocks_differ(api, world):
    claims = minted_claims(api, world)
    claims["nbf"] = int(time.time()) + 2

    response = complete_with(api, jwt.encode(claims, key(), algorithm="HS256"))

    assert response.json() == LET_IN


SIGNED_OTHERWISE = {
    "with another key": lambda claims: jwt.encode(
        claims, "another-key-just-as-long-as-the-real-one", algorithm="HS256"
    ),
    "with the key but another algorithm": lambda claims: jwt.encode(
        claims, key(), algorithm="HS512"
    ),
    "not at all": lambda claims: jwt.encode(claims, None, algorithm="none"),
    "for other claims": lambda claims: _tampered(claims),
}


def _tampered(claims: dict) -> str:
    """A real signature over the claims as minted, with the claims then changed in the token."""
    header, _, signature = jwt.encode(claims, key(), algorithm="HS256").split(".")
    other = jwt.encode({**claims, "exp": claims["exp"] + 86_400}, key(), algorithm="HS256")
    return ".".join((header, other.split(".")[1], signature))


# HS512 with the service's key: PyJWT warns the key is short for it, which is not the point here.
@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
@pytest.mark.parametrize("sign", SIGNED_OTHERWISE.values(), ids=SIGNED_OTHERWISE.keys())
def test_a_token_not_signed_as_this_service_signs_is_refused(api, world, sign):
    response = complete_with(api, sign(minted_claims(api, world)))

    assert response.status_code == 401
    assert response.json() == UNAUTHORIZED


def test_a_bearer_that_only_looks_like_a_json_web_token_is_refused(api, world):
    response = complete_with(api, "eyJhbGciOiJIUzI1NiJ9.bm90IGpzb24.c2lnbmF0dXJl")

    assert response.status_code == 401
    assert response.json() == UNAUTHORIZED
