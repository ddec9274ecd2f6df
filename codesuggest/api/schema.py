"""What every endpoint's OpenAPI description shares: the credentials, and GitLab's error bodies.

Each app describes its own endpoints in its `openapi.py`, with `api_schema` below, and its views
wear those descriptions as decorators. The views validate with `codesuggest.api.params`, and
`request_serializer` derives the request bodies from those same schemas; the apps' answers are
rendered by the serializers (or typed dicts) that describe them, so that the two cannot differ.
The error bodies here are described only: `codesuggest.api.errors` builds them.
"""

from collections.abc import Mapping
from datetime import datetime
from typing import Any, cast

from drf_spectacular.extensions import (
    OpenApiSerializerExtension,
    OpenApiSerializerFieldExtension,
)
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
    extend_schema_field,
)
from rest_framework import serializers

from codesuggest.api.params import INT_MAX, INT_MIN, Param, Schema
from codesuggest.api.views import gitlab_time

# Every string parameter refuses a NUL (`params.NUL`).
WITHOUT_NUL = {"not": {"pattern": "\\u0000"}}
# A string parameter also takes any number, read as its text, as Grape coerces one (`params`).
# Its length limits are the text's: a float's text is at most 24 characters and no limit here is
# under 64, so only an integer with more digits than the limit, which no client sends, is refused
# where this description allows it (JSON Schema cannot tell 1e70 from the integer written out).
NUMBER_AS_TEXT = {"type": "number"}


class Text(serializers.CharField):
    """A string parameter, which refuses a NUL and takes a number as its text."""


class TextDescription(OpenApiSerializerFieldExtension):
    # Said as `not` a pattern, not as a pattern of what may be there: drf-spectacular would
    # describe a string that may be blank and has a pattern as oneOf the pattern and "".
    target_class = Text

    def map_serializer_field(self, auto_schema: AutoSchema, direction: Any) -> dict[str, Any]:
        schema = auto_schema._map_serializer_field(self.target, direction, bypass_extensions=True)
        del schema["type"]
        string = {"type": "string", **WITHOUT_NUL}
        if self.target.min_length is not None:
            string["minLength"] = self.target.min_length
        if self.target.max_length is not None:
            string["maxLength"] = self.target.max_length
        return {**schema, "anyOf": [string, NUMBER_AS_TEXT]}


@extend_schema_field({"anyOf": [{"type": "string", **WITHOUT_NUL}, NUMBER_AS_TEXT]})
class StringOrInteger(serializers.Field):
    """An id as text or a bigint; any other number is taken as its text."""


class Constant(serializers.Field):
    """A property an answer always has with the same value, as GitLab's answers have it for
    what this service does not do (`locked: false`); described as `field` describes it."""

    def __init__(self, field: serializers.Field, value: Any, **kwargs: Any) -> None:
        super().__init__(source="*", read_only=True, **kwargs)
        self.field = field
        self.value = value

    def to_representation(self, instance: Any) -> Any:
        return self.value


class ConstantDescription(OpenApiSerializerFieldExtension):
    target_class = Constant

    def map_serializer_field(self, auto_schema: AutoSchema, direction: Any) -> dict[str, Any]:
        return auto_schema._map_serializer_field(self.target.field, direction)


class GitLabTime(serializers.DateTimeField):
    """A moment as GitLab writes it: UTC, with milliseconds (2024-01-02T03:04:05.678Z)."""

    def to_representation(self, value: datetime) -> str:
        return gitlab_time(value)


class ClosedObject(OpenApiSerializerExtension):
    """For a serializer whose endpoint refuses properties it does not describe (Google's
    `Unknown parameter`): its component says `additionalProperties: false`. Subclass with
    `target_class` set to the serializer."""

    def map_serializer(self, auto_schema: AutoSchema, direction: Any) -> dict[str, Any]:
        schema = auto_schema._map_serializer(self.target, direction, bypass_extensions=True)
        return {**schema, "additionalProperties": False}


def request_serializer(
    name: str,
    schema: Schema,
    help_texts: Mapping[str, str] | None = None,
    described: Mapping[str, serializers.Field] | None = None,
) -> type[serializers.Serializer]:
    """A serializer describing the body that `params.parse(…, schema)` accepts, so the limits
    are declared once. Nested objects become components named `<name><Field>`; `help_texts`
    describes top-level fields; `described` replaces the description of top-level fields the
    endpoint checks further than their `Param` says."""
    fields = {
        key: _field(f"{name}{key.title().replace('_', '')}", param, (help_texts or {}).get(key))
        for key, param in schema.items()
    } | dict(described or {})
    # Built as `class <name>(Serializer)` would be; drf-spectacular names the component <name>.
    return cast(type[serializers.Serializer], type(name, (serializers.Serializer,), fields))


def event_stream(name: str, events: list[str], data: str) -> type[serializers.Serializer]:
    """A `text/event-stream` body; before Open API 3.2 its schema describes each event. (Built
    as `request_serializer` builds, as a field named `data` would hide `Serializer.data`.)"""
    fields = {
        "event": serializers.ChoiceField(choices=events),
        "data": serializers.CharField(help_text=data),
    }
    return cast(type[serializers.Serializer], type(name, (serializers.Serializer,), fields))


def _field(name: str, param: Param, help_text: str | None = None) -> serializers.Field:
    # null is as absent (Grape's validators skip nil): the default, or "is missing".
    options: dict[str, Any] = {"help_text": help_text, "allow_null": not param.required}
    options |= {"required": param.required} if param.default is None else {"default": param.default}
    # A blank string is never among the choices, whatever allow_blank says.
    if param.choices:
        return serializers.ChoiceField(choices=list(param.choices), **options)
    if param.kind is str:
        return Text(
            allow_blank=param.allow_blank,
            **_limits(min_length=None if param.allow_blank else 1, max_length=param.max_length),
            **options,
        )
    if param.kind is bool:
        return serializers.BooleanField(**options)
    if param.kind is int:
        return serializers.IntegerField(
            min_value=INT_MIN if param.minimum is None else param.minimum,
            max_value=INT_MAX if param.maximum is None else param.maximum,
            **options,
        )
    if param.kind is dict:
        if param.fields is None:
            return serializers.DictField(**options)
        return request_serializer(name, param.fields)(**options)
    if param.kind is list:
        return serializers.ListField(
            child=_field(name, param.items) if param.items else serializers.JSONField(),
            **_limits(min_length=None if param.allow_blank else 1, max_length=param.max_length),
            **options,
        )
    if isinstance(param.kind, tuple) and set(param.kind) == {str, int}:
        return StringOrInteger(**options)
    raise TypeError(f"{name}: no OpenAPI description for {param.kind}")


def _limits(**limits: int | None) -> dict[str, Any]:
    # DRF takes None as "no limit", but its stubs type these arguments as int.
    return {key: value for key, value in limits.items() if value is not None}


class GitLabMessage(serializers.Serializer):
    message = serializers.CharField(help_text='e.g. "401 Unauthorized", "404 Not Found"')


class GitLabError(serializers.Serializer):
    error = serializers.CharField(
        help_text='e.g. "current_file is missing, context is empty": every problem at once'
    )


class InvalidToken(serializers.Serializer):
    error = serializers.ChoiceField(choices=["invalid_token"])
    error_description = serializers.CharField()


class InsufficientScope(serializers.Serializer):
    error = serializers.ChoiceField(choices=["insufficient_scope"])
    error_description = serializers.CharField()
    scope = serializers.CharField(help_text='The scopes that would do, e.g. "ai_features api"')


class RateLimited(serializers.Serializer):
    message = serializers.DictField(child=serializers.CharField(), help_text='{"error": "…"}')


def _either(name: str, *bodies: type[serializers.Serializer]) -> PolymorphicProxySerializer:
    return PolymorphicProxySerializer(
        component_name=name, serializers=list(bodies), resource_type_field_name=None
    )


UNAUTHORIZED = _either("Unauthorized", GitLabMessage, InvalidToken)
FORBIDDEN = _either("Forbidden", GitLabMessage, InsufficientScope)

ERRORS = {
    400: OpenApiResponse(
        GitLabError, "A parameter is missing or invalid, or the body is not JSON."
    ),
    401: OpenApiResponse(
        UNAUTHORIZED,
        "No credential or an unknown one (`401 Unauthorized`); an expired or revoked token"
        " (`invalid_token`, with `WWW-Authenticate`).",
    ),
    403: OpenApiResponse(
        FORBIDDEN,
        "The token lacks the scope the endpoint needs (`insufficient_scope`), or the account"
        " is blocked.",
    ),
    404: OpenApiResponse(GitLabMessage, "Not found, or not visible to this user."),
    413: OpenApiResponse(GitLabMessage, "The body is larger than the service accepts."),
    429: OpenApiResponse(
        RateLimited,
        "Too many requests: the endpoint's own limit, or too many unknown credentials from this"
        " address (any endpoint); see `Retry-After`.",
    ),
    503: OpenApiResponse(GitLabMessage, "The model provider failed."),
    504: OpenApiResponse(GitLabMessage, "The model provider timed out."),
}

# Code suggestions answer a user who may not use them with 401, where chat answers 404.
CODE_SUGGESTIONS_401 = OpenApiResponse(
    UNAUTHORIZED,
    "No credential, an unknown one, or a user who may not use code suggestions"
    " (`401 Unauthorized`); an expired or revoked token (`invalid_token`, with"
    " `WWW-Authenticate`).",
)

ERROR_HEADERS = [
    OpenApiParameter("WWW-Authenticate", OpenApiTypes.STR, OpenApiParameter.HEADER, response=[401]),
    OpenApiParameter(
        "Retry-After",
        OpenApiTypes.INT,
        OpenApiParameter.HEADER,
        response=[429],
        description="Seconds until the rate-limit window resets.",
    ),
]


def api_schema(
    *,
    responses: dict[Any, Any],
    errors: tuple[int, ...] = (),
    request: Any = None,
    parameters: list[OpenApiParameter] | None = None,
    **kwargs: Any,
) -> Any:
    """`extend_schema` plus GitLab's error bodies for `errors` and for 429, which any endpoint
    may answer to an address that presented too many unknown credentials (the endpoint's own
    `responses` win); request bodies are JSON, as every client sends them."""
    described = {**{status: ERRORS[status] for status in (*errors, 429)}, **responses}
    return extend_schema(
        request={"application/json": request} if request is not None else None,
        responses=dict(sorted(described.items(), key=_status)),
        parameters=[*(parameters or []), *ERROR_HEADERS],
        **kwargs,
    )


def _status(item: tuple[Any, Any]) -> int:
    key = item[0]
    return key[0] if isinstance(key, tuple) else key
