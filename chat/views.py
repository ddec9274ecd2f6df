from django.http import StreamingHttpResponse
from rest_framework.request import Request
from rest_framework.response import Response

from chat import openapi
from chat.params import chat_schema
from chat.services import (
    answer_wait,
    question_submit,
    release_database_connection,
    resource_resolve,
    subscription_events,
)
from codesuggest.api.scopes import AI_SCOPES
from codesuggest.api.sse import KEEP_ALIVE, sse_event
from codesuggest.api.views import ApiView
from projects.access import require_chat_access


class ChatCompletionsView(ApiView):
    required_scopes = AI_SCOPES

    @openapi.chat_completions
    def post(self, request: Request) -> Response:
        user = self.user
        require_chat_access(user)
        data = self.parse(request, chat_schema())
        resource = resource_resolve(
            user=user,
            resource_type=data["resource_type"],
            resource_id=data["resource_id"],
            project_id=data["project_id"],
        )
        question = question_submit(
            user=user,
            content=data["content"],
            resource=resource,
            additional_context=[
                {**item, "metadata": item["metadata"] or {}} for item in data["additional_context"]
            ],
            referer_url=data["referer_url"],
            client_subscription_id=data["client_subscription_id"],
            with_clean_history=data["with_clean_history"],
        )
        # Answered as a bare JSON string once a worker has it (201), as GitLab's endpoint.
        return Response(answer_wait(question), status=201)


class ChatSubscriptionView(ApiView):
    """Server-Sent Events: the chunks of the answer to a question asked with this
    client_subscription_id, then a `done` event with the whole answer (or `error`)."""

    required_scopes = AI_SCOPES

    def perform_content_negotiation(self, request: Request, force: bool = False):
        # Clients ask for text/event-stream; errors before the stream starts are still JSON.
        return super().perform_content_negotiation(request, force=True)

    @openapi.chat_subscription
    def get(self, request: Request, subscription_id: str) -> StreamingHttpResponse:
        user = self.user
        require_chat_access(user)
        events = subscription_events(user=user, subscription_id=subscription_id)
        release_database_connection()
        return StreamingHttpResponse(
            (KEEP_ALIVE if item is None else sse_event(*item) for item in events),
            content_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )
