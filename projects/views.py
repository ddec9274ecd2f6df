from django.conf import settings
from django.utils import timezone
from rest_framework.request import Request
from rest_framework.response import Response

from codesuggest.api import errors
from codesuggest.api.scopes import AI_SCOPES
from codesuggest.api.views import ApiView, gitlab_time
from projects import openapi
from projects.access import require_code_suggestions_access, visible_project
from projects.authentication import token_to_mint_from
from projects.models import PersonalAccessToken, User, code_suggestions_enabled
from projects.params import ENABLED_PARAMS
from projects.tokens import issue_code_suggestions_token


class CodeSuggestionsTokenView(ApiView):
    required_scopes = AI_SCOPES

    @openapi.code_suggestions_tokens
    def post(self, request: Request) -> Response:
        require_code_suggestions_access(self.user)
        token = issue_code_suggestions_token(
            personal_access_token=token_to_mint_from(self.credential)
        )
        return Response(
            {
                "access_token": str(token),
                "expires_in": settings.CODE_SUGGESTIONS_TOKEN_LIFETIME_SECONDS,
                "created_at": token["iat"],
            },
            status=201,
        )


class CodeSuggestionsEnabledView(ApiView):
    required_scopes = AI_SCOPES

    @openapi.code_suggestions_enabled
    def post(self, request: Request) -> Response:
        require_code_suggestions_access(self.user)
        project_path = self.parse(request, ENABLED_PARAMS)["project_path"]
        project = visible_project(self.user, project_path)
        if not code_suggestions_enabled(project):
            raise errors.forbidden()
        return Response(status=200)


def user_json(user: User) -> dict:
    return {
        "id": user.pk,
        "username": user.username,
        "name": user.get_full_name() or user.username,
        "state": "active" if user.is_active else "blocked",
        "locked": False,
        "avatar_url": None,
        "web_url": f"{settings.CODESUGGEST_URL}/{user.username}",
        "created_at": gitlab_time(user.date_joined),
        "email": user.email,
        "is_admin": user.is_admin,
        "bot": False,
        "last_activity_on": timezone.localdate().isoformat(),
    }


class CurrentUserView(ApiView):
    @openapi.current_user
    def get(self, request: Request) -> Response:
        return Response(user_json(self.user))


class SastScanView(ApiView):
    """GitLab's language server offers real-time SAST scans from 17.5 on, when the user turns
    them on. The same refusal for every project: a scan this service cannot run must not look
    like a clean result, and a project's existence is not revealed."""

    @openapi.sast_scan
    def post(self, request: Request, project: str) -> Response:
        raise errors.forbidden()


class VersionView(ApiView):
    @openapi.version
    def get(self, request: Request) -> Response:
        return Response(
            {
                "version": settings.CODESUGGEST_VERSION,
                "revision": settings.CODESUGGEST_REVISION,
                "kas": {"enabled": False, "externalUrl": None, "version": None},
                "enterprise": True,
            }
        )


def token_json(token: PersonalAccessToken) -> dict:
    return {
        "id": token.pk,
        "name": token.name,
        "revoked": token.revoked,
        "created_at": gitlab_time(token.created_at),
        "scopes": token.scopes,
        "user_id": token.user_id,
        "last_used_at": gitlab_time(token.last_used_at),
        "active": token.is_active(),
        "expires_at": token.expires_at.isoformat() if token.expires_at else None,
    }


class PersonalAccessTokenSelfView(ApiView):
    @openapi.personal_access_token_self
    def get(self, request: Request) -> Response:
        token = self.credential.token
        if self.credential.kind != "personal_access_token" or token is None:
            raise errors.bad_request_message(
                "This endpoint requires token type to be a personal access token"
            )
        return Response(token_json(token))
