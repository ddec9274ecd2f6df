"""The OpenAPI descriptions of the chat endpoints (worn by the views as decorators)."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse

from chat.params import chat_schema
from codesuggest.api.schema import GitLabMessage, api_schema, event_stream, request_serializer

ChatRequest = request_serializer(
    "ChatRequest",
    chat_schema(),
    {
        "resource_type": "Ignored without `resource_id`; only groups, projects and commits"
        " resolve.",
        "client_subscription_id": "Also publish the answer as it is generated, to"
        " `GET /api/v4/chat/subscriptions/{subscription_id}`.",
        "project_id": "Required for a commit.",
    },
)


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


ChatStreamEvent = event_stream(
    "ChatStreamEvent",
    ["start", "chunk", "done", "error"],
    "JSON: `{attempt}` for `start`, `{content}` for `chunk`, `{content, request_id}` for `done`,"
    " `{message, request_id}` for `error`.",
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
            ChatStreamEvent,
            "Server-Sent Events: `start`, one `chunk` per piece (data: `{content}`), then"
            " `done` (data: `{content, request_id}`, the whole answer) or `error`"
            " (data: `{message, request_id}`).",
        ),
        404: OpenApiResponse(GitLabMessage, "Chat is not available to this user."),
    },
    errors=(401, 403),
)
