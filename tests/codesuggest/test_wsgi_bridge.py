"""codesuggest/wsgi_bridge.py, through a real server (gunicorn's ASGI worker, gunicorn.conf.py):
the environ a WSGI application sees, a response streamed in pieces, a client that goes away,
and a response broken off on purpose.

The small WSGI application below (`echo_application`) is served by the bridge in a process of
its own; this module is what that process imports, so Django-dependent imports stay inside the
tests that need them.
"""

import hashlib
import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

from codesuggest.wsgi_bridge import WsgiBridge
from tests.fake_servers import FakeOpenAIServer, Reply, sse
from tests.services import server_process

COMPLETIONS = "/api/v4/code_suggestions/completions"
ENVIRON_KEYS = (
    "REQUEST_METHOD",
    "SCRIPT_NAME",
    "PATH_INFO",
    "QUERY_STRING",
    "SERVER_NAME",
    "SERVER_PORT",
    "SERVER_PROTOCOL",
    "REMOTE_ADDR",
    "CONTENT_TYPE",
    "CONTENT_LENGTH",
    "HTTP_X_FORWARDED_FOR",
    "HTTP_X_FORWARDED_PROTO",
    "HTTP_X_CUSTOM",
    "wsgi.url_scheme",
)
PIECE_SECONDS = 0.5


def _echo(environ: dict[str, Any], start_response: Any) -> Iterator[bytes] | list[bytes]:
    path = environ["PATH_INFO"]
    if path == "/stream":
        start_response("200 OK", [("Content-Type", "text/plain")])
        return _pieces()
    if path == "/broken":
        start_response("200 OK", [("Content-Type", "text/plain")])
        return _broken_off()
    body = environ["wsgi.input"].read()
    seen = {key: environ.get(key) for key in ENVIRON_KEYS}
    seen |= {"body_bytes": len(body), "body_sha256": hashlib.sha256(body).hexdigest()}
    start_response("200 OK", [("Content-Type", "application/json"), ("X-Echo", "yes")])
    return [json.dumps(seen).encode()]


def _pieces() -> Iterator[bytes]:
    yield b"first\n"
    time.sleep(PIECE_SECONDS)
    yield b"second\n"


def _broken_off() -> Iterator[bytes]:
    yield b"first\n"
    raise ConnectionResetError("broken off on purpose")


echo_application = WsgiBridge(_echo, threads=4, max_body_bytes=2_000_000)


@pytest.fixture(scope="module")
def server_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("echo") / "output.log"


@pytest.fixture(scope="module")
def echo(django_db_setup: None, server_log: Path) -> Iterator[str]:
    app = "tests.codesuggest.test_wsgi_bridge:echo_application"
    with server_process({"CODESUGGEST_EMBEDDED": "true"}, production=True, app=app,
                        worker_class="asgi", log=server_log) as url:  # fmt: skip
        yield url


def test_the_application_sees_the_request_as_a_wsgi_server_passes_it(echo):
    response = requests.post(
        f"{echo}/some/p%C3%A4th?a=1&b=two%20words",
        data=b'{"x": 1}',
        headers={
            "Content-Type": "application/json",
            "X-Forwarded-For": "203.0.113.7",
            "X-Forwarded-Proto": "https",
            "X-Custom": "one",
        },
        timeout=10,
    )

    assert response.status_code == 200
    assert response.headers["X-Echo"] == "yes"
    port = str(urlsplit(echo).port)
    assert response.json() == {
        "REQUEST_METHOD": "POST",
        "SCRIPT_NAME": "",
        "PATH_INFO": "/some/päth".encode().decode("latin-1"),
        "QUERY_STRING": "a=1&b=two%20words",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": port,
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": "8",
        "HTTP_X_FORWARDED_FOR": "203.0.113.7",
        "HTTP_X_FORWARDED_PROTO": "https",
        "HTTP_X_CUSTOM": "one",
        # gunicorn trusts X-Forwarded-Proto from loopback (forwarded_allow_ips).
        "wsgi.url_scheme": "https",
        "body_bytes": 8,
        "body_sha256": hashlib.sha256(b'{"x": 1}').hexdigest(),
    }


def test_a_large_body_arrives_whole(echo):
    body = bytes(range(256)) * 6000  # 1.5 MB, in many reads

    seen = requests.post(f"{echo}/upload", data=body, timeout=10).json()

    assert seen["body_bytes"] == len(body)
    assert seen["body_sha256"] == hashlib.sha256(body).hexdigest()


def test_a_body_longer_than_the_limit_is_left_unread(echo):
    seen = requests.post(f"{echo}/upload", data=b"x" * 2_000_001, timeout=10).json()

    assert seen["CONTENT_LENGTH"] == "2000001"
    assert seen["body_bytes"] == 0


def test_a_stream_arrives_in_pieces_as_they_are_written(echo):
    started = time.monotonic()
    with requests.get(f"{echo}/stream", stream=True, timeout=10) as response:
        pieces = response.iter_content(chunk_size=None)
        assert next(pieces) == b"first\n"
        assert time.monotonic() - started < PIECE_SECONDS
        assert b"".join(pieces) == b"second\n"


def test_a_broken_off_stream_closes_the_connection_without_a_log_line(echo, server_log):
    logged_before = server_log.read_text()
    received: list[bytes] = []

    with requests.get(f"{echo}/broken", stream=True, timeout=10) as response:
        pieces = response.iter_content(chunk_size=None)
        with pytest.raises(requests.exceptions.ChunkedEncodingError):
            received.extend(pieces)

    assert received == [b"first\n"]
    assert server_log.read_text() == logged_before


# The service itself: a client that leaves a streamed generation ---------------------------------


@pytest.fixture
def model_server() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer() as server:
        yield server


@pytest.mark.django_db(transaction=True)
def test_a_client_that_leaves_a_stream_stops_the_model_request(model_server, world):
    from tests.conftest import make_token  # Django is set up by now (see the module docstring)

    events = [{"choices": [{"index": 0, "delta": {"content": f"line{i}\n"}}]} for i in range(100)]
    model_server.script(Reply(chunks=sse(*events), chunk_delay=0.05))
    env = {
        "CODESUGGEST_EMBEDDED": "true",
        "COMPLETIONS_PROVIDER": "openai",
        "COMPLETIONS_BASE_URL": model_server.url,
        "COMPLETIONS_MODEL": "gpt-3.5-turbo-instruct",
    }
    token = make_token(world.bob, scopes=("ai_features",))
    body = json.dumps(
        {
            "current_file": {"file_name": "calc.py", "content_above_cursor": "def multiply("},
            "intent": "generation",
            "user_instruction": "multiply two numbers",
            "stream": True,
        }
    ).encode()

    with server_process(env, production=True) as url:
        address = urlsplit(url)
        with socket.create_connection((address.hostname, address.port), timeout=10) as client:
            client.sendall(
                f"POST {COMPLETIONS} HTTP/1.1\r\nHost: localhost\r\nPRIVATE-TOKEN: {token}\r\n"
                "Content-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\n\r\n".encode()
                + body
            )
            assert b" 200 " in client.recv(4096)

        assert model_server.client_went_away.wait(timeout=10), "the model request ran on"
    assert model_server.chunks_sent < 20
