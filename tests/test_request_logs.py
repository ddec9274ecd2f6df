"""Logs: one JSON line per request from the server as deployed, with the request id it answered
in X-Request-Id, and never a token, a prompt or a body."""

import json
import re

import pytest
import requests

from tests.completions.conftest import COMPLETIONS, completion_body
from tests.conftest import make_token
from tests.services import server_process

pytestmark = pytest.mark.django_db(transaction=True)

TOKEN_IN_QUERY = "glpat-query-token-0123456789"


def log_lines(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.startswith("{")]


def test_the_server_logs_each_request_once_as_json_with_its_request_id(tmp_path, world):
    log = tmp_path / "server.log"
    token = make_token(world.bob)
    with server_process({"CODESUGGEST_EMBEDDED": "true", "LOG_FORMAT": "json"}, log=log) as url:
        response = requests.post(
            f"{url}{COMPLETIONS}?private_token={TOKEN_IN_QUERY}",
            json=completion_body(),
            headers={"PRIVATE-TOKEN": token, "X-Request-Id": "proxy-id-42"},
            timeout=30,
        )

    assert response.headers["X-Request-Id"] == "proxy-id-42"
    lines = [
        line
        for line in log_lines(log)
        if line["logger"] == "codesuggest.requests" and line.get("request_id") == "proxy-id-42"
    ]
    assert len(lines) == 1
    line = lines[0]
    assert {key: line[key] for key in ("method", "path", "endpoint")} == {
        "method": "POST",
        "path": COMPLETIONS,
        "endpoint": "api/v4/code_suggestions/completions",
    }
    assert line["status"] == response.status_code
    assert line["level"] == "INFO"
    assert line["duration_ms"] > 0
    written = log.read_text()
    # Neither credential, nor the code sent around the cursor.
    assert TOKEN_IN_QUERY not in written
    assert token not in written
    assert "def multiply" not in written


def test_a_refused_request_logs_no_query_string_either(tmp_path):
    log = tmp_path / "server.log"
    with server_process({"CODESUGGEST_EMBEDDED": "true", "LOG_FORMAT": "json"}, log=log) as url:
        response = requests.get(f"{url}/no-such-page?private_token={TOKEN_IN_QUERY}", timeout=30)

    assert response.status_code == 404
    assert any(line.get("status") == 404 for line in log_lines(log))
    assert TOKEN_IN_QUERY not in log.read_text()


@pytest.mark.parametrize("sent", ["", "has spaces", "x" * 200, 'a"}\n{"level":"ERROR"'])
def test_an_unlikely_incoming_request_id_is_replaced(client, sent):
    response = client.get("/-/liveness", HTTP_X_REQUEST_ID=sent)

    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-Id"])


def test_each_request_gets_an_id_of_its_own(client):
    ids = {client.get("/-/liveness")["X-Request-Id"] for _ in range(3)}

    assert len(ids) == 3


def test_plain_logs_are_for_a_terminal(tmp_path):
    log = tmp_path / "server.log"
    with server_process({"CODESUGGEST_EMBEDDED": "true", "LOG_FORMAT": "plain"}, log=log) as url:
        requests.get(f"{url}/-/liveness", timeout=30)

    assert re.search(
        r" INFO codesuggest\.requests GET /-/liveness 200 \d+ms$", log.read_text(), re.M
    )
