"""The OpenAPI descriptions of the projects app's endpoints (worn by the views as decorators),
and of the credentials its authentication takes, which every endpoint shares."""

from typing import Any

from django.conf import settings
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import serializers

from codesuggest.api.schema import (
    CODE_SUGGESTIONS_401,
    FORBIDDEN,
    GitLabError,
    GitLabMessage,
    api_schema,
    request_serializer,
)
from projects.params import ENABLED_PARAMS

# The short-lived token, last: only the code-suggestion endpoints take it.
TOKEN_SCHEMES = ["privateTokenHeader", "privateTokenQuery", "bearerToken", "codeSuggestionsToken"]


class PersonalAccessTokenScheme(OpenApiAuthenticationExtension):
    target_class = "projects.authentication.PersonalAccessTokenAuthentication"
    name = TOKEN_SCHEMES

    def get_security_definition(self, auto_schema: AutoSchema) -> list[dict[str, Any]]:
        pat = "A personal access token with the scope the endpoint needs."
        return [
            {"type": "apiKey", "in": "header", "name": "PRIVATE-TOKEN", "description": pat},
            {
                "type": "apiKey",
                "in": "query",
                "name": "private_token",
                "description": f"{pat} Also accepted as a form or JSON body field of that name.",
            },
            {"type": "http", "scheme": "bearer", "description": pat},
            {
                "type": "http",
                "scheme": "bearer",
                "bearerFormat": "JWT",
                "description": "The short-lived token from `POST /api/v4/code_suggestions/tokens`,"
                " accepted by the code-suggestion endpoints only.",
            },
        ]

    def get_security_requirement(self, auto_schema: AutoSchema) -> list[dict[str, list[Any]]]:
        # Each is an alternative: any one credential will do.
        takes_jwt = getattr(auto_schema.view, "accepts_code_suggestions_token", False)
        return [{name: []} for name in (TOKEN_SCHEMES if takes_jwt else TOKEN_SCHEMES[:-1])]


class BrowserSessionScheme(OpenApiAuthenticationExtension):
    target_class = "projects.authentication.BrowserSessionAuthentication"
    name = "sessionCookie"

    def get_security_definition(self, auto_schema: AutoSchema) -> dict[str, Any]:
        return {
            "type": "apiKey",
            "in": "cookie",
            "name": settings.SESSION_COOKIE_NAME,
            "description": "A signed-in user of the service's own pages (with Django's CSRF"
            " token on unsafe methods).",
        }


class CodeSuggestionsToken(serializers.Serializer):
    access_token = serializers.CharField(help_text="A JWT, for `Authorization: Bearer`.")
    expires_in = serializers.IntegerField(help_text="Seconds; 3600.")
    created_at = serializers.IntegerField(help_text="Epoch seconds.")


EnabledRequest = request_serializer(
    "EnabledRequest", ENABLED_PARAMS, {"project_path": "The project's full path, any case."}
)


class CurrentUser(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    name = serializers.CharField()
    state = serializers.ChoiceField(choices=["active", "blocked"])
    locked = serializers.BooleanField()
    avatar_url = serializers.CharField(allow_null=True)
    web_url = serializers.URLField()
    created_at = serializers.DateTimeField()
    email = serializers.EmailField()
    is_admin = serializers.BooleanField()
    bot = serializers.BooleanField()
    last_activity_on = serializers.DateField()


class Kas(serializers.Serializer):
    enabled = serializers.BooleanField()
    externalUrl = serializers.CharField(allow_null=True)
    version = serializers.CharField(allow_null=True)


class Version(serializers.Serializer):
    version = serializers.CharField(help_text="Semver, at least 17.2.0, so that editors enable AI.")
    revision = serializers.CharField()
    kas = Kas()
    enterprise = serializers.BooleanField()


class PersonalAccessTokenSelf(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    revoked = serializers.BooleanField()
    created_at = serializers.DateTimeField()
    scopes = serializers.ListField(child=serializers.CharField())
    user_id = serializers.IntegerField()
    last_used_at = serializers.DateTimeField(allow_null=True)
    active = serializers.BooleanField()
    expires_at = serializers.DateField(allow_null=True)


code_suggestions_tokens = api_schema(
    summary="Issue a short-lived code-suggestions token",
    tags=["code suggestions"],
    request=None,
    responses={201: CodeSuggestionsToken, 401: CODE_SUGGESTIONS_401},
    errors=(403,),
)

code_suggestions_enabled = api_schema(
    summary="Whether code suggestions are enabled for a project",
    tags=["code suggestions"],
    request=EnabledRequest,
    responses={
        200: OpenApiResponse(description="Enabled (no body)."),
        401: CODE_SUGGESTIONS_401,
        403: OpenApiResponse(
            FORBIDDEN, "Disabled for the project (`403 Forbidden`), or the token's scope."
        ),
        404: OpenApiResponse(GitLabMessage, "No such project, or one the user may not see."),
    },
    errors=(400,),
)

current_user = api_schema(
    summary="The user the credential belongs to",
    tags=["users"],
    responses={200: CurrentUser},
    errors=(401, 403),
)

version = api_schema(
    summary="The GitLab version this service speaks",
    tags=["instance"],
    responses={200: Version},
    errors=(401, 403),
)

personal_access_token_self = api_schema(
    summary="The personal access token used for this request",
    tags=["users"],
    responses={
        200: OpenApiResponse(PersonalAccessTokenSelf, "The token, without its secret."),
        400: OpenApiResponse(
            GitLabMessage, "The credential is not a personal access token (`400 Bad request - …`)."
        ),
    },
    errors=(401, 403),
)


class SastScanRequest(serializers.Serializer):
    file_path = serializers.CharField(help_text="The file's path in the project (not read).")
    content = serializers.CharField(help_text="The file's text (not read).")


sast_scan = api_schema(
    summary="Real-time SAST scan of a file (not available here)",
    tags=["projects"],
    request=SastScanRequest,
    parameters=[
        OpenApiParameter(
            "project",
            {"type": "string", "not": {"pattern": "\\n"}},
            OpenApiParameter.PATH,
            description="The project's id or full path (not looked up).",
        )
    ],
    responses={
        403: OpenApiResponse(
            FORBIDDEN,
            "`403 Forbidden` for every project: this service scans nothing. GitLab's language "
            "server then reports the scan as not available for the project.",
        ),
        404: OpenApiResponse(
            GitLabError, "A project path with a line break, which no route takes (`404 Not Found`)."
        ),
    },
    errors=(401,),
)
