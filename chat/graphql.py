"""The chat app's part of the GraphQL schema, with GitLab's names: the `aiAction` mutation asks
(without waiting for the answer), `aiMessages` reads the conversation back."""

from collections.abc import AsyncGenerator
from enum import Enum
from typing import Any

import strawberry
from asgiref.sync import sync_to_async
from django.conf import settings
from django.utils import timezone
from django.utils.html import linebreaks
from graphql import GraphQLError
from strawberry import Private
from strawberry.scalars import JSON

from chat import relay
from chat.models import Message, Role
from chat.params import chat_schema
from chat.prompts import CURRENT_FILE
from chat.services import (
    ChatRecord,
    Resource,
    chat_features_available,
    chat_records,
    message_submit,
    record_id,
    resource_resolve,
)
from codesuggest.api import params
from codesuggest.api.errors import ApiError, as_api_error
from codesuggest.api.graphql import (
    RESOURCE_NOT_AVAILABLE,
    AiModelID,
    Info,
    ProjectID,
    Time,
    UserID,
    global_id,
    global_id_parts,
)
from codesuggest.api.views import gitlab_time
from codesuggest.errors import RateLimited, RecordNotFound
from projects.models import User

# GitLab's global ID types of the resources chat knows, by the REST API's resource types.
RESOURCE_TYPES = {
    "Project": "project",
    "Group": "group",
    "Issue": "issue",
    "Epic": "epic",
    "MergeRequest": "merge_request",
    "Commit": "commit",
}


@strawberry.type
class ChatUserFields:
    """Chat's fields of `CurrentUser`."""

    user: Private[User]

    @strawberry.field(description="Whether the user may use Duo Chat.")
    def duo_chat_available(self) -> bool:
        return self.user.chat_access

    @strawberry.field(description="GitLab's names of the chat features the user may use.")
    def duo_chat_available_features(self) -> list[str]:
        return chat_features_available(self.user)


# aiAction ---------------------------------------------------------------------------------------


@strawberry.enum(name="AiAdditionalContextCategory")
class AiAdditionalContextCategory(Enum):
    FILE = "file"
    SNIPPET = "snippet"
    MERGE_REQUEST = "merge_request"
    ISSUE = "issue"
    DEPENDENCY = "dependency"
    LOCAL_GIT = "local_git"


@strawberry.input(name="AiAdditionalContextInput")
class AiAdditionalContextInput:
    category: AiAdditionalContextCategory
    id: str
    content: str
    metadata: JSON | None = None


@strawberry.input(name="AiCurrentFileInput")
class AiCurrentFileInput:
    file_name: str
    selected_text: str
    content_above_cursor: str | None = None
    content_below_cursor: str | None = None


@strawberry.input(name="AiChatInput")
class AiChatInput:
    content: str
    resource_id: AiModelID | None = None
    current_file: AiCurrentFileInput | None = None
    additional_context: list[AiAdditionalContextInput] | None = None


@strawberry.input(name="AiActionInput")
class AiActionInput:
    chat: AiChatInput | None = None
    client_subscription_id: str | None = None
    platform_origin: str | None = None
    # The project of a `gid://gitlab/Commit/<sha>` resource.
    project_id: ProjectID | None = None
    client_mutation_id: str | None = None


@strawberry.type(name="AiActionPayload")
class AiActionPayload:
    request_id: str | None
    errors: list[str]
    client_mutation_id: str | None = None


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="Ask Duo Chat. Answers at once with the request id; the answer comes "
        "through aiMessages (or the aiCompletionResponse subscription)."
    )
    def ai_action(self, info: Info, input: AiActionInput) -> AiActionPayload | None:
        user = info.context.require_user()
        info.context.require_write_scope()
        chat = input.chat
        if chat is None:
            raise GraphQLError("Only one method argument is required")
        if not user.chat_access:
            raise GraphQLError(RESOURCE_NOT_AVAILABLE)
        try:
            data = params.parse(rest_parameters(input, chat), chat_schema())
        except ApiError as exc:
            # Like GitLab's own service errors: in the payload, which its clients show.
            return AiActionPayload(
                request_id=None,
                errors=[exc.body["error"]],
                client_mutation_id=input.client_mutation_id,
            )
        try:
            message = message_submit(
                user=user,
                content=data["content"],
                resource=chat_resource(user, chat.resource_id, input.project_id),
                additional_context=[
                    {**item, "metadata": item["metadata"] or {}}
                    for item in data["additional_context"]
                ],
                client_subscription_id=data["client_subscription_id"],
            )
        except RateLimited as exc:
            # GitLab's answer past its ai_action limit: the REST message as a GraphQL error,
            # and here also when to try again.
            raise GraphQLError(
                as_api_error(exc).body["message"]["error"],
                extensions={"retryAfter": exc.retry_after},
            ) from None
        return AiActionPayload(
            request_id=str(message.request_id),
            errors=[],
            client_mutation_id=input.client_mutation_id,
        )


def rest_parameters(input: AiActionInput, chat: AiChatInput) -> dict[str, Any]:
    """The question as POST /api/v4/chat/completions takes it, to be checked by the same rules;
    the selected text of the current file becomes an additional-context item."""
    context: list[dict[str, Any]] = [
        {
            "category": item.category.value,
            "id": item.id,
            "content": item.content,
            "metadata": item.metadata,
        }
        for item in chat.additional_context or []
    ]
    current = chat.current_file
    if current is not None and current.selected_text.strip():
        context.insert(
            0,
            {
                "category": "file",
                "id": current.file_name,
                "content": current.selected_text,
                "metadata": {"source": CURRENT_FILE},
            },
        )
    return {
        "content": chat.content,
        "client_subscription_id": input.client_subscription_id,
        "additional_context": context,
    }


def chat_resource(user: User, resource_id: str | None, project_id: str | None) -> Resource:
    """The resource a global ID names, by chat's rules (services.resource_resolve). A resource
    that is missing, hidden or of a kind chat does not know answer alike, as in GitLab."""
    if resource_id is None:
        return Resource()
    type_name, key = global_id_parts(resource_id)
    resource_type = RESOURCE_TYPES.get(type_name)
    project = global_id_parts(project_id) if project_id else None
    if resource_type is None:
        raise GraphQLError(RESOURCE_NOT_AVAILABLE)
    try:
        return resource_resolve(
            user=user,
            resource_type=resource_type,
            resource_id=key,
            project_id=record_id(project[1]) if project else None,
        )
    except RecordNotFound:
        raise GraphQLError(RESOURCE_NOT_AVAILABLE) from None


# aiMessages -------------------------------------------------------------------------------------


@strawberry.enum(name="AiMessageRole")
class AiMessageRole(Enum):
    USER = "user"
    ASSISTANT = "assistant"
    SYSTEM = "system"


@strawberry.enum(name="AiMessageType")
class AiMessageType(Enum):
    TOOL = "tool"


@strawberry.type(name="AiAdditionalContext")
class AiAdditionalContext:
    category: AiAdditionalContextCategory
    id: strawberry.ID
    content: str | None = None
    metadata: JSON | None = None


@strawberry.type(name="AiMessageExtras")
class AiMessageExtras:
    sources: list[JSON] | None = None
    # Newer language servers ask for it in their subscription; answers here cite no context.
    additional_context: list[AiAdditionalContext] | None = None


@strawberry.type(name="AiMessage")
class AiMessage:
    id: strawberry.ID | None
    request_id: str | None
    content: str | None
    content_html: str | None
    role: AiMessageRole
    timestamp: Time
    errors: list[str] | None
    type: AiMessageType | None = None
    chunk_id: int | None = None
    extras: AiMessageExtras | None = None

    @classmethod
    def of(cls, record: ChatRecord) -> "AiMessage":
        errors = [record.error] if record.error else []
        return cls(
            id=strawberry.ID(str(record.id)) if record.id is not None else None,
            request_id=record.request_id,
            content=record.content,
            # The text, escaped, in paragraphs: never the model's or the user's raw HTML. As in
            # GitLab, a failure has none.
            content_html=None if errors else linebreaks(record.content, autoescape=True),
            role=AiMessageRole(record.role),
            timestamp=Time(gitlab_time(record.created_at) or ""),
            errors=errors,
            extras=AiMessageExtras(sources=[], additional_context=[]),
        )


@strawberry.type(name="AiMessageConnection")
class AiMessageConnection:
    nodes: list[AiMessage]


@strawberry.type
class Query:
    @strawberry.field(description="The caller's own chat messages.")
    def ai_messages(
        self,
        info: Info,
        request_ids: list[strawberry.ID] | None = None,
        roles: list[AiMessageRole] | None = None,
    ) -> AiMessageConnection:
        user = info.context.user
        if user is None or not user.chat_access:
            return AiMessageConnection(nodes=[])
        records = chat_records(
            user=user,
            request_ids=[str(request_id) for request_id in request_ids]
            if request_ids is not None
            else None,
            roles=[role.value for role in roles] if roles is not None else None,
        )
        return AiMessageConnection(nodes=[AiMessage.of(record) for record in records])


# aiCompletionResponse (the answer as it is written; over ActionCable, codesuggest/cable.py) ------


@strawberry.enum(name="AiAction", description="The AI feature a subscription follows.")
class AiAction(Enum):
    CHAT = "chat"


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="The caller's answer on `clientSubscriptionId` as it is written: its pieces "
        "(chunkId 1…n), then the whole answer or its errors. The first result is null: the "
        "subscription holds."
    )
    async def ai_completion_response(
        self,
        info: Info,
        user_id: UserID | None = None,
        ai_action: AiAction | None = None,
        client_subscription_id: str | None = None,
    ) -> AsyncGenerator[AiMessage | None, None]:
        user = info.context.require_user()
        # The stream read is always the caller's own; refusing another user's id tells the client
        # it will get nothing there.
        if user_id != global_id("User", user.pk) or not user.chat_access:
            raise GraphQLError(RESOURCE_NOT_AVAILABLE)
        if not client_subscription_id:
            raise GraphQLError("clientSubscriptionId is required")  # answers are streamed by it
        yield None
        request_id, chunk_id = None, 0
        # Past the question deadline the sweep has failed any question: nothing more can come.
        stream = relay.stream_read_async(
            user.pk, client_subscription_id, timeout=settings.CHAT_QUESTION_DEADLINE
        )
        try:
            async for event, data in stream:
                if event == "start":
                    # A retry writes the answer again from its first piece.
                    request_id = await _asked_on(user, client_subscription_id)
                    chunk_id = 0
                elif event == "chunk":
                    chunk_id += 1
                    yield _streamed(request_id, data["content"], chunk_id=chunk_id)
                elif event == "done":
                    yield _streamed(data["request_id"], data["content"])
                elif event == "error":
                    yield _streamed(data["request_id"], None, errors=[data["message"]])
        except relay.RelayUnavailable:
            yield _streamed(request_id, None, errors=["Chat cannot reach its answer relay (Redis)"])


@sync_to_async
def _asked_on(user: User, client_subscription_id: str) -> str | None:
    """The request id of the latest question on this subscription: the one being answered (the
    worker's `start` names none)."""
    request_id = (
        Message.objects.filter(
            user=user, role=Role.USER, client_subscription_id=client_subscription_id
        )
        .order_by("-pk")
        .values_list("request_id", flat=True)
        .first()
    )
    return str(request_id) if request_id is not None else None


def _streamed(
    request_id: str | None,
    content: str | None,
    *,
    chunk_id: int | None = None,
    errors: list[str] | None = None,
) -> AiMessage:
    return AiMessage(
        id=None,
        request_id=request_id,
        content=content,
        # As aiMessages: escaped, in paragraphs; none for a failure.
        content_html=linebreaks(content, autoescape=True) if content is not None else None,
        role=AiMessageRole.ASSISTANT,
        timestamp=Time(gitlab_time(timezone.now()) or ""),
        errors=errors or [],
        chunk_id=chunk_id,
        extras=AiMessageExtras(sources=[], additional_context=[]),
    )
