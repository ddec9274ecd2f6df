"""How /api/graphql tells what went wrong (codesuggest/api/graphql.py): a value that is no Global
ID is named in the error, and an exception from inside a resolver is told as the REST API would
tell it, never with its own text (which may hold internals)."""

import pytest
import strawberry
from graphql import GraphQLError

from codesuggest.api import errors
from codesuggest.api.graphql import ProjectID, Schema, error_body
from tests.chat.conftest import chat_model, tokens  # noqa: F401  (fixtures used by name)
from tests.fake_servers import openai_server  # noqa: F401  (chat_model's)
from tests.graphql.conftest import CHAT_MUTATION, graphql


@pytest.mark.django_db(transaction=True)
def test_a_value_that_is_no_global_id_is_named_in_the_error(api, tokens, chat_model):  # noqa: F811
    variables = {"question": "Hi?", "resourceId": "42", "platformOrigin": "vs_code_extension"}

    response = graphql(api, CHAT_MUTATION, variables, token=tokens["alice"])

    assert '"42" is not a valid Global ID' in response.json()["errors"][0]["message"]
    assert chat_model.requests == []


def test_an_api_error_inside_a_resolver_is_told_with_its_message():
    error = GraphQLError("raw", original_error=errors.service_unavailable("the relay is down"))

    assert error_body(error)["message"] == "503 Service Unavailable - the relay is down"


def test_an_unexpected_exception_inside_a_resolver_is_an_internal_error():
    error = GraphQLError("password=hunter2", original_error=RuntimeError("password=hunter2"))

    assert error_body(error)["message"] == "500 Internal Server Error"


def test_a_resolvers_own_graphql_error_keeps_its_message():
    error = GraphQLError("Not yours", original_error=GraphQLError("Not yours"))

    assert error_body(error)["message"] == "Not yours"


@strawberry.type
class EchoQuery:
    @strawberry.field
    def echo(self, id: ProjectID) -> ProjectID:
        return id


def test_a_schema_takes_and_gives_global_ids_as_gitlabs_scalars():
    # Built while the test runs: the service's own schema is built when its module is imported.
    schema = Schema(query=EchoQuery)
    document = "query($id: ProjectID!) { echo(id: $id) }"

    echoed = schema.execute_sync(document, variable_values={"id": "gid://gitlab/Project/7"})
    refused = schema.execute_sync(document, variable_values={"id": "7"})

    assert echoed.data == {"echo": "gid://gitlab/Project/7"}
    assert '"7" is not a valid Global ID' in refused.errors[0].message
    assert '"""A global ID of a project."""\nscalar ProjectID' in schema.as_str()
