"""The OpenAPI descriptions of the completions app's endpoints, GitLab's and Vertex AI's (worn
by the views as decorators)."""

from typing import Any, Literal, TypedDict

from django.core.validators import RegexValidator
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import resolve_type_hint
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import serializers

from codesuggest.api.schema import (
    CODE_SUGGESTIONS_401,
    FORBIDDEN,
    ClosedObject,
    GitLabMessage,
    api_schema,
    event_stream,
    request_serializer,
)
from completions.params import (
    COMPLETION_PARAMS,
    GATEWAY_COMPLETION_PARAMS,
    MAX_INSTANCES,
    MAX_PROPERTIES_BYTES,
    MAX_TRACKED_EVENTS,
    NUMBER_PARAMETERS,
    TRACK_EVENT_PARAMS,
    TRACK_EVENTS_PARAMS,
)

# GitLab's code-suggestions endpoints ----------------------------------------------------------


CompletionRequest = request_serializer(
    "CompletionRequest",
    COMPLETION_PARAMS,
    {"project_path": "A project the user can see with code suggestions off answers 403."},
)


# A completion's answer is a typed dict, not a serializer: the view renders it in a few
# microseconds, where a serializer took some 170 (the endpoint adds under 2 ms in all).


class CompletionModel(TypedDict):
    """The model that answered: `engine` is the provider; `lang` the language, or empty."""

    engine: str
    name: str
    lang: str


class CompletionChoice(TypedDict):
    """A suggestion; `finish_reason` is `stop`, or `length` when the token limit cut it."""

    text: str
    index: int
    finish_reason: str


class Completion(TypedDict):
    """The suggestions: `created` is in epoch seconds; `choices` is empty when there is nothing
    to suggest."""

    id: str
    model: CompletionModel
    object: Literal["text_completion"]
    created: int
    choices: list[CompletionChoice]


class GatewayCompletion(Completion):
    """The suggestions, as GitLab's endpoint answers them, and `experiments`, the experiments
    the gateway ran: always empty."""

    experiments: list[Any]


class DirectAccess(TypedDict):
    """Where and how to ask for completions directly: `token` is a short-lived token for
    `Authorization: Bearer`, `expires_at` in epoch seconds, `headers` to send with it."""

    base_url: str
    token: str
    expires_at: int
    headers: dict[str, str]


# A raw stream's chunks are no events.
CompletionStreamEvent = event_stream(
    "CompletionStreamEvent",
    ["stream_start", "content_chunk", "stream_end", "error"],
    "JSON (see above).",
)


# What every code-suggestions endpoint may answer besides its own errors.
GATES = {
    401: CODE_SUGGESTIONS_401,
    404: OpenApiResponse(GitLabMessage, "Code suggestions are switched off instance-wide."),
}
PROJECT_OFF = OpenApiResponse(
    FORBIDDEN,
    "The project named has code suggestions switched off (`403 Forbidden`), the token lacks"
    " the scope, or the account is blocked.",
)

STREAMING = (
    "Answers JSON; with `stream: true`, the suggestion as it is generated"
    " (`text/event-stream`): its raw text in chunks, or with `X-Supports-Sse-Streaming: true`"
    " the events `stream_start` (data: the model), one `content_chunk` per chunk (data:"
    ' `{"choices":[{"delta":{"content":"…"},"index":0}]}`) and `stream_end`. A model server'
    " failing before the first chunk is a 503 or 504 like any other; failing after it, the SSE"
    ' stream ends with `error` (data: `{"message":"…"}`) instead of `stream_end`, and a raw'
    " stream is broken off (its chunked body never ends)."
)
STREAMING_HEADERS = [
    OpenApiParameter(
        "X-Supports-Sse-Streaming",
        OpenApiTypes.STR,
        OpenApiParameter.HEADER,
        description="`true`: with `stream: true`, answer with Server-Sent Events. Any other"
        " value is as none.",
    ),
    OpenApiParameter(
        "X-Streaming-Format",
        OpenApiTypes.STR,
        OpenApiParameter.HEADER,
        response=[200],
        description="`sse` when the stream is Server-Sent Events.",
    ),
]


def _completion_responses(body: type[Completion]) -> dict[Any, Any]:
    return {
        (200, "application/json"): OpenApiResponse(
            resolve_type_hint(body), "The suggestions; with `stream: true`, a stream (see above)."
        ),
        (200, "text/event-stream"): CompletionStreamEvent,
        403: PROJECT_OFF,
        **GATES,
    }


completions = api_schema(
    summary="Suggest code at the cursor",
    description=STREAMING,
    tags=["code suggestions"],
    request=CompletionRequest,
    parameters=STREAMING_HEADERS,
    responses=_completion_responses(Completion),
    errors=(400, 413, 503, 504),
)


class GatewayTokenScheme(OpenApiAuthenticationExtension):
    target_class = "projects.authentication.GatewayTokenAuthentication"
    name = "gatewayToken"

    def get_security_definition(self, auto_schema: AutoSchema) -> dict[str, Any]:
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "The short-lived token from `POST /api/v4/code_suggestions/"
            "direct_access` or `/tokens`, with the header `X-Gitlab-Authentication-Type:"
            " oidc`; nothing else.",
        }


GatewayCompletionRequest = request_serializer(
    "GatewayCompletionRequest",
    GATEWAY_COMPLETION_PARAMS,
    {
        "project_path": "A project the user can see with code suggestions off answers 403.",
        "prompt_version": "Accepted; this service builds its own prompt.",
        "model_provider": "Accepted and ignored: the configured provider answers.",
        "model_name": "Accepted and ignored: the configured model answers.",
    },
)

gateway_completions = api_schema(
    summary="Suggest code at the cursor: the AI gateway's v2 endpoint, for direct access",
    description="Where `direct_access` sends editors (`{base_url}/v2/completions`): the same"
    " suggestions, project gating, rate limit (shared) and streaming as"
    " `/code_suggestions/completions`, in the AI gateway's shape. Other gateway fields"
    " (`prompt`, `telemetry`, …) are accepted and ignored. " + STREAMING,
    tags=["code suggestions"],
    request=GatewayCompletionRequest,
    parameters=[
        OpenApiParameter(
            "X-Gitlab-Authentication-Type",
            OpenApiTypes.STR,
            OpenApiParameter.HEADER,
            required=True,
            enum=["oidc"],
            description="Marks the bearer token as a short-lived code-suggestions token.",
        ),
        *STREAMING_HEADERS,
    ],
    responses=_completion_responses(GatewayCompletion),
    errors=(400, 413, 503, 504),
)

direct_access = api_schema(
    summary="A short-lived token and the URL to ask for completions directly",
    tags=["code suggestions"],
    request=None,
    responses={
        201: OpenApiResponse(resolve_type_hint(DirectAccess), "The token and where to use it."),
        **GATES,
    },
    errors=(403,),
)

# Editors' telemetry ---------------------------------------------------------------------------

TRACKED = OpenApiResponse(
    OpenApiTypes.OBJECT, "Stored: an empty object (editors parse the answer as JSON)."
)
TRACKING = (
    " Only GitLab's code-suggestion IDE events are accepted; any other is a 400. Properties"
    " beyond the four described are stored as sent, up to"
    f" {MAX_PROPERTIES_BYTES} bytes of JSON per event."
)

# The tracked properties' time must be one `completions.telemetry` can read (Django's
# parse_datetime: no lowercase `t` or `z`, no leap second) and the database can store (an
# offset within ±15:59, a moment after year 1 in UTC). The API should answer those others with
# a 400 (`telemetry._moment`); today PostgreSQL's or SQLite's refusal is a 500.
MOMENT = (
    r"^(?!0001-)[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-5][0-9](\.[0-9]+)?"
    r"(Z|[+-](0[0-9]|1[0-5]):[0-5][0-9])$"
)
TrackedProperties = request_serializer(
    "TrackedProperties",
    TRACK_EVENT_PARAMS["additional_properties"].fields or {},
    described={
        "timestamp": serializers.DateTimeField(
            required=False,
            allow_null=True,
            validators=[RegexValidator(MOMENT)],
            help_text="ISO 8601, UTC unless it says otherwise.",
        )
    },
)
TrackEventRequest = request_serializer(
    "TrackEventRequest",
    TRACK_EVENT_PARAMS,
    described={"additional_properties": TrackedProperties(required=False, allow_null=True)},
)

track_event = api_schema(
    summary="Record what the editor did with a suggestion",
    description="GitLab's event tracking, for the events editors send about code suggestions."
    + TRACKING,
    tags=["telemetry"],
    request=TrackEventRequest,
    responses={200: TRACKED},
    errors=(400, 401, 403, 413),
)

track_events = api_schema(
    summary="Record several suggestion events at once",
    description="All or nothing: one event that is not accepted stores none." + TRACKING,
    tags=["telemetry"],
    request=request_serializer(
        "TrackEventsRequest",
        TRACK_EVENTS_PARAMS,
        described={
            "events": serializers.ListField(
                child=TrackEventRequest(), min_length=1, max_length=MAX_TRACKED_EVENTS
            )
        },
    ),
    responses={200: TRACKED},
    errors=(400, 401, 403, 413),
)

# Vertex AI's code-model API ------------------------------------------------------------------


class VertexInstance(serializers.Serializer):
    prefix = serializers.CharField(allow_blank=True)
    suffix = serializers.CharField(allow_blank=True, required=False)


def _vertex_number(kind: type, low: float, high: float) -> serializers.Field:
    if kind is int:
        return serializers.IntegerField(min_value=int(low), max_value=int(high), required=False)
    return serializers.FloatField(min_value=low, max_value=high, required=False)


# The numbers' limits come from the table `completions.params` checks them against.
VertexParameters = type(
    "VertexParameters",
    (serializers.Serializer,),
    {
        **{name: _vertex_number(*limits) for name, limits in NUMBER_PARAMETERS.items()},
        "stopSequences": serializers.ListField(child=serializers.CharField(), required=False),
        "echo": serializers.BooleanField(required=False),
    },
)


class VertexParametersClosed(ClosedObject):
    # Google answers an unknown parameter with 400 `Unknown parameter`, and so does this service.
    target_class = VertexParameters


class PredictRequest(serializers.Serializer):
    instances = serializers.ListField(
        child=VertexInstance(), min_length=1, max_length=MAX_INSTANCES
    )
    parameters = VertexParameters(required=False)


# Vertex AI's answers are typed dicts the views render, as a completion's are.


class Prediction(TypedDict):
    """A candidate, with the provider's safety attributes and citations when it sends them."""

    content: str
    score: float
    safetyAttributes: dict[str, Any]
    citationMetadata: dict[str, Any]


class PredictResponse(TypedDict):
    """The predictions; `model` is the resource name the request was sent to."""

    predictions: list[Prediction]
    deployedModelId: str
    model: str
    modelDisplayName: str
    metadata: dict[str, Any]


class GoogleErrorDetail(serializers.Serializer):
    code = serializers.IntegerField()
    message = serializers.CharField()
    status = serializers.CharField(help_text="INVALID_ARGUMENT")


class GoogleError(serializers.Serializer):
    error = GoogleErrorDetail()


class PredictSchemata(TypedDict):
    instanceSchemaUri: str
    parametersSchemaUri: str
    predictionSchemaUri: str


class PublisherModel(TypedDict):
    """The model, as Google describes its own code models."""

    name: str
    versionId: str
    openSourceCategory: str
    launchStage: str
    publisherModelTemplate: str
    predictSchemata: PredictSchemata


def _path(name: str, description: str, pattern: str = "^[^/]+$") -> OpenApiParameter:
    # The patterns are vertex_predict_urls.py's: any other value names no route here (Django's 404).
    return OpenApiParameter(
        name, OpenApiTypes.STR, OpenApiParameter.PATH, description=description, pattern=pattern
    )


MODEL = _path("model", "The model's name, e.g. `code-gecko@002`; any name is answered.", "^[^/:]+$")

vertex_predict = api_schema(
    summary="Vertex AI code-model predict, answered by the configured provider",
    description="Vertex AI's code-model API, so that tools built for code-gecko can use this"
    " service's model. Rate-limited and gated like code-suggestion completions.",
    tags=["vertex ai"],
    operation_id="vertex_predict",
    parameters=[
        _path(
            "project",
            "A Google Cloud project id (ignored), or a GitLab project path (`acme%2Ftools`)"
            " that gates as `project_path` does.",
        ),
        _path("location", "A Google Cloud region, e.g. `us-central1`; ignored."),
        MODEL,
    ],
    request=PredictRequest,
    responses={
        200: OpenApiResponse(resolve_type_hint(PredictResponse), "The predictions."),
        400: OpenApiResponse(GoogleError, "A parameter is out of range (Google's error body)."),
        403: PROJECT_OFF,
        **GATES,
    },
    errors=(413, 503, 504),
)

vertex_publisher_model = api_schema(
    summary="The model description Google's SDK fetches before predicting",
    tags=["vertex ai"],
    operation_id="vertex_publisher_model",
    parameters=[MODEL],
    responses={
        200: OpenApiResponse(resolve_type_hint(PublisherModel), "The model."),
        **GATES,
    },
    errors=(403,),
)
