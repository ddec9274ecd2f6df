"""A JSON body is read in the character set its Content-Type names, UTF-8 when it names none
(docs/api.md#parameters); bytes that are not text in that set are a malformed body, a 400 that
says why. A Content-Length that is no number declares no body, let alone a large one."""

import pytest

from completions.models import SuggestionEvent
from tests.conftest import make_token

pytestmark = pytest.mark.django_db

TRACK_EVENT = "/api/v4/usage_data/track_event"


def post(client, token: str, body: str | bytes, content_type: str):
    """`body` as it is sent: text is encoded by the test client in the charset named."""
    return client.post(TRACK_EVENT, body, content_type=content_type, HTTP_PRIVATE_TOKEN=token)


def event(language: str) -> str:
    return (
        '{"event": "code_suggestion_shown_in_ide", '
        f'"additional_properties": {{"language": "{language}"}}}}'
    )


@pytest.mark.parametrize("charset", ["latin-1", "utf-16"])
def test_a_body_is_read_in_the_charset_it_names(client, world, charset):
    content_type = f"application/json; charset={charset}"

    response = post(client, make_token(world.bob), event("Pokémon"), content_type)

    assert response.status_code == 200
    assert SuggestionEvent.objects.get().language == "Pokémon"


def test_a_body_that_is_not_text_in_its_charset_is_a_400_that_says_why(client, world):
    body = event("Pokémon").encode("latin-1")  # "é" is no UTF-8

    response = post(client, make_token(world.bob), body, "application/json")

    assert response.status_code == 400
    assert response.json() == {
        "error": "JSON parse error - 'utf-8' codec can't decode byte 0xe9 in position 84: "
        "invalid continuation byte"
    }
    assert not SuggestionEvent.objects.exists()


def test_a_content_length_that_is_no_number_is_not_taken_for_a_large_body(client, world):
    response = client.get(
        "/api/v4/user", CONTENT_LENGTH="many", HTTP_PRIVATE_TOKEN=make_token(world.bob)
    )

    assert response.status_code == 200
