"""Parameters at the edges of what the API reads (docs/api.md#parameters), through completions,
chat and telemetry: integers up to the bigint's edges, as text or as numbers, and no further;
strings and arrays as long as their limits; a number too large for a float quoted, cut short, in
the 400 that refuses it; values coerced as Grape coerces them; keys no schema names ignored
unless they hold a NUL; and a NUL in a query string refused on any path."""

import pytest

from completions.models import SuggestionEvent
from tests.chat.conftest import chat_model  # noqa: F401  (a fixture used by name)
from tests.completions.conftest import COMPLETIONS, completion_body, upstream  # noqa: F401
from tests.conftest import make_token
from tests.fake_servers import openai_server  # noqa: F401  (the model server of both)

pytestmark = pytest.mark.django_db

INT_MAX = 2**63 - 1
INT_MIN = -(2**63)


@pytest.fixture
def token(world) -> str:
    return make_token(world.bob)


# Read as a number, then out of choices_count's range (1 to 4): "does not have a valid value".
@pytest.mark.parametrize(
    "text", [str(INT_MAX), str(INT_MIN), "1000000000000000000", f"+{INT_MAX}", f" {INT_MIN} "]
)
def test_an_integer_as_text_up_to_the_bigints_edges_is_read_as_a_number(api, token, text):
    response = api.post(COMPLETIONS, completion_body(choices_count=text), token=token)

    assert response.status_code == 400
    assert response.json() == {"error": "choices_count does not have a valid value"}


# Not a number the API can hold: "is invalid", as for text that is no number at all.
@pytest.mark.parametrize("text", [str(INT_MAX + 1), str(INT_MIN - 1), "1" + "0" * 19])
def test_an_integer_as_text_past_the_bigints_edges_is_invalid(api, token, text):
    response = api.post(COMPLETIONS, completion_body(choices_count=text), token=token)

    assert response.status_code == 400
    assert response.json() == {"error": "choices_count is invalid"}


def test_a_number_too_large_for_a_float_is_quoted_by_its_first_twenty_characters(api, token):
    number = "1" * 400 + ".5"

    response = api.post(COMPLETIONS, f'{{"choices_count": {number}}}', token=token)

    assert response.status_code == 400
    assert response.json() == {"error": f"JSON parse error - Number out of range: '{'1' * 20}'"}


def test_a_batch_of_events_as_long_as_the_limit_is_taken_whole(api, token):
    event = {"event": "code_suggestion_shown_in_ide"}

    taken = api.post("/api/v4/usage_data/track_events", {"events": [event] * 50}, token=token)
    refused = api.post("/api/v4/usage_data/track_events", {"events": [event] * 51}, token=token)

    assert taken.status_code == 200
    assert refused.json() == {"error": "events must contain at most 50 items"}


@pytest.mark.parametrize(
    ("number", "error"),
    [
        (INT_MAX, "choices_count does not have a valid value"),
        (INT_MIN, "choices_count does not have a valid value"),
        (INT_MAX + 1, "choices_count is invalid"),
        (INT_MIN - 1, "choices_count is invalid"),
    ],
)
def test_an_integer_as_a_json_number_is_read_up_to_the_bigints_edges(api, token, number, error):
    response = api.post(COMPLETIONS, completion_body(choices_count=number), token=token)

    assert response.json() == {"error": error}


@pytest.mark.parametrize(
    ("length", "error"),
    [
        (255, "choices_count is invalid"),
        (256, "current_file[file_name] must be less than 255 characters, choices_count is invalid"),
    ],
)
def test_a_string_may_be_as_long_as_its_limit(api, token, length, error):
    # With a parameter that is wrong anyway: every problem is told, and no model is asked.
    current_file = {**completion_body()["current_file"], "file_name": "a" * (length - 3) + ".py"}

    response = api.post(
        COMPLETIONS, {"current_file": current_file, "choices_count": "x"}, token=token
    )

    assert response.json() == {"error": error}


def test_a_key_no_schema_names_is_ignored_unless_it_holds_a_nul(api, token):
    body = {**completion_body(), "unknown": 1, "un\x00known": 1, "choices_count": "x"}

    response = api.post(COMPLETIONS, body, token=token)

    assert response.json() == {"error": "un\x00known is invalid, choices_count is invalid"}


def test_a_number_for_a_string_is_read_as_its_text(api, token, world):
    event = {"event": "code_suggestion_shown_in_ide", "additional_properties": {"language": 3}}

    response = api.post("/api/v4/usage_data/track_event", event, token=token)

    assert response.status_code == 200
    assert SuggestionEvent.objects.get(user=world.bob).language == "3"


@pytest.mark.usefixtures("upstream")
@pytest.mark.parametrize(
    ("stream", "answer"), [("true", "text/event-stream"), ("false", "application/json")]
)
def test_a_boolean_may_be_written_as_text(api, token, stream, answer):
    response = api.post(COMPLETIONS, completion_body(stream=stream), token=token)

    assert response.status_code == 200
    assert response["Content-Type"].startswith(answer)
    if response.streaming:
        b"".join(response.streaming_content)


@pytest.mark.usefixtures("chat_model")
def test_an_id_given_as_another_number_is_read_as_its_text(api, token):
    question = {"content": "What is this?", "resource_type": "project", "resource_id": 1.5}

    response = api.post("/api/v4/chat/completions", question, token=token)

    # Read, and looked up as "1.5", which names no project: GitLab's 404 for a missing record.
    assert response.status_code == 404
    assert response.json() == {"message": "404 Not found"}


@pytest.mark.parametrize("path", ["/api/v4/user", "/admin/login/"])
def test_a_query_string_holding_a_nul_is_a_400_on_any_path(api, token, path):
    response = api.get(f"{path}?search=a%00b", token=token)

    assert response.status_code == 400
    assert response.json() == {"error": "search is invalid"}
