import json
import re
import socket
from urllib.parse import urlsplit

import pytest

from completions.models import UsageEvent
from completions.usage import flush_usage_events
from tests.completions.conftest import COMPLETIONS, completion_body
from tests.conftest import make_token
from tests.fake_servers import Reply, sse

GENERATION = {"intent": "generation", "user_instruction": "multiply two numbers", "stream": True}


def streamed_text(response) -> str:
    return b"".join(response.streaming_content).decode()


def test_a_streamed_generation_arrives_as_raw_text_chunks(api, upstream, bob_token):
    upstream.chat_text = "def multiply(a, b):\n    return a * b\n"

    response = api.post(COMPLETIONS, completion_body(**GENERATION), token=bob_token)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/event-stream")
    assert "X-Streaming-Format" not in response
    assert "def multiply(a, b):\n    return a * b" in streamed_text(response)


# The ways a model server may cut its answer into stream events.
HOSTILE_SPLITS = {
    "each character alone": list,
    "each fence alone": lambda text: [part for part in re.split(r"(`+)", text) if part],
    "each fence cut in two": lambda text: [part for part in re.split(r"(`)(?=`)", text) if part],
    "at every backtick and line end": lambda text: re.split(r"(?<=[`\n])", text),
}


@pytest.mark.parametrize("split", HOSTILE_SPLITS.values(), ids=HOSTILE_SPLITS)
@pytest.mark.parametrize(
    "answer",
    [
        "```python\ndef multiply(a, b):\n    return a * b\n```",
        "```python\ndef multiply(a, b):\n    return a * b```",
        "```\r\ndef multiply(a, b):\r\n    return a * b\r\n```  \r\nIt multiplies.",
        "def multiply(a, b):\n    return a * b\n```\n",
    ],
    ids=["own line", "glued", "windows line ends", "no opening fence"],
)
def test_a_streamed_generation_loses_its_fences_however_the_model_server_cuts_it(
    api, upstream, bob_token, answer, split
):
    upstream.chat_text = answer
    upstream.split = split

    response = api.post(COMPLETIONS, completion_body(**GENERATION), token=bob_token)
    whole = api.post(
        COMPLETIONS, completion_body(**{**GENERATION, "stream": False}), token=bob_token
    )

    streamed = streamed_text(response)
    assert streamed == whole.json()["choices"][0]["text"]
    assert streamed.replace("\r\n", "\n").strip() == "def multiply(a, b):\n    return a * b"


def test_a_stream_is_recorded_as_streamed_with_its_time_to_the_first_chunk(
    api, upstream, bob_token
):
    upstream.script(Reply(default=True, delay=0.2))
    upstream.chat_text = "def multiply(a, b):\n    return a * b\n"
    response = api.post(COMPLETIONS, completion_body(**GENERATION), token=bob_token)
    streamed_text(response)
    flush_usage_events()

    event = UsageEvent.objects.get()
    assert event.streamed is True
    assert 200 <= event.upstream_ms <= event.latency_ms


def test_a_streamed_completion_is_cleaned_and_sent_whole(api, upstream, bob_token):
    response = api.post(COMPLETIONS, completion_body(stream=True), token=bob_token)

    assert streamed_text(response) == "return a * b"


def test_sse_clients_get_gitlabs_events(api, upstream, bob_token):
    upstream.chat_text = "return a * b"

    response = api.post(
        COMPLETIONS,
        completion_body(**GENERATION),
        token=bob_token,
        HTTP_X_SUPPORTS_SSE_STREAMING="true",
    )

    assert response["X-Streaming-Format"] == "sse"
    events = [block for block in streamed_text(response).split("\n\n") if block]
    names = [block.split("\n")[0] for block in events]
    assert names[0] == "event: stream_start"
    assert names[-1] == "event: stream_end"
    assert set(names[1:-1]) == {"event: content_chunk"}
    data = [json.loads(block.split("\n")[1].removeprefix("data: ")) for block in events]
    assert data[0]["model"]["engine"] == "openai"
    assert data[-1] is None
    content = "".join(d["choices"][0]["delta"]["content"] for d in data[1:-1])
    assert content.strip() == "return a * b"
    assert all(d["choices"][0]["index"] == 0 for d in data[1:-1])


def test_a_provider_failure_before_the_first_chunk_is_an_error_response(api, upstream, bob_token):
    upstream.script(*[Reply(status=500)] * 3)

    response = api.post(COMPLETIONS, completion_body(**GENERATION), token=bob_token)

    assert response.status_code == 503


@pytest.mark.django_db(transaction=True)
def test_a_client_that_disconnects_stops_the_upstream_generation(live_server, upstream, world):
    token = make_token(world.bob, scopes=("api",))
    events = [{"choices": [{"index": 0, "delta": {"content": f"line{i}\n"}}]} for i in range(50)]
    upstream.script(Reply(chunks=sse(*events), chunk_delay=0.1))
    body = json.dumps(completion_body(**GENERATION)).encode()
    address = urlsplit(live_server.url)

    with socket.create_connection((address.hostname, address.port), timeout=5) as client:
        client.sendall(
            b"POST " + COMPLETIONS.encode() + b" HTTP/1.1\r\nHost: localhost\r\n"
            b"Content-Type: application/json\r\nPRIVATE-TOKEN: " + token.encode() + b"\r\n"
            b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
        )
        assert b"200" in client.recv(4096)

    assert upstream.client_went_away.wait(timeout=5), "the upstream request was not closed"
    assert upstream.chunks_sent < 50
