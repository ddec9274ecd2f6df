"""The OpenAPI descriptions of the projects app's endpoints (worn by the views as decorators),
the serializers that render their answers, and the credentials its authentication takes, which
every endpoint shares."""

from typing import Any

from django.conf import settings
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema_field
from rest_framework import serializers

from codesuggest.api.schema import (
    CODE_SUGGESTIONS_401,
    FORBIDDEN,
    Constant,
    GitLabError,
    GitLabMessage,
    GitLabTime,
    api_schema,
    request_serializer,
)
from projects import tokens
from projects.models import User
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
    access_token = serializers.SerializerMethodField(
        help_text="A JWT, for `Authorization: Bearer`."
    )
    expires_in = serializers.SerializerMethodField(help_text="Seconds; 3600.")
    created_at = serializers.IntegerField(source="payload.iat", help_text="Epoch seconds.")

    def get_access_token(self, token: tokens.CodeSuggestionsToken) -> str:
        return str(token)

    def get_expires_in(self, token: tokens.CodeSuggestionsToken) -> int:
        return settings.CODE_SUGGESTIONS_TOKEN_LIFETIME_SECONDS


EnabledRequest = request_serializer(
    "EnabledRequest", ENABLED_PARAMS, {"project_path": "The project's full path, any case."}
)


class CurrentUser(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    name = serializers.SerializerMethodField()
    state = serializers.SerializerMethodField()
    # No account is locked after failed sign-ins here, and none has an avatar or is a bot.
    locked = Constant(serializers.BooleanField(), False)
    avatar_url = Constant(serializers.CharField(allow_null=True), None)
    web_url = serializers.SerializerMethodField()
    created_at = GitLabTime(source="date_joined")
    email = serializers.EmailField()
    is_admin = serializers.BooleanField()
    bot = Constant(serializers.BooleanField(), False)
    last_activity_on = serializers.SerializerMethodField()

    def get_name(self, user: User) -> str:
        return user.get_full_name() or user.username

    @extend_schema_field(serializers.ChoiceField(choices=["active", "blocked"]))
    def get_state(self, user: User) -> str:
        return "active" if user.is_active else "blocked"

    @extend_schema_field(OpenApiTypes.URI)
    def get_web_url(self, user: User) -> str:
        return f"{settings.CODESUGGEST_URL}/{user.username}"

    @extend_schema_field(OpenApiTypes.DATE)
    def get_last_activity_on(self, user: User) -> str:
        return timezone.localdate().isoformat()


class Kas(serializers.Serializer):
    """GitLab's agent server for Kubernetes, which this service does not run."""

    enabled = Constant(serializers.BooleanField(), False)
    externalUrl = Constant(serializers.CharField(allow_null=True), None)
    version = Constant(serializers.CharField(allow_null=True), None)


class Version(serializers.Serializer):
    version = serializers.CharField(
        source="CODESUGGEST_VERSION",
        help_text="Semver, at least 17.2.0, so that editors enable AI.",
    )
    revision = serializers.CharField(source="CODESUGGEST_REVISION")
    kas = Kas(source="*")
    enterprise = Constant(serializers.BooleanField(), True)


class PersonalAccessTokenSelf(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    revoked = serializers.BooleanField()
    created_at = GitLabTime()
    scopes = serializers.ListField(child=serializers.CharField())
    user_id = serializers.IntegerField()
    last_used_at = GitLabTime(allow_null=True)
    active = serializers.BooleanField(source="is_active")
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
