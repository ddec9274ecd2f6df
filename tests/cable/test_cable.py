"""`/-/cable`, GitLab's ActionCable websocket, as GitLab's language server speaks it: against the
production server (codesuggest.asgi under gunicorn), with a real Celery worker answering
through a Redis of the test's own, and a fake chat model that streams its answer word by word."""

import json
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from websockets.exceptions import InvalidStatus
from websockets.sync.client import ClientConnection, connect

from chat.models import Message, Role
from tests.chat.worker import use_broker
from tests.conftest import make_token
from tests.fake_servers import FakeOpenAIServer, Reply, pieces
from tests.services import server_process

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

ANSWER = "Use the class keyword, then def for each method, then end."
# The language server's document, word for word (docs/api.md#cable).
SUBSCRIPTION = """
subscription aiCompletionResponse($userId: UserID, $clientSubscriptionId: String,
  $aiAction: AiAction, $htmlResponse: Boolean = true) {
  aiCompletionResponse(userId: $userId, aiAction: $aiAction,
    clientSubscriptionId: $clientSubscriptionId) {
    id requestId content contentHtml @include(if: $htmlResponse) errors role timestamp type
    chunkId extras { sources }
  }
}"""


@pytest.fixture(scope="module")
def server(worker, redis_server, tmp_path_factory) -> Iterator[str]:
    """The service, sending questions to the worker."""
    env = {"REDIS_URL": redis_server.url, "CELERY_BROKER_URL": redis_server.url}
    with server_process(
        env, production=True, log=tmp_path_factory.mktemp("server") / "server.log"
    ) as url:
        yield url


@pytest.fixture(autouse=True)
def _answers(model_server, redis_server) -> Iterator[None]:
    model_server.reset()
    model_server.chat_text = ANSWER
    use_broker(redis_server.url)  # the questions the test process makes go to the worker too
    yield
    use_broker(None)


@pytest.fixture
def tokens(world) -> dict[str, str]:
    return {name: make_token(getattr(world, name)) for name in ("alice", "bob", "charlie")}


def cable(server: str, token: str | None) -> ClientConnection:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return connect(
        server.replace("http://", "ws://") + "/-/cable",
        subprotocols=["actioncable-v1-json"],  # type: ignore[list-item]
        additional_headers=headers,
        open_timeout=10,
    )


def identifier(user_id: Any, subscription_id: str, **variables: Any) -> str:
    """The language server's identifier: a JSON string whose variables are a JSON string."""
    values = {"userId": user_id, "clientSubscriptionId": subscription_id, "aiAction": "CHAT"}
    return json.dumps(
        {
            "channel": "GraphqlChannel",
            "query": SUBSCRIPTION,
            "variables": json.dumps({**values, **variables}),
            "operationName": "aiCompletionResponse",
        }
    )


def gid(user) -> str:
    return f"gid://gitlab/User/{user.pk}"


def frames(socket: ClientConnection, seconds: float = 10) -> Iterator[dict[str, Any]]:
    """The frames the server sends, pings left out, until `seconds` pass without one."""
    while True:
        try:
            frame = json.loads(socket.recv(timeout=seconds))
        except TimeoutError:
            return
        if frame.get("type") != "ping":
            yield frame


def subscribe(socket: ClientConnection, ident: str) -> dict[str, Any]:
    """Subscribe; the server's answer (confirm_subscription or reject_subscription)."""
    assert next(frames(socket)) == {"type": "welcome"}
    socket.send(json.dumps({"command": "subscribe", "identifier": ident}))
    return next(frames(socket))


def answer(socket: ClientConnection, ident: str) -> list[dict[str, Any]]:
    """aiCompletionResponse of each message on this subscription, up to the whole answer."""
    messages = []
    for frame in frames(socket):
        assert frame["identifier"] == ident
        assert frame["message"]["more"] is True
        message = frame["message"]["result"]["data"]["aiCompletionResponse"]
        messages.append(message)
        if message["chunkId"] is None:
            return messages
    raise AssertionError(f"The answer did not end: {messages}")


def ask(
    server: str, token: str, subscription_id: str, content: str = "A class?"
) -> threading.Thread:
    """Ask through the REST endpoint, in a thread (it returns when the answer is written)."""

    def post() -> None:
        requests.post(
            f"{server}/api/v4/chat/completions",
            json={"content": content, "client_subscription_id": subscription_id},
            headers={"PRIVATE-TOKEN": token},
            timeout=30,
        )

    thread = threading.Thread(target=post, daemon=True)
    thread.start()
    return thread


def test_it_streams_an_answer_in_numbered_chunks_then_whole(server, tokens, world, model_server):
    model_server.script(Reply(default=True, delay=0.3))  # subscribed before the answer starts
    subscription_id = str(uuid.uuid4())
    with cable(server, tokens["alice"]) as socket:
        ident = identifier(gid(world.alice), subscription_id)
        assert subscribe(socket, ident) == {"identifier": ident, "type": "confirm_subscription"}

        ask(server, tokens["alice"], subscription_id).join(30)
        messages = answer(socket, ident)

    request_id = str(Message.objects.get(user=world.alice, role=Role.USER).request_id)
    *chunks, whole = messages
    assert [m["content"] for m in chunks] == pieces(ANSWER)
    assert [m["chunkId"] for m in chunks] == list(range(1, len(pieces(ANSWER)) + 1))
    assert {m["requestId"] for m in chunks} == {request_id}
    assert whole["content"] == ANSWER
    assert whole["contentHtml"] == f"<p>{ANSWER}</p>"
    assert {k: whole[k] for k in ("requestId", "errors", "role", "chunkId", "extras")} == {
        "requestId": request_id,
        "errors": [],
        "role": "ASSISTANT",
        "chunkId": None,
        "extras": {"sources": []},
    }
    assert time.time() - 60 < _epoch(whole["timestamp"]) <= time.time()


def test_it_takes_variables_as_an_object_and_leaves_html_out_when_asked(server, tokens, world):
    subscription_id = str(uuid.uuid4())
    ident = json.dumps(
        {
            "channel": "GraphqlChannel",
            "query": SUBSCRIPTION,
            "variables": {
                "userId": gid(world.alice),
                "clientSubscriptionId": subscription_id,
                "htmlResponse": False,
            },
        }
    )
    with cable(server, tokens["alice"]) as socket:
        assert subscribe(socket, ident)["type"] == "confirm_subscription"
        ask(server, tokens["alice"], subscription_id).join(30)
        whole = answer(socket, ident)[-1]

    assert whole["content"] == ANSWER
    assert "contentHtml" not in whole


def test_it_answers_the_newer_document_that_asks_for_the_context_used(server, tokens, world):
    # Newer language servers ask which additional context an answer drew on.
    query = SUBSCRIPTION.replace(
        "extras { sources }", "extras { sources additionalContext { id category metadata } }"
    )
    subscription_id = str(uuid.uuid4())
    variables = {"userId": gid(world.alice), "clientSubscriptionId": subscription_id}
    ident = json.dumps({"channel": "GraphqlChannel", "query": query, "variables": variables})
    with cable(server, tokens["alice"]) as socket:
        assert subscribe(socket, ident)["type"] == "confirm_subscription"
        ask(server, tokens["alice"], subscription_id).join(30)
        whole = answer(socket, ident)[-1]

    assert whole["extras"] == {"sources": [], "additionalContext": []}


def test_a_failed_answer_ends_with_its_error(server, tokens, world, model_server):
    model_server.script(Reply(status=400, json={"error": {"message": "bad request"}}))
    subscription_id = str(uuid.uuid4())
    with cable(server, tokens["alice"]) as socket:
        ident = identifier(gid(world.alice), subscription_id)
        assert subscribe(socket, ident)["type"] == "confirm_subscription"
        ask(server, tokens["alice"], subscription_id).join(30)
        messages = answer(socket, ident)

    assert len(messages) == 1
    assert messages[0]["chunkId"] is None
    assert messages[0]["errors"] == [messages[0]["errors"][0]]
    assert messages[0]["errors"][0]


def test_an_idle_subscription_stays_open_until_its_answer(server, tokens, world):
    # Longer than the channel layer's 5 s waits on Redis: once, those closed every idle socket.
    subscription_id = str(uuid.uuid4())
    with cable(server, tokens["alice"]) as socket:
        ident = identifier(gid(world.alice), subscription_id)
        assert subscribe(socket, ident)["type"] == "confirm_subscription"
        deadline = time.monotonic() + 8
        while (left := deadline - time.monotonic()) > 0:
            try:
                frame = json.loads(socket.recv(timeout=left))
            except TimeoutError:
                break
            assert frame.get("type") == "ping", frame  # a closed socket raises instead

        ask(server, tokens["alice"], subscription_id).join(30)
        whole = answer(socket, ident)[-1]

    assert whole["content"] == ANSWER


def test_it_pings_every_few_seconds(server, tokens):
    with cable(server, tokens["alice"]) as socket:
        assert json.loads(socket.recv(timeout=5)) == {"type": "welcome"}
        ping = json.loads(socket.recv(timeout=5))

    assert ping["type"] == "ping"
    assert abs(ping["message"] - time.time()) < 10


@pytest.mark.parametrize("token", [None, "glpat-not-a-real-token-000000000"])
def test_it_refuses_a_handshake_without_a_valid_token(server, token):
    with pytest.raises(InvalidStatus) as refused:
        cable(server, token)

    assert refused.value.response.status_code == 403


def test_it_refuses_a_token_without_an_ai_scope(server, world):
    with pytest.raises(InvalidStatus):
        cable(server, make_token(world.alice, scopes=("read_user",)))


def test_it_rejects_a_subscription_to_another_users_answers(server, tokens, world):
    with cable(server, tokens["bob"]) as socket:
        ident = identifier(gid(world.alice), str(uuid.uuid4()))

        assert subscribe(socket, ident) == {"identifier": ident, "type": "reject_subscription"}


@pytest.mark.parametrize(
    "query",
    [
        "subscription { aiCompletionResponse(clientSubscriptionId: 1 { id }",  # does not parse
        "subscription { aiCompletionResponse { password } }",  # no such field
        "query { currentUser { id } }",  # not a subscription
    ],
)
def test_it_rejects_a_document_that_is_not_a_valid_subscription(server, tokens, query):
    ident = json.dumps({"channel": "GraphqlChannel", "query": query, "variables": "{}"})
    with cable(server, tokens["alice"]) as socket:
        assert subscribe(socket, ident)["type"] == "reject_subscription"


def test_a_user_never_receives_another_users_answer(server, tokens, world, model_server):
    model_server.script(Reply(default=True, delay=0.3))
    shared_id = str(uuid.uuid4())  # the same subscription id on both sockets
    with cable(server, tokens["alice"]) as alice, cable(server, tokens["bob"]) as bob:
        alice_ident = identifier(gid(world.alice), shared_id)
        bob_ident = identifier(gid(world.bob), shared_id)
        assert subscribe(alice, alice_ident)["type"] == "confirm_subscription"
        assert subscribe(bob, bob_ident)["type"] == "confirm_subscription"

        ask(server, tokens["alice"], shared_id).join(30)
        assert answer(alice, alice_ident)[-1]["content"] == ANSWER

        assert list(frames(bob, seconds=2)) == []  # pings only

        model_server.chat_text = "Bob's own answer."
        ask(server, tokens["bob"], shared_id).join(30)
        assert answer(bob, bob_ident)[-1]["content"] == "Bob's own answer."


def test_the_embedded_run_streams_without_redis_or_a_worker(tokens, world, tmp_path):
    # make run: one process, the answer written in-process, the stream kept in its memory.
    with FakeOpenAIServer() as model:
        model.chat_text = ANSWER
        model.script(Reply(default=True, delay=0.3))
        env = {
            "CODESUGGEST_EMBEDDED": "true",
            "REDIS_URL": "",
            "CELERY_BROKER_URL": "",
            "CHAT_PROVIDER": "openai",
            "CHAT_MODEL": "test-chat-model",
            "CHAT_BASE_URL": model.url,
        }
        log = tmp_path / "server.log"
        with (
            server_process(env, production=True, log=log) as url,
            cable(url, tokens["alice"]) as socket,
        ):
            subscription_id = str(uuid.uuid4())
            ident = identifier(gid(world.alice), subscription_id)
            assert subscribe(socket, ident)["type"] == "confirm_subscription"
            ask(url, tokens["alice"], subscription_id).join(30)
            *chunks, whole = answer(socket, ident)

    assert [m["content"] for m in chunks] == pieces(ANSWER)
    assert whole["content"] == ANSWER


def _epoch(timestamp: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(timestamp).timestamp()


def test_each_socket_has_a_line_in_the_request_log_without_its_token(tokens, tmp_path):
    env = {"CODESUGGEST_EMBEDDED": "true", "REDIS_URL": "", "LOG_FORMAT": "json"}
    log = tmp_path / "server.log"
    with server_process(env, production=True, log=log) as url:
        with cable(url, tokens["alice"]) as socket:
            assert json.loads(socket.recv(timeout=10))["type"] == "welcome"
        with pytest.raises(InvalidStatus):
            cable(url, "glpat-not-a-real-token")
        time.sleep(0.5)  # the closed socket's line is written once the server sees it go

    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    sockets = [line for line in lines if line.get("endpoint") == "-/cable"]
    assert [(line["path"], line["status"]) for line in sockets] == [
        ("/-/cable", 101),
        ("/-/cable", 403),
    ]
    assert sockets[0]["close_code"] == 1000
    assert sockets[0]["remote_ip"] == "127.0.0.1"
    assert tokens["alice"] not in log.read_text()
