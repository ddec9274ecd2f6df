"""What codesuggest/api/schema.py makes of a view's parameters and answers: the OpenAPI
description states each limit `params.parse` enforces (the apps' views are described this way
when they are imported; here a small view is described while the test runs)."""

import pytest
from django.urls import path
from drf_spectacular.generators import SchemaGenerator
from rest_framework.response import Response

from codesuggest.api.params import INT_MAX, INT_MIN, Param
from codesuggest.api.schema import api_schema, event_stream, request_serializer
from codesuggest.api.views import ApiView

# A string as the views take it: no NUL, and a number read as its text.
TEXT = {"type": "string", "not": {"pattern": "\\u0000"}}
NUMBER = {"type": "number"}


# Built anew for each test: mutmut credits a function to the test that called it, and tests
# its mutants with that test only.
@pytest.fixture
def described() -> dict:
    body = request_serializer(
        "Probe",
        {
            "name": Param(str, required=True, allow_blank=False, max_length=5),
            "note": Param(str),
            "count": Param(int, minimum=1, maximum=9, default=3),
            "big": Param(int),
            "mode": Param(str, choices=("a", "b")),
            "on": Param(bool),
            "tags": Param(list, items=Param(str), max_length=2, allow_blank=False),
            "extra": Param(list),
            "meta": Param(dict),
            "current_file": Param(dict, fields={"file_name": Param(str, required=True)}),
            "id": Param((str, int)),
        },
        help_texts={"name": "Who asks."},
    )
    events = event_stream("ProbeEvents", ["chunk", "done"], "JSON: `{content}`.")

    class Probe(ApiView):
        @api_schema(request=body, responses={(200, "text/event-stream"): events}, errors=(401,))
        def post(self, request):
            return Response()

    return SchemaGenerator(patterns=[path("probe", Probe.as_view())]).get_schema(public=True)


def properties(described: dict, component: str) -> dict:
    return described["components"]["schemas"][component]["properties"]


def test_strings_state_blankness_length_and_choices(described):
    probe = properties(described, "Probe")
    assert probe["name"] == {
        "description": "Who asks.",
        "anyOf": [{**TEXT, "minLength": 1, "maxLength": 5}, NUMBER],
    }
    assert probe["note"] == {"nullable": True, "anyOf": [TEXT, NUMBER]}
    assert probe["mode"]["oneOf"][0] == {"$ref": "#/components/schemas/ModeEnum"}
    assert described["components"]["schemas"]["ModeEnum"]["enum"] == ["a", "b"]


def test_integers_state_their_range_default_and_int64(described):
    probe = properties(described, "Probe")
    assert probe["count"] == {
        "type": "integer",
        "minimum": 1,
        "maximum": 9,
        "nullable": True,
        "default": 3,
    }
    assert probe["big"] == {
        "type": "integer",
        "minimum": INT_MIN,
        "maximum": INT_MAX,
        "format": "int64",
        "nullable": True,
    }
    assert probe["id"] == {"anyOf": [TEXT, NUMBER], "nullable": True}


def test_booleans_arrays_and_objects_are_described_with_their_limits(described):
    probe = properties(described, "Probe")
    assert probe["on"] == {"type": "boolean", "nullable": True}
    assert probe["tags"] == {
        "type": "array",
        "items": {"nullable": True, "anyOf": [TEXT, NUMBER]},
        "nullable": True,
        "minItems": 1,
        "maxItems": 2,
    }
    assert probe["extra"] == {"type": "array", "items": {}, "nullable": True}
    assert probe["meta"] == {"type": "object", "additionalProperties": {}, "nullable": True}


def test_a_nested_object_is_a_component_named_after_its_field(described):
    probe = properties(described, "Probe")
    assert probe["current_file"]["allOf"] == [{"$ref": "#/components/schemas/ProbeCurrentFile"}]
    current_file = described["components"]["schemas"]["ProbeCurrentFile"]
    assert current_file["required"] == ["file_name"]
    assert described["components"]["schemas"]["Probe"]["required"] == ["name"]


def test_answers_come_in_status_order_with_gitlabs_error_bodies(described):
    post = described["paths"]["/probe"]["post"]
    assert list(post["responses"]) == ["200", "401", "429"]
    assert post["requestBody"]["content"] == {
        "application/json": {"schema": {"$ref": "#/components/schemas/Probe"}}
    }
    stream = post["responses"]["200"]["content"]["text/event-stream"]["schema"]
    assert stream == {"$ref": "#/components/schemas/ProbeEvents"}
    assert post["responses"]["401"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Unauthorized"
    }
    assert set(post["responses"]["401"]["headers"]) == {"WWW-Authenticate"}
    assert set(post["responses"]["429"]["headers"]) == {"Retry-After"}


def test_an_event_stream_names_its_events_and_describes_their_data(described):
    events = properties(described, "ProbeEvents")
    assert events["data"] == {"type": "string", "description": "JSON: `{content}`."}
    assert described["components"]["schemas"]["EventEnum"]["enum"] == ["chunk", "done"]
