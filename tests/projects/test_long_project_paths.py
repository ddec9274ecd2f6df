"""A project path longer than any project's full path (2,048 characters) names no project. The
endpoints that take one as a parameter refuse it (400); GraphQL and the Vertex AI path find no
project. None of them asks the database, which SQLite answers for a pattern past 50,000 bytes
with an error that read as an outage (503, "The database is unavailable")."""

import logging

import pytest

from tests.completions.conftest import COMPLETIONS, completion_body, upstream  # noqa: F401
from tests.conftest import make_token
from tests.fake_servers import openai_server  # noqa: F401  (upstream's)
from tests.graphql.conftest import GET_PROJECT, graphql

ENABLED = "/api/v4/code_suggestions/enabled"
VERTEX = "/v1/projects/{project}/locations/us-central1/publishers/google/models/code-gecko:predict"
LONGEST = 2048
TOO_LONG = {"error": f"project_path must be less than {LONGEST} characters"}

pytestmark = pytest.mark.django_db


@pytest.fixture
def token(world) -> str:
    return make_token(world.bob)


@pytest.fixture
def outages(caplog):
    """What the outage log said ("The database is unavailable: …")."""
    caplog.set_level(logging.WARNING, logger="codesuggest.outages")
    return lambda: [r.getMessage() for r in caplog.records if r.name == "codesuggest.outages"]


def a_path(length: int) -> str:
    return "acme/" + "x" * (length - len("acme/"))


@pytest.mark.parametrize("length", [LONGEST + 1, 100_000])
def test_completions_refuse_a_project_path_longer_than_any_project_has(api, token, outages, length):
    response = api.post(COMPLETIONS, completion_body(project_path=a_path(length)), token=token)

    assert response.status_code == 400
    assert response.json() == TOO_LONG
    assert outages() == []


@pytest.mark.usefixtures("upstream")
def test_completions_serve_a_project_path_as_long_as_a_project_may_have(api, token):
    response = api.post(COMPLETIONS, completion_body(project_path=a_path(LONGEST)), token=token)

    assert response.status_code == 200


@pytest.mark.parametrize("length", [LONGEST + 1, 100_000])
def test_enabled_refuses_a_project_path_longer_than_any_project_has(api, token, outages, length):
    response = api.post(ENABLED, {"project_path": a_path(length)}, token=token)

    assert response.status_code == 400
    assert response.json() == TOO_LONG
    assert outages() == []


def test_enabled_finds_no_project_at_a_path_as_long_as_a_project_may_have(api, token):
    response = api.post(ENABLED, {"project_path": a_path(LONGEST)}, token=token)

    assert response.status_code == 404
    assert response.json() == {"message": "404 Not Found"}


def test_graphql_finds_no_project_at_a_path_longer_than_any_project_has(api, token, outages):
    response = graphql(api, GET_PROJECT, {"projectPath": a_path(100_000)}, token=token)

    assert response.json() == {"data": {"project": None}}
    assert outages() == []


@pytest.mark.usefixtures("upstream")
def test_the_vertex_path_ignores_a_project_longer_than_any_project_has(api, token, outages):
    body = {"instances": [{"prefix": "def f():"}]}

    response = api.post(VERTEX.format(project=a_path(100_000)), body, token=token)

    assert response.status_code == 200
    assert outages() == []
