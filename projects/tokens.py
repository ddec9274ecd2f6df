"""Short-lived code-suggestions access tokens (docs/api.md#tokens): JWTs signed by this service."""

from datetime import timedelta
from typing import Any

from django.conf import settings
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.tokens import Token

from projects.models import PersonalAccessToken

# Clocks of the service's nodes may disagree a little; a token is valid a few seconds early.
NOT_BEFORE_SKEW_SECONDS = 5


class CodeSuggestionsTokenError(Exception):
    pass


class CodeSuggestionsToken(Token):
    token_type = "code_suggestions"  # noqa: S105 - a claim value, not a secret
    lifetime = timedelta(seconds=settings.CODE_SUGGESTIONS_TOKEN_LIFETIME_SECONDS)


def issue_code_suggestions_token(
    *, personal_access_token: PersonalAccessToken
) -> CodeSuggestionsToken:
    """A JWT for the token's owner that dies with the personal access token it was minted from
    (revoked or expired), whichever comes first."""
    token = CodeSuggestionsToken()
    token["nbf"] = token["iat"] - NOT_BEFORE_SKEW_SECONDS
    token["user_id"] = personal_access_token.user_id
    token["pat_id"] = personal_access_token.pk
    return token


def decode_code_suggestions_token(value: str) -> dict[str, Any]:
    """The verified claims (signature, expiry, not-before, audience, issuer, type)."""
    try:
        claims = CodeSuggestionsToken(value).payload  # type: ignore[arg-type]
    except TokenError as exc:
        raise CodeSuggestionsTokenError(str(exc)) from None
    if not isinstance(claims.get("user_id"), int):
        raise CodeSuggestionsTokenError("Token names no user")
    # Tokens once minted by a browser session named no personal access token; none is valid.
    if not isinstance(claims.get("pat_id"), int):
        raise CodeSuggestionsTokenError("Token names no personal access token")
    return claims
