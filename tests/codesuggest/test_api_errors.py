"""GitLab's error answers for what no view raises itself (codesuggest/api/errors.py): constants
JSON does not have, the exceptions of DRF and Django, a server error, an outage."""

import json

import pytest
from django.http import Http404, UnreadablePostError
from rest_framework import exceptions as drf

from codesuggest.api import errors
from codesuggest.providers import ProviderTimeout
from tests.conftest import make_token

COMPLETIONS = "/api/v4/code_suggestions/completions"


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_a_constant_json_does_not_have_is_malformed_json(api, world, constant):
    response = api.post(
        COMPLETIONS, f'{{"choices_count": {constant}}}', token=make_token(world.bob)
    )

    assert response.status_code == 400
    assert response.json() == {
        "error": "JSON parse error - Out of range float values are not JSON compliant: "
        f"'{constant}'"
    }


@pytest.mark.parametrize(
    ("exception", "status", "body"),
    [
        (UnreadablePostError("cut short"), 408, {"message": "408 Request Timeout"}),
        (ProviderTimeout("The model timed out"), 504, {"message": "The model timed out"}),
        (drf.NotAuthenticated(), 401, {"message": "401 Unauthorized"}),
        (drf.PermissionDenied(), 403, {"message": "403 Forbidden"}),
        (Http404(), 404, {"message": "404 Not Found"}),
        (drf.MethodNotAllowed("PATCH"), 405, {"error": "405 Not Allowed"}),
        (drf.NotAcceptable(), 406, {"error": "406 Not Acceptable"}),
        (drf.UnsupportedMediaType("text/xml"), 415, {"error": "415 Unsupported Media Type"}),
        (RuntimeError("a bug"), 500, {"message": "500 Internal Server Error"}),
    ],
)
def test_each_exception_is_answered_as_gitlab_would(exception, status, body):
    error = errors.as_api_error(exception)

    assert (error.status, error.body, error.headers) == (status, body, {})


def test_an_outage_is_a_503_that_says_when_to_try_again():
    response = errors.error_response(errors.service_unavailable("chat cannot queue questions"))

    assert response.status_code == 503
    assert json.loads(response.content) == {
        "message": "503 Service Unavailable - chat cannot queue questions"
    }
    assert response["Retry-After"] == "5"


def test_a_server_error_outside_the_api_views_is_gitlabs_json(rf):
    response = errors.handle_server_error(rf.get("/api/v4/user"))

    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    assert json.loads(response.content) == {"message": "500 Internal Server Error"}
