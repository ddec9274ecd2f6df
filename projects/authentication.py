"""Who is calling: personal access tokens, short-lived code-suggestions tokens, browser sessions.

Credentials are sought in GitLab's order (docs/api.md#credentials): the `PRIVATE-TOKEN` header, the
`private_token` parameter, then `Authorization: Bearer`. A token is checked in GitLab's order
too: unknown → expired → revoked → insufficient scope → blocked user.
"""

import hmac
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rest_framework.authentication import BaseAuthentication, SessionAuthentication
from rest_framework.exceptions import ParseError, UnsupportedMediaType
from rest_framework.request import Request

from codesuggest.api import errors, throttling
from codesuggest.api.scopes import ANY_SCOPE
from projects.caching import first_use_this_minute, token_by_digest, token_by_id
from projects.models import PersonalAccessToken, User, token_digest
from projects.tokens import CodeSuggestionsTokenError, decode_code_suggestions_token


@dataclass(frozen=True)
class Credential:
    """What authenticated the request: `request.auth` on every API view."""

    kind: str  # "personal_access_token", "code_suggestions_token" or "session"
    token: PersonalAccessToken | None = None


def presented_credential(request: Request) -> tuple[str, str] | None:
    """(where, value) of the first credential the request carries, in GitLab's order."""
    header = request.META.get("HTTP_PRIVATE_TOKEN")
    if header:
        return "private_token", header
    param = request.query_params.get("private_token") or _body_private_token(request)
    if param:
        return "private_token", param
    bearer = bearer_token(request)
    return ("bearer", bearer) if bearer else None


def bearer_token(request: Request) -> str | None:
    scheme, _, value = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def _body_private_token(request: Request) -> str | None:
    # A malformed body must not turn an anonymous request into a 400: authentication comes
    # first, and the parse error is reported later, to an authenticated caller. DRF answers a
    # second read of a body that failed to parse with empty data, so the error is kept here.
    try:
        data = request.data
    except ParseError as exc:
        request.body_parse_error = exc  # type: ignore[attr-defined]
        return None
    except UnsupportedMediaType:
        return None
    value = data.get("private_token") if hasattr(data, "get") else None
    return value if isinstance(value, str) else None


def _looks_like_jwt(value: str) -> bool:
    return value.count(".") == 2


class PersonalAccessTokenAuthentication(BaseAuthentication):
    """Personal access tokens everywhere; code-suggestions JWTs where the view accepts them."""

    def authenticate(self, request: Request) -> tuple[User, Credential] | None:
        presented = presented_credential(request)
        if presented is None:
            return None
        where, value = presented
        view = request.parser_context.get("view") if request.parser_context else None
        scopes: tuple[str, ...] = getattr(view, "required_scopes", ANY_SCOPE)
        if where == "bearer" and _looks_like_jwt(value):
            if not getattr(view, "accepts_code_suggestions_token", False):
                raise errors.unauthorized()
            return throttled_when_unknown(request, authenticate_code_suggestions_token, value)
        return throttled_when_unknown(request, authenticate_personal_access_token, value, scopes)

    def authenticate_header(self, request: Request) -> str:
        # Makes DRF answer a missing credential with 401 rather than 403. Only that there is one
        # counts: exception_handler answers with GitLab's headers, not this one.
        return 'Bearer realm="The API"'  # pragma: no mutate


def throttled_when_unknown(
    request: Request, authenticate: Callable[..., tuple[User, Credential]], *args: Any
) -> tuple[User, Credential]:
    """`authenticate(*args)`, refused while the caller's address is banned for guessing, and
    counting toward that ban when the credential is unknown (401 Unauthorized). An expired or
    revoked token is not a guess: its 401 says what to do, and is never turned into a 429."""
    throttling.refuse_banned_address(request)
    try:
        return authenticate(*args)
    except errors.ApiError as exc:
        if exc.body == errors.unauthorized().body:
            throttling.count_failed_authentication(request)
        raise


def authenticate_personal_access_token(
    plaintext: str, scopes: tuple[str, ...]
) -> tuple[User, Credential]:
    digest = token_digest(plaintext)
    token = token_by_digest(digest)
    # The look-up matched on the digest already; comparing again in constant time keeps timing
    # out of it even where a cache or database compares strings byte by byte.
    if token is None or not hmac.compare_digest(token.digest, digest):
        raise errors.unauthorized()
    if token.is_expired():
        raise errors.token_expired()
    if token.revoked:
        raise errors.token_revoked()
    if not token.has_any_scope(scopes):
        raise errors.insufficient_scope(scopes)
    if not token.user.is_active:
        raise errors.user_blocked()
    if first_use_this_minute(token):
        token.mark_used()
    return token.user, Credential("personal_access_token", token)


def authenticate_code_suggestions_token(value: str) -> tuple[User, Credential]:
    try:
        claims = decode_code_suggestions_token(value)
    except CodeSuggestionsTokenError:
        raise errors.unauthorized() from None
    token = token_by_id(claims["pat_id"])
    # It lives only as long as the personal access token it was minted from.
    if token is None or token.user_id != claims["user_id"] or not token.is_active():
        raise errors.unauthorized()
    if not token.user.is_active:
        raise errors.user_blocked()
    return token.user, Credential("code_suggestions_token", token)


def token_to_mint_from(credential: Credential) -> PersonalAccessToken:
    """The personal access token a new short-lived token is minted from: only such a token
    mints one. A short-lived token that could mint another would renew itself for ever, and one
    minted by a browser session would outlive the logout; either gets GitLab's answer to a
    credential it does not take, 401."""
    if credential.kind != "personal_access_token" or credential.token is None:
        raise errors.unauthorized()
    return credential.token


class GatewayTokenAuthentication(BaseAuthentication):
    """The AI gateway's way in, for the direct-access completions endpoint: a short-lived
    code-suggestions token as `Authorization: Bearer`, marked by `X-Gitlab-Authentication-Type:
    oidc`, exactly as the language server sends it. No other credential opens it."""

    def authenticate(self, request: Request) -> tuple[User, Credential]:
        token = bearer_token(request)
        oidc = request.META.get("HTTP_X_GITLAB_AUTHENTICATION_TYPE", "").lower() == "oidc"
        if token is None or not oidc or not _looks_like_jwt(token):
            raise errors.unauthorized()
        return throttled_when_unknown(request, authenticate_code_suggestions_token, token)

    def authenticate_header(self, request: Request) -> str:
        # Never asked for: DRF asks only when authenticate() returned None, which it never does.
        return 'Bearer realm="The API"'  # pragma: no mutate


class BrowserSessionAuthentication(SessionAuthentication):
    """A signed-in admin using the service's own pages (Django session + CSRF)."""

    def authenticate(self, request: Request) -> tuple[Any, Credential] | None:
        result = super().authenticate(request)
        if result is None:
            return None
        # Any kind but "personal_access_token" is treated alike (token_to_mint_from).
        return result[0], Credential("session")  # pragma: no mutate
