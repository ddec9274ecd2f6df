"""Waiting for an answer, in POST /api/v4/chat/completions and on a subscription: a question handed
to a broker that no worker reads yet times out with 504 and is answered when a worker takes it; an
answer relay that cannot be reached while waiting is a 503 that says the answer will be kept; and a
reader that connects before the question is asked keeps waiting for it, twice the chat timeout and
no longer."""

import base64
import json
import time

import pytest
import redis
from django.db import connection

from chat import relay
from chat.models import Message, Role, State
from chat.tasks import answer_question
from tests.chat.conftest import ask, history, read_events
from tests.chat.test_chat_worker import in_thread, wait_until
from tests.chat.worker import use_broker
from tests.conftest import Api
from tests.services import free_port

pytestmark = pytest.mark.django_db(transaction=True)

ANSWER = "Here is the function."  # what the fake chat model answers


@pytest.fixture
def broker(own_redis):
    """This process hands its questions to a Redis broker of the test's own that no worker reads:
    the test takes the task's message from the queue itself."""
    use_broker(own_redis.url)
    yield redis.Redis.from_url(own_redis.url)
    use_broker(None)


def queued_tasks(client: redis.Redis) -> list[tuple[str, list]]:
    """(task name, positional arguments) of each message waiting in the broker's queues."""
    tasks = []
    for key in client.keys("*"):
        if client.type(key) != b"list":
            continue
        for raw in client.lrange(key, 0, -1):
            message = json.loads(raw)
            args, _kwargs, _embed = json.loads(base64.b64decode(message["body"]))
            tasks.append((message["headers"]["task"], args))
    return tasks


@pytest.mark.services
def test_a_question_no_worker_takes_in_time_is_a_504_and_is_answered_later(
    api, tokens, chat_model, world, settings, broker
):
    settings.CHAT_TIMEOUT = 0.3

    response = ask(api, tokens["alice"], "Anyone there?")

    assert response.status_code == 504
    assert response.json() == {
        "message": "The chat model did not answer within 0.3s; "
        "the answer will be kept in the chat history when it comes"
    }
    question = Message.objects.get(user=world.alice, role=Role.USER)
    assert question.state == State.PENDING
    assert chat_model.requests == []
    # A worker takes the message the question was handed over as, and answers that question.
    [(task, args)] = queued_tasks(broker)
    assert (task, args) == ("chat.tasks.answer_question", [question.pk])
    settings.CHAT_TIMEOUT = 5.0
    answer_question.apply(args=args)
    assert history(world.alice) == [("user", "Anyone there?"), ("assistant", ANSWER)]


def test_a_relay_lost_while_waiting_is_a_503_that_says_the_answer_will_be_kept(
    api, tokens, chat_model, world, settings
):
    settings.CHAT_REDIS_URL = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there

    response = ask(api, tokens["alice"], "Anyone there?")

    assert response.status_code == 503
    assert response.json() == {
        "message": "503 Service Unavailable - chat cannot reach its answer relay (Redis); "
        "the answer will be kept in the chat history when it comes"
    }
    assert response["Retry-After"] == "5"
    # The task in this process's thread cannot take the question's lease either: it gives up.
    question = Message.objects.get(user=world.alice, role=Role.USER)
    wait_until(lambda: Message.objects.get(pk=question.pk).state != State.PENDING)


def test_a_reader_that_connects_before_the_question_keeps_waiting_for_it(
    api, tokens, chat_model, world, monkeypatch
):
    monkeypatch.setattr(relay, "STREAM_BLOCK_MS", 50)  # a keep-alive every 50 ms
    received: list[bytes] = []

    def subscribe() -> None:
        response = Api().get("/api/v4/chat/subscriptions/editor-1", token=tokens["alice"])
        for piece in response.streaming_content:
            received.append(piece)

    thread, _ = in_thread(subscribe)
    wait_until(lambda: b": keep-alive\n\n" in received, message="a keep-alive")

    ask(api, tokens["alice"], "Hi?", client_subscription_id="editor-1")

    thread.join(10)
    assert not thread.is_alive()
    body = b"".join(received)
    assert body.startswith(b": keep-alive\n\n")
    question = Message.objects.get(user=world.alice, role=Role.USER)
    events = list(read_events_of(body))
    assert events[0] == ("start", {"attempt": 1})
    assert events[-1] == ("done", {"content": ANSWER, "request_id": str(question.request_id)})


def read_events_of(body: bytes):
    class Body:
        streaming_content = [body]

    return read_events(Body())


def test_a_reader_gives_up_after_twice_the_chat_timeout_and_no_later(api, tokens, settings):
    settings.CHAT_TIMEOUT = 2.0
    started = time.monotonic()

    response = api.get("/api/v4/chat/subscriptions/editor-1", token=tokens["alice"])
    events = list(read_events(response))

    # Three times the timeout would be 6 s; the margin is for a loaded CI machine.
    assert 4.0 <= time.monotonic() - started < 5.5
    assert events == [("error", {"message": "No answer was published in time"})]


@pytest.mark.django_db  # inside the test's transaction
def test_a_reader_inside_a_transaction_keeps_its_database_connection(api, tokens, settings, world):
    settings.CHAT_TIMEOUT = 0.1

    events = list(
        read_events(api.get("/api/v4/chat/subscriptions/editor-1", token=tokens["alice"]))
    )

    assert events == [("error", {"message": "No answer was published in time"})]
    assert connection.in_atomic_block
    assert Message.objects.filter(user=world.alice).count() == 0
