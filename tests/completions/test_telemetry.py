"""POST /api/v4/usage_data/track_event and /track_events: what editors did with suggestions."""

import datetime

import pytest

from completions.models import SuggestionEvent
from tests.conftest import make_token

TRACK_EVENT = "/api/v4/usage_data/track_event"
TRACK_EVENTS = "/api/v4/usage_data/track_events"
EVENTS = (
    "code_suggestion_shown_in_ide",
    "code_suggestion_accepted_in_ide",
    "code_suggestion_rejected_in_ide",
)


def suggestion_event(event: str = "code_suggestion_shown_in_ide", **properties) -> dict:
    """As the language server sends it."""
    return {
        "event": event,
        "additional_properties": {
            "unique_tracking_id": "6ad1f7c4-39a3-4e0a-9d0f-2a8f4c6b1e11",
            "timestamp": "2025-03-04T05:06:07.890Z",
            "language": "python",
            "suggestion_size": 3,
            **properties,
        },
    }


@pytest.mark.parametrize("event", EVENTS)
def test_it_stores_each_code_suggestion_event_for_its_user(api, world, event):
    response = api.post(TRACK_EVENT, suggestion_event(event), token=make_token(world.bob))

    assert response.status_code == 200
    assert response.json() == {}
    stored = SuggestionEvent.objects.get()
    assert (stored.user, stored.event) == (world.bob, event)
    assert stored.unique_tracking_id == "6ad1f7c4-39a3-4e0a-9d0f-2a8f4c6b1e11"
    assert stored.occurred_at == datetime.datetime(2025, 3, 4, 5, 6, 7, 890000, tzinfo=datetime.UTC)
    assert (stored.language, stored.suggestion_size) == ("python", 3)


def test_it_keeps_the_other_properties_as_sent(api, world):
    body = {**suggestion_event(branch_name="main", is_streaming=False), "project_id": 7}

    api.post(TRACK_EVENT, body, token=make_token(world.bob))

    stored = SuggestionEvent.objects.get()
    assert stored.additional_properties == {"branch_name": "main", "is_streaming": False}
    assert stored.project_id == 7


def test_an_event_with_no_properties_is_stored(api, world):
    response = api.post(
        TRACK_EVENT, {"event": "code_suggestion_rejected_in_ide"}, token=make_token(world.bob)
    )

    assert response.status_code == 200
    assert SuggestionEvent.objects.get().unique_tracking_id == ""


def test_it_accepts_an_ai_features_token(api, world):
    token = make_token(world.bob, scopes=("ai_features",))

    assert api.post(TRACK_EVENT, suggestion_event(), token=token).status_code == 200


def test_a_batch_is_stored_per_user(api, world):
    events = [suggestion_event(event) for event in EVENTS]

    response = api.post(TRACK_EVENTS, {"events": events}, token=make_token(world.alice))
    api.post(TRACK_EVENT, suggestion_event(), token=make_token(world.bob))

    assert response.status_code == 200
    assert response.json() == {}
    alices = SuggestionEvent.objects.filter(user=world.alice)
    assert sorted(alices.values_list("event", flat=True)) == sorted(EVENTS)
    assert SuggestionEvent.objects.filter(user=world.bob).count() == 1


BAD_EVENTS = {
    "an unknown event": (
        {"event": "i_quickactions_page"},
        "event does not have a valid value",
    ),
    "no event": ({"additional_properties": {}}, "event is missing"),
    "properties that are not an object": (
        {"event": EVENTS[0], "additional_properties": ["python"]},
        "additional_properties is invalid",
    ),
    "a size that is not a number": (
        suggestion_event(suggestion_size="three"),
        "additional_properties[suggestion_size] is invalid",
    ),
    "a negative size": (
        suggestion_event(suggestion_size=-1),
        "additional_properties[suggestion_size] does not have a valid value",
    ),
    "a timestamp that is no time": (
        suggestion_event(timestamp="yesterday"),
        "additional_properties[timestamp] is invalid",
    ),
    "a date that does not exist": (
        suggestion_event(timestamp="2025-02-30T00:00:00Z"),
        "additional_properties[timestamp] is invalid",
    ),
    "a time that is no time in UTC": (
        suggestion_event(timestamp="0001-01-01T00:30:00+01:00"),
        "additional_properties[timestamp] is invalid",
    ),
    "a tracking id that is too long": (
        suggestion_event(unique_tracking_id="x" * 129),
        "additional_properties[unique_tracking_id] must be less than 128 characters",
    ),
    "oversized properties": (
        suggestion_event(notes="x" * 5000),
        "additional_properties must be less than 4096 bytes",
    ),
}


def test_a_time_with_any_offset_is_stored_in_utc(api, world):
    # Beyond PostgreSQL's ±15:59, which once made this a 500 (found by schemathesis).
    body = suggestion_event(timestamp="2025-03-04T20:06:07+18:05")

    response = api.post(TRACK_EVENT, body, token=make_token(world.bob))

    assert response.status_code == 200
    stored = SuggestionEvent.objects.get().occurred_at
    assert stored == datetime.datetime(2025, 3, 4, 2, 1, 7, tzinfo=datetime.UTC)


@pytest.mark.parametrize("bad", BAD_EVENTS)
def test_a_bad_event_is_a_400_and_stores_nothing(api, world, bad):
    body, error = BAD_EVENTS[bad]

    response = api.post(TRACK_EVENT, body, token=make_token(world.bob))

    assert response.status_code == 400
    assert response.json() == {"error": error}
    assert not SuggestionEvent.objects.exists()


@pytest.mark.parametrize("bad", BAD_EVENTS)
def test_a_batch_with_one_bad_event_stores_nothing(api, world, bad):
    body, error = BAD_EVENTS[bad]

    response = api.post(
        TRACK_EVENTS, {"events": [suggestion_event(), body]}, token=make_token(world.bob)
    )

    assert response.status_code == 400
    assert response.json() == {"error": inside_the_batch(error, index=1)}
    assert not SuggestionEvent.objects.exists()


def inside_the_batch(error: str, *, index: int) -> str:
    """The error for the event at `index` of a batch: its parameters named as GitLab nests them."""
    name, message = error.split(" ", 1)
    first, bracket, rest = name.partition("[")
    return f"events[{index}][{first}]{bracket}{rest} {message}"


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({}, "events is missing"),
        ({"events": []}, "events is empty"),
        ({"events": "code_suggestion_shown_in_ide"}, "events is invalid"),
        ({"events": ["code_suggestion_shown_in_ide"]}, "events[0] is invalid"),
        ({"events": [suggestion_event()] * 51}, "events must contain at most 50 items"),
    ],
)
def test_a_batch_that_is_not_a_list_of_events_is_a_400(api, world, body, error):
    response = api.post(TRACK_EVENTS, body, token=make_token(world.bob))

    assert response.status_code == 400
    assert response.json() == {"error": error}
    assert not SuggestionEvent.objects.exists()


@pytest.mark.parametrize("path", [TRACK_EVENT, TRACK_EVENTS])
def test_a_body_that_is_not_json_is_a_400(api, world, path):
    response = api.post(path, '{"event": ', token=make_token(world.bob))

    assert response.status_code == 400
    assert response.json()["error"].startswith("JSON parse error")
    assert not SuggestionEvent.objects.exists()


@pytest.mark.parametrize("path", [TRACK_EVENT, TRACK_EVENTS])
def test_anonymous_callers_get_401(api, world, path):
    response = api.post(path, suggestion_event())

    assert response.status_code == 401
    assert response.json() == {"message": "401 Unauthorized"}
    assert not SuggestionEvent.objects.exists()


def test_a_read_api_token_is_not_enough(api, world):
    response = api.post(TRACK_EVENT, suggestion_event(), token=make_token(world.bob, ("read_api",)))

    assert response.status_code == 403
    assert not SuggestionEvent.objects.exists()


def test_the_short_lived_token_does_not_open_it(api, world):
    jwt = api.post("/api/v4/code_suggestions/tokens", token=make_token(world.bob)).json()
    bearer = f"Bearer {jwt['access_token']}"

    response = api.post(TRACK_EVENT, suggestion_event(), HTTP_AUTHORIZATION=bearer)

    assert response.status_code == 401
