"""GET /api/schema: the OpenAPI description of every endpoint, built without a warning."""

import pytest
import yaml
from django.conf import settings
from django.core.management import call_command
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.generators import SchemaGenerator

API_PATHS = {
    "/api/v4/code_suggestions/tokens",
    "/api/v4/code_suggestions/enabled",
    "/api/v4/code_suggestions/completions",
    "/api/v4/code_suggestions/direct_access",
    "/api/v4/code_suggestions/v2/completions",
    "/api/v4/user",
    "/api/v4/version",
    "/api/v4/metadata",
    "/api/v4/personal_access_tokens/self",
    "/api/v4/projects/{project}/security_scans/sast/scan",
    "/api/v4/usage_data/track_event",
    "/api/v4/usage_data/track_events",
    "/api/v4/chat/completions",
    "/api/v4/chat/subscriptions/{subscription_id}",
    "/v1/projects/{project}/locations/{location}/publishers/google/models/{model}:predict",
    "/v1/publishers/google/models/{model}",
}


@pytest.fixture
def schema() -> dict:
    return SchemaGenerator().get_schema(request=None, public=True)


def test_it_builds_without_errors_or_warnings_and_validates(tmp_path):
    # Warnings counted while building the schema for another test must not fail this one.
    GENERATOR_STATS.reset()
    call_command("spectacular", "--fail-on-warn", "--validate", "--file", tmp_path / "api.yml")


def test_it_lists_every_path_of_the_api(schema):
    assert set(schema["paths"]) == API_PATHS


def test_every_operation_has_a_request_or_response_body_and_security(schema):
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            assert operation["security"], f"{method} {path}"
            assert "401" in operation["responses"], f"{method} {path}"
            if method == "post":
                assert "requestBody" in operation or path.endswith(("/tokens", "/direct_access"))


def test_only_code_suggestion_endpoints_accept_the_short_lived_token(schema):
    accepting = {
        path
        for path, operations in schema["paths"].items()
        for operation in operations.values()
        if {"codeSuggestionsToken": []} in operation["security"]
    }
    assert accepting == {
        "/api/v4/code_suggestions/completions",
        "/api/v4/code_suggestions/direct_access",
        "/v1/projects/{project}/locations/{location}/publishers/google/models/{model}:predict",
        "/v1/publishers/google/models/{model}",
    }


def test_it_describes_gitlabs_three_ways_to_present_a_token_and_the_session(schema):
    def where(name: str) -> tuple[str, str]:
        scheme = schema["components"]["securitySchemes"][name]
        return scheme.get("in", scheme["type"]), scheme.get("name", scheme.get("scheme"))

    assert where("privateTokenHeader") == ("header", "PRIVATE-TOKEN")
    assert where("privateTokenQuery") == ("query", "private_token")
    assert where("bearerToken") == ("http", "bearer")
    assert where("codeSuggestionsToken") == ("http", "bearer")
    assert where("sessionCookie") == ("cookie", "sessionid")


def test_streaming_endpoints_document_their_event_streams(schema):
    completions = schema["paths"]["/api/v4/code_suggestions/completions"]["post"]
    assert set(completions["responses"]["200"]["content"]) == {
        "application/json",
        "text/event-stream",
    }
    subscription = schema["paths"]["/api/v4/chat/subscriptions/{subscription_id}"]["get"]
    assert set(subscription["responses"]["200"]["content"]) == {"text/event-stream"}
    # Before Open API 3.2 an event stream's schema describes each event.
    events = schema["components"]["schemas"]["ChatStreamEvent"]
    assert set(events["properties"]) == {"event", "data"}


def test_every_operation_may_answer_429_to_an_address_that_guessed_credentials(schema):
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            assert "429" in operation["responses"], f"{method} {path}"


def test_chat_answers_201_with_a_bare_string(schema):
    chat = schema["paths"]["/api/v4/chat/completions"]["post"]
    assert chat["responses"]["201"]["content"]["application/json"]["schema"] == {"type": "string"}


def test_get_api_schema_answers_200_without_a_credential(client):
    response = client.get("/api/schema")
    assert response.status_code == 200
    assert set(yaml.safe_load(response.content)["paths"]) == API_PATHS


def test_request_bodies_state_the_limits_the_views_enforce(schema):
    # Derived from the views' Param schemas: a limit changed there changes here.
    components = schema["components"]["schemas"]
    current_file = components["CompletionRequestCurrentFile"]["properties"]
    assert text(current_file["file_name"])["maxLength"] == 255
    assert text(current_file["content_above_cursor"])["maxLength"] == 400_000
    completion = components["CompletionRequest"]
    assert completion["required"] == ["current_file"]
    assert completion["properties"]["choices_count"] == {
        "type": "integer",
        "maximum": 4,
        "minimum": 1,
        "default": 1,
        "nullable": True,
    }
    assert completion["properties"]["context"]["minItems"] == 1
    chat = components["ChatRequest"]["properties"]
    assert text(chat["content"]) == {
        "type": "string",
        "minLength": 1,
        "maxLength": settings.CHAT_MAX_CONTENT_LENGTH,
        "not": {"pattern": "\\u0000"},
    }
    assert components["VertexParameters"]["properties"]["candidateCount"]["maximum"] == 4
    assert components["VertexParameters"]["additionalProperties"] is False  # Google's 400


def test_strings_refuse_a_nul_and_integers_are_int64(schema):
    chat = schema["components"]["schemas"]["ChatRequest"]["properties"]
    assert text(chat["content"])["not"] == {"pattern": "\\u0000"}
    assert chat["project_id"]["format"] == "int64"
    assert chat["project_id"]["maximum"] == 2**63 - 1


def test_a_string_parameter_also_takes_a_number_as_grape_coerces_one(schema):
    components = schema["components"]["schemas"]
    assert components["ChatRequest"]["properties"]["content"]["anyOf"][1] == {"type": "number"}
    name = components["CompletionRequestContext"]["properties"]["name"]
    assert name["anyOf"][1] == {"type": "number"}
    # An id is text or a number alike.
    resource_id = components["ChatRequest"]["properties"]["resource_id"]
    assert resource_id["anyOf"] == [
        {"type": "string", "not": {"pattern": "\\u0000"}},
        {"type": "number"},
    ]


def test_an_optional_parameter_may_be_null_as_if_absent_and_a_required_one_may_not(schema):
    components = schema["components"]["schemas"]
    completion = components["CompletionRequest"]["properties"]
    assert completion["intent"]["nullable"] is True
    assert completion["stream"]["nullable"] is True
    assert "nullable" not in completion["current_file"]
    assert "nullable" not in components["ChatRequest"]["properties"]["content"]
    tracked = components["TrackEventRequest"]["properties"]
    assert tracked["additional_properties"]["nullable"] is True
    assert components["TrackedProperties"]["properties"]["timestamp"]["nullable"] is True


def text(parameter: dict) -> dict:
    """The string a string parameter describes, beside the number it also takes."""
    string, number = parameter["anyOf"]
    assert number == {"type": "number"}
    return string
