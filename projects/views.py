from django.conf import settings
from rest_framework.request import Request
from rest_framework.response import Response

from codesuggest.api import errors
from codesuggest.api.scopes import AI_SCOPES
from codesuggest.api.views import ApiView
from projects import openapi
from projects.access import require_code_suggestions_access, visible_project
from projects.authentication import token_to_mint_from
from projects.models import code_suggestions_enabled
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
        return Response(openapi.CodeSuggestionsToken(token).data, status=201)


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


class CurrentUserView(ApiView):
    @openapi.current_user
    def get(self, request: Request) -> Response:
        return Response(openapi.CurrentUser(self.user).data)


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
        return Response(openapi.Version(settings).data)


class PersonalAccessTokenSelfView(ApiView):
    @openapi.personal_access_token_self
    def get(self, request: Request) -> Response:
        token = self.credential.token
        if self.credential.kind != "personal_access_token" or token is None:
            raise errors.bad_request_message(
                "This endpoint requires token type to be a personal access token"
            )
        return Response(openapi.PersonalAccessTokenSelf(token).data)
