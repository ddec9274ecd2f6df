"""The exact answers of /api/graphql when a request goes wrong: what a client sees, status and
body, for a request that is not GraphQL, a mutation sent with GET, and an error raised while
the document runs (GraphQL's `errors` entries, with where in the document it happened)."""

import json
from urllib.parse import urlencode

import pytest

from chat.models import Message
from tests.conftest import make_token
from tests.graphql.conftest import FEATURE_FLAG, GET_USER, GRAPHQL, graphql
from tests.services import free_port

pytestmark = pytest.mark.django_db

RESOURCE_NOT_AVAILABLE = (
    "The resource that you are attempting to access does not exist or you don't have "
    "permission to perform this action"
)
# One line, so that where the field is can be written down: aiAction starts at column 12.
ASK = (
    'mutation { aiAction(input: {chat: {content: "Hi?"}, clientSubscriptionId: "editor-1"})'
    " { requestId errors } }"
)
AI_ACTION_AT = {"locations": [{"line": 1, "column": 12}], "path": ["aiAction"]}


@pytest.fixture
def token(world) -> str:
    return make_token(world.alice)


def errors_of(message: str) -> dict:
    """The body of a request refused before any document ran: a message and nothing else."""
    return {"errors": [{"message": message}]}


# Requests that are not GraphQL --------------------------------------------------------------------


@pytest.mark.parametrize("body", [{}, {"query": ""}, {"query": "  \n "}, {"query": 7}])
def test_a_request_without_a_query_string_is_told_so_with_200(api, token, body):
    response = api.post(GRAPHQL, body, token=token)

    assert response.status_code == 200
    assert response.json() == errors_of("No query string was present")


@pytest.mark.parametrize("body", ["[]", '["query"]', '"{ currentUser { id } }"', "7"])
def test_a_body_that_is_not_a_json_object_is_a_400(api, token, body):
    response = api.post(GRAPHQL, body, token=token)

    assert response.status_code == 400
    assert response.json() == errors_of("The request body must be a JSON object")


@pytest.mark.parametrize("variables", [["x"], "[1, 2]", '"text"', 7])
def test_variables_that_are_not_an_object_are_refused(api, token, variables):
    response = api.post(GRAPHQL, {"query": FEATURE_FLAG, "variables": variables}, token=token)

    assert response.status_code == 200
    assert response.json() == errors_of("Variables must be a JSON object")


def test_variables_sent_as_json_text_are_read_as_the_object_they_encode(api, token):
    variables = json.dumps({"name": "code_suggestions_context"})

    response = api.post(GRAPHQL, {"query": FEATURE_FLAG, "variables": variables}, token=token)

    assert response.json() == {"data": {"featureFlagEnabled": True}}


@pytest.mark.parametrize("variables", ["", None, {}])
def test_empty_variables_are_no_variables(api, token, world, variables):
    response = api.post(GRAPHQL, {"query": GET_USER, "variables": variables}, token=token)

    user = {"id": f"gid://gitlab/User/{world.alice.pk}", "username": "alice", "name": "alice"}
    assert response.json() == {"data": {"currentUser": user}}


# GET ----------------------------------------------------------------------------------------------


def test_a_query_sent_with_get_takes_its_variables_and_operation_from_the_query_string(api, token):
    document = f"{GET_USER} {FEATURE_FLAG}"
    query = urlencode(
        {
            "query": document,
            "variables": json.dumps({"name": "no_such_flag"}),
            "operationName": "featureFlagsEnabled",
        }
    )

    response = api.get(f"{GRAPHQL}?{query}", token=token)

    assert response.status_code == 200
    assert response.json() == {"data": {"featureFlagEnabled": False}}


def test_a_mutation_sent_with_get_is_a_405_and_changes_nothing(api, token):
    response = api.get(f"{GRAPHQL}?{urlencode({'query': ASK})}", token=token)

    assert response.status_code == 405
    assert response.json() == errors_of("Mutations must be sent with POST")
    assert not Message.objects.exists()


# Errors raised while the document runs --------------------------------------------------------


def test_a_refusal_inside_a_resolver_says_where_and_leaves_the_field_null(api, world):
    response = graphql(api, ASK)  # anonymous: there is no one to ask for

    assert response.status_code == 200
    assert response.json() == {
        "errors": [{"message": RESOURCE_NOT_AVAILABLE, **AI_ACTION_AT}],
        "data": {"aiAction": None},
    }


def test_a_token_that_may_only_read_is_refused_a_question_with_gitlabs_message(api, world):
    response = graphql(api, ASK, token=make_token(world.alice, ("read_api",)))

    assert response.json() == {
        "errors": [
            {
                "message": "The request requires higher privileges than provided by the access "
                "token.",
                **AI_ACTION_AT,
            }
        ],
        "data": {"aiAction": None},
    }
    assert not Message.objects.exists()


def test_a_service_error_inside_a_resolver_is_told_as_the_rest_api_tells_it(api, token, settings):
    # The relay a streamed answer would be published on cannot be reached: REST answers 503.
    settings.CHAT_REDIS_URL = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there

    response = graphql(api, ASK, token=token)

    assert response.status_code == 200
    assert response.json() == {
        "errors": [
            {
                "message": "503 Service Unavailable - chat cannot reach its answer relay (Redis); "
                "nothing was asked",
                **AI_ACTION_AT,
            }
        ],
        "data": {"aiAction": None},
    }
    assert not Message.objects.exists()
