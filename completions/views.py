import errno
import logging
import time
import uuid
from collections.abc import Generator
from contextlib import closing
from typing import Any, cast
from urllib.parse import urlsplit

from django.conf import settings
from django.http import StreamingHttpResponse
from rest_framework.request import Request
from rest_framework.response import Response

from codesuggest.api.params import Schema
from codesuggest.api.scopes import AI_SCOPES
from codesuggest.api.sse import sse_event
from codesuggest.api.views import ApiView
from codesuggest.providers import ProviderError
from completions import openapi
from completions.params import (
    COMPLETION_PARAMS,
    GATEWAY_COMPLETION_PARAMS,
    TRACK_EVENT_PARAMS,
    TRACK_EVENTS_PARAMS,
)
from completions.services import (
    SuggestionRequest,
    Suggestions,
    stream_suggestion,
    suggest,
)
from completions.telemetry import track_suggestion_events
from completions.usage import metered_request
from projects.access import (
    require_code_suggestions_access,
    require_code_suggestions_feature,
)
from projects.authentication import GatewayTokenAuthentication, token_to_mint_from
from projects.exclusions import context_exclusions
from projects.tokens import issue_code_suggestions_token

logger = logging.getLogger(__name__)


class CodeSuggestionsView(ApiView):
    """Shared by every code-suggestions endpoint: who may call it, in GitLab's order."""

    required_scopes = AI_SCOPES
    accepts_code_suggestions_token = True

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        require_code_suggestions_access(self.user)
        require_code_suggestions_feature()


class CompletionsView(CodeSuggestionsView):
    params_schema: Schema = COMPLETION_PARAMS
    usage_endpoint = "completions"

    @openapi.completions
    def post(self, request: Request) -> Response | StreamingHttpResponse:
        return self.complete(request)

    def complete(self, request: Request) -> Response | StreamingHttpResponse:
        params = self.parse(request, self.params_schema)
        current_file = params["current_file"]
        with metered_request(
            user=self.user, project_path=params["project_path"], endpoint=self.usage_endpoint
        ) as usage:
            suggestion_request = SuggestionRequest(
                file_name=current_file["file_name"],
                content_above_cursor=current_file["content_above_cursor"],
                content_below_cursor=current_file["content_below_cursor"],
                intent=params["intent"],
                generation_type=params["generation_type"],
                user_instruction=params["user_instruction"],
                context=tuple((item["name"], item["content"]) for item in params["context"] or ()),
                choices_count=params["choices_count"],
                project_key=usage.project.index_key if usage.project else None,
                exclusions=context_exclusions(usage.project),
            )
            if params["stream"]:
                suggestions, chunks = stream_suggestion(suggestion_request)
                usage.describe(suggestions, streamed=True)
                sse = request.headers.get("X-Supports-Sse-Streaming", "").lower() == "true"
                return streaming_response(suggestions, chunks, sse=sse)
            suggestions = suggest(suggestion_request)
            usage.describe(suggestions)
            return Response(self.completion_json(suggestions))

    def completion_json(self, suggestions: Suggestions) -> openapi.Completion:
        return openapi.Completion(
            id=f"cmpl-{uuid.uuid4().hex}",
            # The model's engine, name and language, as `openapi.CompletionModel` names them.
            model=cast(openapi.CompletionModel, suggestions.model),
            object="text_completion",
            created=int(time.time()),
            choices=[
                openapi.CompletionChoice(
                    text=choice.text, index=index, finish_reason=choice.finish_reason
                )
                for index, choice in enumerate(suggestions.choices)
            ],
        )


class GatewayCompletionsView(CompletionsView):
    """The AI gateway's v2 completions, where direct access sends the language server: the same
    work, limits and usage records as GitLab's endpoint, opened only by the short-lived token."""

    authentication_classes = [GatewayTokenAuthentication]
    params_schema = GATEWAY_COMPLETION_PARAMS
    usage_endpoint = "v2_completions"

    @openapi.gateway_completions
    def post(self, request: Request) -> Response | StreamingHttpResponse:
        return self.complete(request)

    def completion_json(self, suggestions: Suggestions) -> openapi.GatewayCompletion:
        # The gateway also lists the experiments it ran; this service runs none.
        return openapi.GatewayCompletion(**super().completion_json(suggestions), experiments=[])


def streaming_response(
    suggestions: Suggestions, chunks: Generator[str], *, sse: bool
) -> StreamingHttpResponse:
    """Raw text chunks (GitLab's default) or Server-Sent Events when the client asked for them.

    When the client goes away the server closes this response, which closes `chunks` and with
    them the upstream request, so the model stops generating for nobody.

    A provider that fails once the stream has started can no longer change the status: an SSE
    stream then ends with `event: error` (data: `{"message": "…"}`) instead of `stream_end`,
    and a raw stream is broken off, so the client sees an incomplete response, not a clean end.
    """
    body = _sse_frames(suggestions, chunks) if sse else _raw_chunks(chunks)
    response = StreamingHttpResponse(body, content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"  # a proxy in front must not hold chunks back
    if sse:
        response["X-Streaming-Format"] = "sse"
    return response


def _raw_chunks(chunks: Generator[str]) -> Generator[str]:
    try:
        yield from chunks
    except ProviderError as exc:
        _log_broken_stream(exc)
        raise ResponseBrokenOff from None


def _sse_frames(suggestions: Suggestions, chunks: Generator[str]) -> Generator[bytes]:
    with closing(chunks):
        yield sse_event("stream_start", {"model": suggestions.model})
        try:
            for chunk in chunks:
                yield sse_event(
                    "content_chunk", {"choices": [{"delta": {"content": chunk}, "index": 0}]}
                )
        except ProviderError as exc:
            _log_broken_stream(exc)
            yield sse_event("error", {"message": str(exc)})
            return
        yield sse_event("stream_end", None)


def _log_broken_stream(exc: ProviderError) -> None:
    # The provider's message says what failed; a traceback would add only our own frames.
    logger.warning("A completion stream failed after it started: %s", exc)


class ResponseBrokenOff(ConnectionResetError):
    """Raised out of a response's body to break the response off.

    WSGI cannot abort a response: a server whose body iterator raises closes the connection
    without ending the chunked body, which is what the client must see. gunicorn's workers and
    runserver take a connection reset as routine (a debug line at most) where any other
    exception would log a traceback for every broken stream.
    """

    def __init__(self) -> None:
        super().__init__(errno.ECONNRESET, "The model server failed during a streamed response")


class TrackEventView(ApiView):
    """GitLab's internal-event tracking, for the code-suggestion events editors send."""

    required_scopes = AI_SCOPES

    @openapi.track_event
    def post(self, request: Request) -> Response:
        params = self.parse(request, TRACK_EVENT_PARAMS)
        track_suggestion_events(user=self.user, events=[("", params, self.body(request))])
        # Editors parse the answer as JSON: an empty body would count as a failure.
        return Response({})


class TrackEventsView(ApiView):
    required_scopes = AI_SCOPES

    @openapi.track_events
    def post(self, request: Request) -> Response:
        params = self.parse(request, TRACK_EVENTS_PARAMS)
        sent = self.body(request)["events"]
        events = [
            (f"events[{index}]", checked, sent[index])
            for index, checked in enumerate(params["events"])
        ]
        track_suggestion_events(user=self.user, events=events)
        return Response({})


class DirectAccessView(CodeSuggestionsView):
    """A short-lived token and the URL to send completions to, for editors that call directly."""

    @openapi.direct_access
    def post(self, request: Request) -> Response:
        token = issue_code_suggestions_token(
            personal_access_token=token_to_mint_from(self.credential)
        )
        return Response(
            openapi.DirectAccess(
                base_url=f"{settings.CODESUGGEST_URL}/api/v4/code_suggestions",
                token=str(token),
                expires_at=token["exp"],
                headers={
                    "X-Gitlab-Realm": "self-managed",
                    "X-Gitlab-Global-User-Id": str(self.user.pk),
                    # GitLab sends its configured host name, not a URL.
                    "X-Gitlab-Host-Name": urlsplit(settings.CODESUGGEST_URL).hostname or "",
                },
            ),
            status=201,
        )
