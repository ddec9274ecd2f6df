"""Parameters at the edges of what the API reads (docs/api.md#parameters), through completions
and telemetry: an integer written as text is read up to the bigint's edges and no further, a
number too large for a float is quoted, cut short, in the 400 that refuses it, and an array may
be as long as its limit."""

import pytest

from tests.completions.conftest import COMPLETIONS, completion_body
from tests.conftest import make_token

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
