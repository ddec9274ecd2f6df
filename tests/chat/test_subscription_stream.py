"""GET /api/v4/chat/subscriptions/<id> when no answer comes: the reader is kept alive, then told
why the stream ends, whether nothing was published in time or the relay cannot be reached."""

import time

import pytest

from tests.chat.conftest import read_events
from tests.services import free_port

pytestmark = pytest.mark.django_db(transaction=True)

TIMEOUT = 0.3


def subscribe(api, token: str, subscription_id: str = "sub-quiet"):
    return api.get(f"/api/v4/chat/subscriptions/{subscription_id}", token=token)


def test_a_reader_waits_twice_the_chat_timeout_then_hears_nothing_came(api, tokens, settings):
    settings.CHAT_TIMEOUT = TIMEOUT
    started = time.monotonic()

    response = subscribe(api, tokens["alice"])
    body = b"".join(response.streaming_content)

    # Twice: a reader may connect before the question is asked.
    assert time.monotonic() - started >= 2 * TIMEOUT
    assert body.startswith(b": keep-alive\n\n")
    assert body.endswith(b'event: error\ndata: {"message": "No answer was published in time"}\n\n')


def test_a_reader_is_told_when_the_relay_cannot_be_reached(api, tokens, settings):
    settings.CHAT_TIMEOUT = TIMEOUT
    settings.CHAT_REDIS_URL = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there

    events = list(read_events(subscribe(api, tokens["alice"])))

    assert events == [("error", {"message": "Chat cannot reach its answer relay (Redis)"})]
