"""A JSON body whose string escapes name half a UTF-16 surrogate pair (`"\\ud800"`) holds no
text: no cache key, database row or model request can be built from it. Every endpoint that
reads a JSON body refuses it as a malformed body, in its own error shape, wherever it is."""

import json

import pytest

from completions.models import SuggestionEvent
from tests.conftest import make_token

CHAT = "/api/v4/chat/completions"
COMPLETIONS = "/api/v4/code_suggestions/completions"
ENABLED = "/api/v4/code_suggestions/enabled"
TRACK_EVENT = "/api/v4/usage_data/track_event"
GRAPHQL = "/api/graphql"
VERTEX = "/v1/projects/my-project/locations/us-central1/publishers/google/models/code-gecko:predict"
GET_PROJECT = "query GetProject($path: ID!) { project(fullPath: $path) { name } }"
A_FILE = {"file_name": "a.py", "content_above_cursor": "def f():\n    "}
A_CONTEXT_FILE = {"category": "file", "id": "a.py", "content": "b"}
SHOWN = "code_suggestion_shown_in_ide"

pytestmark = pytest.mark.django_db


@pytest.fixture
def token(world) -> str:
    return make_token(world.bob)


def malformed(escape: str) -> dict[str, str]:
    return {"error": f"JSON parse error - {escape} is half a surrogate pair, not a character"}


@pytest.mark.parametrize(
    ("path", "body"),
    [
        (COMPLETIONS, {"project_path": "\ud800", "current_file": A_FILE}),
        (COMPLETIONS, {"current_file": {**A_FILE, "content_below_cursor": "x = '\ud800'"}}),
        (COMPLETIONS, {"current_file": A_FILE, "telemetry": [{"\ud800": 1}]}),
        (ENABLED, {"project_path": "acme/\ud800"}),
        (CHAT, {"content": "\ud800 hi"}),
        (CHAT, {"content": "hi", "additional_context": [{**A_CONTEXT_FILE, "id": "\ud800"}]}),
        (TRACK_EVENT, {"event": SHOWN, "additional_properties": {"extra": "\ud800"}}),
        (GRAPHQL, {"query": GET_PROJECT, "variables": {"path": "acme/\ud800"}}),
    ],
)
def test_a_lone_surrogate_anywhere_in_a_body_is_a_malformed_body(api, token, path, body):
    response = api.post(path, body, token=token)

    assert response.status_code == 400
    assert response.json() == malformed("\\ud800")


@pytest.mark.parametrize("code_point", [0xDBFF, 0xDC00, 0xDFFF])
def test_either_half_of_a_pair_alone_is_refused(api, token, code_point):
    response = api.post(CHAT, {"content": f"hi {chr(code_point)}"}, token=token)

    assert response.status_code == 400
    assert response.json() == malformed(f"\\u{code_point:04x}")


def test_a_lone_surrogate_in_a_utf7_body_is_refused_too(client, token):
    # No escape: the character itself, which the test client encodes in UTF-7 as "+2AA-".
    body = f'{{"event": "{SHOWN}", "additional_properties": {{"language": "\ud800"}}}}'

    response = client.post(
        TRACK_EVENT, body, content_type="application/json; charset=utf-7", HTTP_PRIVATE_TOKEN=token
    )

    assert response.json() == malformed("\\ud800")
    assert not SuggestionEvent.objects.exists()


def test_the_vertex_endpoint_refuses_a_lone_surrogate_with_googles_error(api, token):
    body = {"instances": [{"prefix": "def f():\ud800"}]}

    response = api.post(VERTEX, body, token=token)

    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["code"], error["status"]) == (400, "INVALID_ARGUMENT")
    assert "half a surrogate pair" in error["message"]


def test_graphql_refuses_variables_sent_as_json_holding_a_lone_surrogate(api, token):
    variables = json.dumps({"path": "acme/\ud800"})

    response = api.post(GRAPHQL, {"query": GET_PROJECT, "variables": variables}, token=token)

    assert response.json() == {"errors": [{"message": "Variables are invalid JSON"}]}


def test_a_surrogate_pair_is_the_character_it_encodes(api, token):
    body = json.dumps({"project_path": "acme/\U0001f600"})

    response = api.post(ENABLED, body, token=token)

    assert "\\ud83d\\ude00" in body
    assert response.status_code == 404
