"""What every /api/v4 response shares: malformed and oversized bodies, unknown routes and the
security headers (docs/api.md#errors)."""

import io
import json

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.test import override_settings

from tests.conftest import make_token

ENABLED = "/api/v4/code_suggestions/enabled"


def test_a_malformed_json_body_gets_400_with_a_reason(api, world):
    response = api.post(ENABLED, "{not json", token=make_token(world.alice))
    assert response.status_code == 400
    body = response.json()
    assert set(body) == {"error"}
    assert body["error"]


def test_a_malformed_json_body_gets_400_with_a_bearer_token(api, world):
    response = api.post(
        ENABLED, "{not json", HTTP_AUTHORIZATION=f"Bearer {make_token(world.alice)}"
    )
    assert response.status_code == 400
    assert set(response.json()) == {"error"}
    assert response.json()["error"] != "project_path is missing"


@override_settings(MAX_REQUEST_BODY_BYTES=100)
def test_a_body_over_the_cap_gets_413(api, world):
    body = {"project_path": "acme/website", "padding": "x" * 200}
    response = api.post(ENABLED, body, token=make_token(world.alice))
    assert response.status_code == 413
    assert response.json() == {"message": "413 Request Entity Too Large"}


@override_settings(MAX_REQUEST_BODY_BYTES=100)
def test_a_body_at_the_cap_is_accepted(api, world):
    body = json.dumps({"project_path": "acme/website"})
    body += " " * (100 - len(body))
    response = api.post(ENABLED, body, token=make_token(world.alice))
    assert response.status_code == 200


class UnreadableBody(io.RawIOBase):
    """A request body that remembers whether anyone tried to read it."""

    read_attempted = False

    def read(self, size=-1):
        self.read_attempted = True
        return b""

    def readline(self, size=-1):
        self.read_attempted = True
        return b""


@override_settings(MAX_REQUEST_BODY_BYTES=100)
def test_an_oversized_body_is_refused_without_being_read(world):
    body = UnreadableBody()
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": ENABLED,
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "80",
        "HTTP_HOST": "localhost",
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": "5000000",
        "wsgi.input": body,
        "wsgi.url_scheme": "http",
    }
    statuses = []
    chunks = WSGIHandler()(environ, lambda status, headers: statuses.append(status))
    assert statuses == ["413 Request Entity Too Large"]
    assert json.loads(b"".join(chunks)) == {"message": "413 Request Entity Too Large"}
    assert not body.read_attempted


@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize(
    "path", ["/api/v4", "/api/v4/", "/api/v4/nothing", "/api/v4/projects/1/issues", "/api/v4/user/"]
)
def test_an_unknown_route_gets_gitlabs_404(api, world, method, path):
    response = getattr(api, method)(path, token=make_token(world.alice))
    assert response.status_code == 404
    assert response.json() == {"error": "404 Not Found"}


def test_an_unknown_route_gets_404_without_credentials(api, world):
    response = api.post("/api/v4/nothing")
    assert response.status_code == 404
    assert response.json() == {"error": "404 Not Found"}


@pytest.mark.parametrize(
    ("method", "path", "token"),
    [
        ("get", "/api/v4/user", True),
        ("get", "/api/v4/user", False),
        ("get", "/api/v4/nothing", False),
        ("post", ENABLED, True),
        ("post", "/api/v4/code_suggestions/tokens", False),
    ],
)
def test_every_response_carries_the_security_headers(api, world, method, path, token):
    response = getattr(api, method)(path, token=make_token(world.alice) if token else None)
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "SAMEORIGIN"


@override_settings(MAX_REQUEST_BODY_BYTES=10)
def test_a_413_carries_the_security_headers(api, world):
    response = api.post(ENABLED, {"project_path": "acme/website"})
    assert response.status_code == 413
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "SAMEORIGIN"


def test_responses_are_json(api, world):
    response = api.get("/api/v4/user", token=make_token(world.alice))
    assert response["Content-Type"] == "application/json"
