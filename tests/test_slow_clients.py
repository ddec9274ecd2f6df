"""A client that stops sending its body is cut off, and frees its connection slot (issue 11).

Only a real server process shows this: the Django test client hands the body over whole. The
server is the production one (gunicorn.conf.py, as tests/services.py starts it), with a short
read timeout and a single connection slot, so that a stalled client holding the slot would keep
every other client out.
"""

import socket
import time
from collections.abc import Iterator
from urllib.parse import urlparse

import pytest
import requests

from tests.conftest import make_token
from tests.services import server_process

pytestmark = pytest.mark.django_db(transaction=True)

READ_TIMEOUT = 2  # seconds; gunicorn.conf.py's default is 20
ENABLED = "/api/v4/code_suggestions/enabled"


@pytest.fixture
def service(world) -> Iterator[str]:
    env = {
        "CODESUGGEST_EMBEDDED": "true",
        "GUNICORN_CLIENT_READ_TIMEOUT": str(READ_TIMEOUT),
        "GUNICORN_WORKER_CONNECTIONS": "1",
    }
    with server_process(env, production=True) as url:
        yield url


def stalled_request(url: str, token: str) -> socket.socket:
    """A connection that declares a 100-byte body and sends 2 of them."""
    address = urlparse(url)
    sock = socket.create_connection((address.hostname, address.port))
    sock.sendall(
        f"POST {ENABLED} HTTP/1.1\r\nHost: {address.netloc}\r\nPRIVATE-TOKEN: {token}\r\n"
        'Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"'.encode()
    )
    return sock


def read_until_closed(sock: socket.socket, limit: float) -> bytes:
    sock.settimeout(limit)
    received = b""
    while chunk := sock.recv(65536):
        received += chunk
    return received


def test_a_stalled_body_is_refused_and_its_connection_closed(service, world):
    sock = stalled_request(service, make_token(world.alice))
    started = time.monotonic()

    with sock:
        answer = read_until_closed(sock, limit=READ_TIMEOUT + 10)

    assert answer.split(b"\r\n\r\n")[-1] == b'{"message":"408 Request Timeout"}'
    assert READ_TIMEOUT <= time.monotonic() - started < READ_TIMEOUT + 3


def test_a_stalled_client_does_not_keep_others_out(service, world):
    token = make_token(world.alice)
    with stalled_request(service, token):
        time.sleep(0.5)  # the stalled client holds the only slot
        started = time.monotonic()

        response = requests.post(
            service + ENABLED,
            json={"project_path": world.project.full_path},
            headers={"PRIVATE-TOKEN": token},
            timeout=READ_TIMEOUT + 10,
        )

        assert response.status_code == 200
        # Served as soon as the stalled one was cut off, not after it gave up.
        assert time.monotonic() - started < READ_TIMEOUT + 3
