"""A short-lived token names its user and the personal access token it was minted from, and the
two must belong together: a token signed with the service's own key (a leaked key, a bug in
minting) that pairs one user with another user's personal access token opens nothing.

Expiry and revocation of the personal access token behind a token, for tokens from /tokens and
from /direct_access, are guarded in test_short_lived_tokens.py and test_v2_completions.py."""

import jwt
import pytest
from django.conf import settings

from projects.models import PersonalAccessToken, token_digest
from tests.completions.conftest import COMPLETIONS, completion_body, upstream  # noqa: F401
from tests.conftest import make_token
from tests.fake_servers import openai_server  # noqa: F401  (upstream's model server)

TOKENS = "/api/v4/code_suggestions/tokens"

pytestmark = pytest.mark.usefixtures("upstream")


def claims_of(api, pat: str) -> dict:
    response = api.post(TOKENS, token=pat)
    assert response.status_code == 201
    return jwt.decode(
        response.json()["access_token"],
        settings.SIMPLE_JWT["SIGNING_KEY"],
        algorithms=[settings.SIMPLE_JWT["ALGORITHM"]],
        audience="gitlab-code-suggestions",
    )


def signed(claims: dict) -> str:
    """The claims signed with the service's own key: a token the service would have issued."""
    key = settings.SIMPLE_JWT["SIGNING_KEY"]
    return jwt.encode(claims, key, algorithm=settings.SIMPLE_JWT["ALGORITHM"])


def complete_with(api, token: str):
    return api.post(COMPLETIONS, completion_body(), HTTP_AUTHORIZATION=f"Bearer {token}")


def pat_id(plaintext: str) -> int:
    return PersonalAccessToken.objects.get(digest=token_digest(plaintext)).pk


def test_a_token_pairing_a_user_with_another_users_personal_access_token_is_refused(api, world):
    claims = claims_of(api, make_token(world.charlie))
    # Re-signed as it came, the token works: a refusal below is about the pairing, not the key.
    assert complete_with(api, signed(claims)).status_code == 200

    claims["pat_id"] = pat_id(make_token(world.bob))

    response = complete_with(api, signed(claims))
    assert response.status_code == 401
    assert response.json() == {"message": "401 Unauthorized"}


def test_a_token_naming_another_user_for_its_own_personal_access_token_is_refused(api, world):
    claims = claims_of(api, make_token(world.bob))
    assert complete_with(api, signed(claims)).status_code == 200

    claims["user_id"] = world.charlie.pk

    response = complete_with(api, signed(claims))
    assert response.status_code == 401
    assert response.json() == {"message": "401 Unauthorized"}
