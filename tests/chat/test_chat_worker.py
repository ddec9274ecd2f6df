"""Duo Chat through a real Celery worker process and a real Redis (not eager): answers, history,
two users at once, a worker killed mid-answer, a slow model, the subscription stream."""

import json
import threading
import time
from collections.abc import Iterator

import pytest
import redis
from django.db import connection
from prometheus_client.parser import text_string_to_metric_families

from chat.models import Message
from tests.chat.conftest import CHAT, ask, history, read_events, sent_messages
from tests.chat.worker import Worker, use_broker
from tests.conftest import Api
from tests.fake_servers import Reply, pieces

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

ANSWER = "Use the class keyword, then def for each method, then end."


@pytest.fixture(autouse=True)
def through_the_worker(worker, redis_server, model_server, settings) -> Iterator[Worker]:
    # The earlier test's chat keys only: the broker's queue bindings live in this database too.
    client = redis.Redis.from_url(redis_server.url)
    for key in client.scan_iter("codesuggest:chat:*"):
        client.delete(key)
    model_server.requests.clear()
    model_server.chat_text = ANSWER
    settings.CHAT_REDIS_URL = redis_server.url
    settings.CHAT_TIMEOUT = 15.0
    use_broker(redis_server.url)
    yield worker
    use_broker(None)


def in_thread(target, *args, **kwargs) -> tuple[threading.Thread, dict]:
    """Run `target` in a thread (with its own database connection, closed at the end)."""
    result: dict = {}

    def run() -> None:
        try:
            result["value"] = target(*args, **kwargs)
        finally:
            connection.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, result


def wait_until(condition, timeout: float = 15, message: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"Timed out waiting for {message}")
        time.sleep(0.05)


def test_a_worker_answers_the_question(api, tokens, world, worker):
    response = ask(api, tokens["alice"], "How do I define a class in Ruby?")

    assert response.status_code == 201, worker.log()
    assert response.json() == ANSWER
    assert history(world.alice) == [
        ("user", "How do I define a class in Ruby?"),
        ("assistant", ANSWER),
    ]


def test_the_worker_gives_the_model_the_history(api, tokens, model_server):
    ask(api, tokens["alice"], "First?")

    ask(api, tokens["alice"], "Second?")

    assert sent_messages(model_server) == [
        ("user", "First?"),
        ("assistant", ANSWER),
        ("user", "Second?"),
    ]


def test_with_clean_history_leaves_no_trace_through_the_worker(api, tokens, model_server, world):
    ask(api, tokens["alice"], "First?")
    response = ask(api, tokens["alice"], "Aside?", with_clean_history=True)
    assert response.status_code == 201
    assert sent_messages(model_server) == [("user", "Aside?")]

    ask(api, tokens["alice"], "Next?")

    assert sent_messages(model_server) == [("user", "Next?")]
    assert history(world.alice)[-3:] == [
        ("reset", "/reset"),
        ("user", "Next?"),
        ("assistant", ANSWER),
    ]


def test_two_users_asking_at_once_keep_their_histories_apart(tokens, model_server):
    for name in ("alice", "bob"):
        ask(Api(), tokens[name], f"{name}'s first?")

    threads = [
        in_thread(ask, Api(), tokens[name], f"{name}'s second?") for name in ("alice", "bob")
    ]
    for thread, _ in threads:
        thread.join(30)

    assert [result["value"].status_code for _, result in threads] == [201, 201]
    received = {
        request.json["messages"][-1]["content"]: [
            m["content"] for m in request.json["messages"] if m["role"] != "system"
        ]
        for request in model_server.requests
    }
    assert received["alice's second?"] == ["alice's first?", ANSWER, "alice's second?"]
    assert received["bob's second?"] == ["bob's first?", ANSWER, "bob's second?"]


def test_a_question_is_answered_once_after_its_worker_is_killed(
    tokens, model_server, world, worker
):
    model_server.script(Reply(default=True, delay=5.0))  # the first worker will not see it end
    thread, result = in_thread(ask, Api(), tokens["alice"], "Will this survive?")
    wait_until(lambda: len(model_server.requests) == 1, message="the model to be asked")

    worker.kill()
    time.sleep(2.5)  # the broker hands the message out again after its visibility timeout
    worker.start()
    thread.join(30)

    assert result["value"].status_code == 201, worker.log()
    assert result["value"].json() == ANSWER
    assert len(model_server.requests) == 2
    assert history(world.alice) == [("user", "Will this survive?"), ("assistant", ANSWER)]


def test_an_answer_later_than_chat_timeout_is_still_kept(
    api, tokens, model_server, world, settings
):
    settings.CHAT_TIMEOUT = 0.5
    model_server.script(Reply(default=True, delay=1.5))

    response = ask(api, tokens["alice"], "Slow?")

    assert response.status_code == 504
    assert response.json() == {
        "message": "The chat model did not answer within 0.5s; "
        "the answer will be kept in the chat history when it comes"
    }
    wait_until(
        lambda: Message.objects.filter(user=world.alice, role="assistant").exists(),
        message="the late answer",
    )
    settings.CHAT_TIMEOUT = 15.0
    ask(api, tokens["alice"], "And now?")
    assert sent_messages(model_server) == [
        ("user", "Slow?"),
        ("assistant", ANSWER),
        ("user", "And now?"),
    ]


def test_the_subscription_streams_the_answer_in_order(api, tokens, model_server):
    model_server.script(Reply(default=True, delay=0.5))  # the reader is there before the answer
    reader_api = Api()
    reader, events = in_thread(
        lambda: list(
            read_events(reader_api.get("/api/v4/chat/subscriptions/sub-1", token=tokens["alice"]))
        )
    )

    response = ask(api, tokens["alice"], "Stream it", client_subscription_id="sub-1")
    reader.join(15)

    assert response.json() == ANSWER
    names = [event for event, _ in events["value"]]
    assert names == ["start", *["chunk"] * len(pieces(ANSWER)), "done"]
    chunks = [data["content"] for event, data in events["value"] if event == "chunk"]
    assert chunks == pieces(ANSWER)
    assert events["value"][-1][1]["content"] == ANSWER


def test_a_late_reader_still_gets_the_whole_stream(api, tokens):
    ask(api, tokens["alice"], "Stream it", client_subscription_id="sub-2")

    response = api.get("/api/v4/chat/subscriptions/sub-2", token=tokens["alice"])

    assert response["Content-Type"] == "text/event-stream"
    events = list(read_events(response))
    assert "".join(d["content"] for e, d in events if e == "chunk") == ANSWER
    question = Message.objects.get(role="user", content="Stream it")
    assert events[-1] == ("done", {"content": ANSWER, "request_id": str(question.request_id)})


def test_a_user_cannot_read_another_users_stream(api, tokens, settings):
    ask(api, tokens["alice"], "Mine", client_subscription_id="sub-3")
    settings.CHAT_TIMEOUT = 0.5

    events = list(read_events(api.get("/api/v4/chat/subscriptions/sub-3", token=tokens["bob"])))

    assert events == [("error", {"message": "No answer was published in time"})]


def test_the_workers_log_lines_carry_the_id_of_the_request_that_asked(api, tokens, worker):
    response = api.post(
        CHAT, {"content": "Why?"}, token=tokens["alice"], HTTP_X_REQUEST_ID="chat-request-7"
    )

    assert response.status_code == 201
    assert response["X-Request-Id"] == "chat-request-7"
    wait_until(lambda: "chat-request-7" in worker.log(), message="the task's log line")
    tagged = [
        json.loads(line)
        for line in worker.log().splitlines()
        if line.startswith("{") and "chat-request-7" in line
    ]
    assert [line["request_id"] for line in tagged] == ["chat-request-7"] * len(tagged)
    assert any(line["logger"] == "celery.app.trace" for line in tagged)


def answer_attempts(client, outcome: str) -> float:
    text = client.get("/-/metrics").content.decode()
    return next(
        (
            sample.value
            for family in text_string_to_metric_families(text)
            for sample in family.samples
            if sample.name == "codesuggest_chat_answer_duration_seconds_count"
            and sample.labels["outcome"] == outcome
        ),
        0.0,
    )


def test_answers_made_by_a_worker_are_counted_in_every_web_process(api, client, tokens):
    before = answer_attempts(client, "answered")

    assert ask(api, tokens["alice"], "Counted?").status_code == 201

    # Read by this process, which answered nothing itself.
    wait_until(lambda: answer_attempts(client, "answered") == before + 1, message="the count")
