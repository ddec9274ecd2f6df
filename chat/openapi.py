"""The OpenAPI descriptions of the chat endpoints (worn by the views as decorators)."""

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema_field
from rest_framework import serializers

from codesuggest.api.schema import GitLabMessage, api_schema


@extend_schema_field({"oneOf": [{"type": "string"}, {"type": "integer"}]})
class StringOrInteger(serializers.Field):
    pass


class AdditionalContext(serializers.Serializer):
    category = serializers.ChoiceField(
        choices=["file", "snippet", "merge_request", "issue", "dependency", "local_git"]
    )
    id = serializers.CharField(max_length=255)
    content = serializers.CharField()
    metadata = serializers.DictField(required=False)


class ChatRequest(serializers.Serializer):
    content = serializers.CharField(max_length=settings.CHAT_MAX_CONTENT_LENGTH)
    resource_type = serializers.ChoiceField(
        choices=["issue", "epic", "group", "project", "merge_request", "commit"],
        required=False,
        help_text="Ignored without `resource_id`; only groups, projects and commits resolve.",
    )
    resource_id = StringOrInteger(required=False)
    referer_url = serializers.CharField(max_length=1000, required=False)
    client_subscription_id = serializers.CharField(
        max_length=500,
        required=False,
        help_text="Also publish the answer as it is generated, to"
        " `GET /api/v4/chat/subscriptions/{subscription_id}`.",
    )
    with_clean_history = serializers.BooleanField(default=False)
    project_id = serializers.IntegerField(required=False, help_text="Required for a commit.")
    additional_context = AdditionalContext(many=True, required=False)


NO_CHAT = "Chat is not available to this user, or the resource does not exist or is hidden."

chat_completions = api_schema(
    summary="Ask Duo Chat a question",
    tags=["chat"],
    request=ChatRequest,
    responses={
        201: OpenApiResponse(OpenApiTypes.STR, "The answer, as a bare JSON string."),
        404: OpenApiResponse(GitLabMessage, NO_CHAT),
    },
    errors=(400, 401, 403, 413, 503, 504),
)

chat_subscription = api_schema(
    summary="Follow an answer as it is generated",
    tags=["chat"],
    parameters=[
        OpenApiParameter(
            "subscription_id",
            OpenApiTypes.STR,
            OpenApiParameter.PATH,
            description="The `client_subscription_id` the question was asked with.",
        )
    ],
    responses={
        (200, "text/event-stream"): OpenApiResponse(
            OpenApiTypes.STR,
            "Server-Sent Events: `start`, one `chunk` per piece (data: `{content}`), then"
            " `done` (data: `{content, request_id}`, the whole answer) or `error`"
            " (data: `{message, request_id}`).",
        ),
        404: OpenApiResponse(GitLabMessage, "Chat is not available to this user."),
    },
    errors=(401, 403),
)
