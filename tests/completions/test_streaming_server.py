"""Every kind of completion stream, read to its end from a real server process as an editor reads
it: completion or generation, raw text or Server-Sent Events, and a model server that breaks
before the first chunk (an error status) or after it (an `error` event; a raw stream broken off).

Only a real server shows how a chunked body ends, cleanly or broken off; the Django test client
does not send one.
"""

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.completions.conftest import COMPLETIONS, completion_body
from tests.conftest import make_token
from tests.fake_servers import FakeOpenAIServer, Reply, pieces, sse
from tests.services import server_process

pytestmark = pytest.mark.django_db(transaction=True)

COMPLETION = {"intent": "completion", "stream": True}
GENERATION = {"intent": "generation", "user_instruction": "multiply two numbers", "stream": True}
MODEL = {"engine": "openai", "name": "gpt-3.5-turbo-instruct", "lang": "python"}
FUNCTION = "def multiply(a, b):\n    return a * b\n"
FIRST_LINE_TEXT = "def multiply(a, b):\n"
FIRST_LINE = {"choices": [{"index": 0, "delta": {"content": FIRST_LINE_TEXT}}]}
# A generation starts on a line of its own: the cursor's line is not empty (it is indented).
GENERATED_FUNCTION = "\n" + FUNCTION
GENERATED_FIRST_LINE = "\n" + FIRST_LINE_TEXT

# The ways a model server (or a proxy in front of it) breaks a stream: what it sends, whether it
# then drops the connection, and the error the editor is told.
BREAKAGES = {
    "an HTML page": (
        ["<html><body><h1>502 Bad Gateway</h1></body></html>\n"],
        False,
        "sent a stream that is not Server-Sent Events",
    ),
    "an event that is not JSON": (
        ['data: {"choices": [\n\n'],
        False,
        "sent a stream event that is not JSON",
    ),
    "an event of the wrong shape": (
        sse({"object": "chat.completion.chunk", "text": "x"}),
        False,
        "sent an unexpected stream event",
    ),
    "a connection closed mid-answer": ([], True, "broke off the stream"),
    "an end without [DONE]": ([], False, "broke off the stream"),
}


def broken_stream(breakage: str, *, after_first_chunk: bool) -> tuple[Reply, str]:
    """The model server's reply for `breakage`, and the error message it must become."""
    chunks, cut_off, message = BREAKAGES[breakage]
    lead = sse(FIRST_LINE) if after_first_chunk else []
    return Reply(chunks=[*lead, *chunks], cut_off=cut_off), f"The openai model server {message}"


@pytest.fixture(autouse=True)
def _fresh_model_server(model_server: FakeOpenAIServer) -> None:
    model_server.reset()
    model_server.completion_texts = ["return a * b"]
    model_server.chat_text = FUNCTION
    model_server.split = pieces


@pytest.fixture(scope="module")
def server_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("server") / "output.log"


# The worker as deployed (gevent, gunicorn.conf.py) and the gthread one it can be switched to:
# each handles a failing response body in code of its own.
@pytest.fixture(scope="module", params=["gevent", "gthread"])
def service(
    request: pytest.FixtureRequest,
    django_db_setup: None,
    model_server: FakeOpenAIServer,
    server_log: Path,
) -> Iterator[str]:
    env = {
        "COMPLETIONS_PROVIDER": "openai",
        "COMPLETIONS_BASE_URL": model_server.url,
        "COMPLETIONS_MODEL": "gpt-3.5-turbo-instruct",
        "COMPLETIONS_TIMEOUT": "5",
        "CODE_SUGGESTIONS_RATE_LIMIT": "1000",
        "CODESUGGEST_EMBEDDED": "true",  # one process, no Redis
    }
    production = request.param == "gevent"
    with server_process(env, production=production, log=server_log) as url:
        yield url


@pytest.fixture
def token(world) -> str:
    return make_token(world.bob, scopes=("ai_features",))


def post(service: str, token: str, fields: dict[str, Any], *, sse: bool) -> requests.Response:
    headers = {"PRIVATE-TOKEN": token, "X-Supports-Sse-Streaming": "true" if sse else "false"}
    return requests.post(
        service + COMPLETIONS,
        json=completion_body(**fields),
        headers=headers,
        stream=True,
        timeout=10,
    )


def read_to_the_end(response: requests.Response, received: list[bytes] | None = None) -> str:
    """The whole body; raises ChunkedEncodingError when the server broke it off. `received`
    collects what arrived before that."""
    received = [] if received is None else received
    for piece in response.iter_content(chunk_size=None):
        received.append(piece)
    return b"".join(received).decode()


def events(body: str) -> list[tuple[str, Any]]:
    """(event, data) of each Server-Sent Event, in order."""
    parsed = []
    for block in filter(None, body.split("\n\n")):
        name, data = block.split("\n")
        parsed.append((name.removeprefix("event: "), json.loads(data.removeprefix("data: "))))
    return parsed


def test_a_streamed_completion_arrives_whole_and_ends(service, token):
    response = post(service, token, COMPLETION, sse=False)

    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/event-stream")
    assert read_to_the_end(response) == "return a * b"


def test_a_streamed_completion_over_sse_ends_with_stream_end(service, token):
    response = post(service, token, COMPLETION, sse=True)

    assert response.headers["X-Streaming-Format"] == "sse"
    assert events(read_to_the_end(response)) == [
        ("stream_start", {"model": MODEL}),
        ("content_chunk", {"choices": [{"delta": {"content": "return a * b"}, "index": 0}]}),
        ("stream_end", None),
    ]


def test_a_streamed_generation_arrives_in_chunks_and_ends(service, token):
    response = post(service, token, GENERATION, sse=False)

    assert response.status_code == 200
    assert read_to_the_end(response) == GENERATED_FUNCTION


def test_a_generation_streamed_a_character_at_a_time_loses_its_glued_fence(
    service, model_server, token
):
    model_server.chat_text = "```python\n" + FUNCTION.rstrip("\n") + "```\nIt multiplies."
    model_server.split = list

    response = post(service, token, GENERATION, sse=False)

    assert read_to_the_end(response) == GENERATED_FUNCTION.rstrip("\n")


def test_a_streamed_generation_over_sse_ends_with_stream_end(service, token):
    response = post(service, token, GENERATION, sse=True)

    received = events(read_to_the_end(response))
    assert received[0] == ("stream_start", {"model": MODEL})
    assert received[-1] == ("stream_end", None)
    chunks = [data["choices"][0]["delta"]["content"] for _, data in received[1:-1]]
    assert len(chunks) > 1
    assert "".join(chunks) == GENERATED_FUNCTION


@pytest.mark.parametrize("sse", [False, True], ids=["raw", "sse"])
@pytest.mark.parametrize("breakage", BREAKAGES)
def test_a_model_server_that_breaks_before_the_first_chunk_is_a_503(
    service, model_server, token, breakage, sse
):
    reply, message = broken_stream(breakage, after_first_chunk=False)
    model_server.script(reply)

    response = post(service, token, GENERATION, sse=sse)

    assert response.status_code == 503
    assert response.json() == {"message": message}


@pytest.mark.parametrize("breakage", BREAKAGES)
def test_an_sse_stream_whose_model_server_breaks_ends_with_an_error_event(
    service, model_server, token, breakage
):
    reply, message = broken_stream(breakage, after_first_chunk=True)
    model_server.script(reply)

    response = post(service, token, GENERATION, sse=True)

    assert response.status_code == 200
    assert events(read_to_the_end(response)) == [
        ("stream_start", {"model": MODEL}),
        ("content_chunk", {"choices": [{"delta": {"content": GENERATED_FIRST_LINE}, "index": 0}]}),
        ("error", {"message": message}),
    ]


@pytest.mark.parametrize("breakage", BREAKAGES)
def test_a_raw_stream_whose_model_server_breaks_is_broken_off(
    service, model_server, token, breakage
):
    reply, _ = broken_stream(breakage, after_first_chunk=True)
    model_server.script(reply)
    received: list[bytes] = []

    response = post(service, token, GENERATION, sse=False)

    assert response.status_code == 200
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        read_to_the_end(response, received)
    assert b"".join(received).decode() == GENERATED_FIRST_LINE


def test_a_broken_off_stream_is_one_line_in_the_log_not_a_traceback(
    service, model_server, token, server_log
):
    reply, message = broken_stream("a connection closed mid-answer", after_first_chunk=True)
    model_server.script(reply)
    logged_before = server_log.read_text()

    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        read_to_the_end(post(service, token, GENERATION, sse=False))

    logged = [
        json.loads(line)
        for line in server_log.read_text().removeprefix(logged_before).splitlines()
        if '"codesuggest.requests"' not in line  # the request's own line
    ]
    assert len(logged) == 1
    assert logged[0]["message"] == f"A completion stream failed after it started: {message}"
    assert "exc_info" not in logged[0]
