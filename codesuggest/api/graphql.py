"""`/api/graphql`: GitLab's GraphQL endpoint, run by strawberry against the schema the apps
contribute to (composed in codesuggest/graphql.py).

Credentials and CSRF are the API's (authentication.py): a bad token is 401 before anything is
executed, an anonymous caller is let through (`currentUser` is then null), and a browser
session needs its CSRF token. Everything after that is GraphQL's: status 200, and problems in
an `errors` array of the spec's shape, never mixed with a successful answer.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NewType, cast

import strawberry
from graphql import GraphQLError
from rest_framework.exceptions import ParseError
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType
from strawberry.types.scalar import ScalarDefinition

from codesuggest.api import parsers
from codesuggest.api.errors import as_api_error
from codesuggest.api.scopes import AI_SCOPES
from codesuggest.api.views import ApiView

if TYPE_CHECKING:  # for annotations only: the apps depend on this package, not the reverse
    from projects.authentication import Credential
    from projects.models import User

# GitLab's GraphQL takes `api` and `read_api` tokens; `ai_features` is enough here because every
# field of this schema serves the AI features. Writing (aiAction) needs `api` or `ai_features`.
READ_SCOPES = ("api", "read_api", "ai_features")
WRITE_SCOPES = AI_SCOPES

# GitLab's message for a record that is missing or hidden: the two must look alike.
RESOURCE_NOT_AVAILABLE = (
    "The resource that you are attempting to access does not exist or you don't have "
    "permission to perform this action"
)
GLOBAL_ID = re.compile(r"gid://gitlab/(?P<type>[A-Za-z][A-Za-z0-9:]*)/(?P<id>[^/]+)")


@dataclass(frozen=True)
class Context:
    """What every resolver may know about the caller: `info.context`."""

    user: User | None
    credential: Credential | None

    def require_user(self) -> User:
        if self.user is None:
            raise GraphQLError(RESOURCE_NOT_AVAILABLE)
        return self.user

    def require_write_scope(self) -> None:
        token = self.credential.token if self.credential else None
        if token is not None and not token.has_any_scope(WRITE_SCOPES):
            raise GraphQLError(
                "The request requires higher privileges than provided by the access token."
            )


Info = strawberry.Info[Context, None]


# Global IDs ------------------------------------------------------------------------------------


def global_id(type_name: str, pk: Any) -> str:
    return f"gid://gitlab/{type_name}/{pk}"


def parse_global_id(value: Any) -> str:
    if not isinstance(value, str) or not GLOBAL_ID.fullmatch(value):
        raise ValueError(f"{json.dumps(value)} is not a valid Global ID")
    return value


def global_id_parts(value: str) -> tuple[str, str]:
    """("Project", "1") for gid://gitlab/Project/1 (the scalars have checked the form)."""
    match = GLOBAL_ID.fullmatch(value)
    assert match is not None
    return match["type"], match["id"]


def global_id_scalar(name: str, description: str) -> ScalarDefinition:
    return strawberry.scalar(
        name=name, description=description, serialize=str, parse_value=parse_global_id
    )


# GitLab's global ID scalars: strings of the form gid://gitlab/<Type>/<id>.
UserID = NewType("UserID", str)
AiModelID = NewType("AiModelID", str)
ProjectID = NewType("ProjectID", str)
GLOBAL_ID_SCALARS: dict[object, ScalarDefinition] = {
    UserID: global_id_scalar("UserID", "A global ID of a user: gid://gitlab/User/1."),
    AiModelID: global_id_scalar(
        "AiModelID", "A global ID of a resource AI features act on: gid://gitlab/Project/1."
    ),
    ProjectID: global_id_scalar("ProjectID", "A global ID of a project."),
}
# GitLab's timestamps: ISO 8601 in UTC (views.gitlab_time gives the string).
Time = NewType("Time", str)
SCALARS: dict[object, ScalarDefinition] = {
    **GLOBAL_ID_SCALARS,
    Time: strawberry.scalar(name="Time", description="An ISO 8601 time.", serialize=str),
}


# The endpoint ----------------------------------------------------------------------------------


class GraphQLView(ApiView):
    """POST {query, variables, operationName}; GET ?query=… for queries only."""

    graphql_schema: strawberry.Schema | None = None  # given to as_view()
    # Not in the OpenAPI description: GraphQL describes itself (README, "GraphQL").
    schema = None
    required_scopes = READ_SCOPES
    permission_classes = [AllowAny]

    def get(self, request: Request) -> Response:
        return self.execute(request.query_params, allowed={OperationType.QUERY})

    def post(self, request: Request) -> Response:
        body = self.body(request)
        if not isinstance(body, dict):
            return graphql_errors("The request body must be a JSON object", status=400)
        return self.execute(body, allowed=set(OperationType))

    def execute(self, params: Any, *, allowed: set[OperationType]) -> Response:
        query = params.get("query")
        if not isinstance(query, str) or not query.strip():
            return graphql_errors("No query string was present")
        variables = params.get("variables") or None
        if isinstance(variables, str):  # some clients send the variables JSON-encoded
            try:
                variables = parsers.loads(variables)
            except ParseError:
                return graphql_errors("Variables are invalid JSON")
        if variables is not None and not isinstance(variables, dict):
            return graphql_errors("Variables must be a JSON object")
        operation_name = params.get("operationName") or None
        if operation_name is not None and not isinstance(operation_name, str):
            return graphql_errors("operationName must be a string")
        assert self.graphql_schema is not None, "GraphQLView.as_view(graphql_schema=…)"
        try:
            result = self.graphql_schema.execute_sync(
                query,
                variable_values=variables,
                context_value=Context(user=self.user, credential=self.credential),
                operation_name=operation_name,
                allowed_operation_types=allowed,
            )
        except InvalidOperationTypeError:
            # GET must not change anything (GraphQL over HTTP).
            return graphql_errors("Mutations must be sent with POST", status=405)
        except CannotGetOperationTypeError as error:
            # No operation of that name, or several and none named.
            return graphql_errors(error.as_http_error_reason())
        return Response(result_body(result))


def result_body(result: ExecutionResult) -> dict[str, Any]:
    """The spec's response: `errors` only when there are some, `data` unless nothing ran."""
    body: dict[str, Any] = {}
    if result.errors:
        body["errors"] = [error_body(error) for error in result.errors]
    if result.data is not None or not result.errors:
        body["data"] = result.data
    return body


def error_body(error: GraphQLError) -> dict[str, Any]:
    """An error as the spec shapes it. A resolver's own GraphQLError says what it means; any
    other exception is told as the REST API would tell it (a 503's reason, never a traceback)."""
    original = error.original_error
    if original is not None and not isinstance(original, GraphQLError):
        api_error = as_api_error(cast(Exception, original))
        body = api_error.body if isinstance(api_error.body, dict) else {}
        message = body.get("message") or body.get("error") or "Internal server error"
        error = GraphQLError(str(message), error.nodes, error.source, error.positions, error.path)
    return cast(dict[str, Any], error.formatted)


def graphql_errors(message: str, status: int = 200) -> Response:
    return Response({"errors": [{"message": message}]}, status=status)


class Schema(strawberry.Schema):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(config=StrawberryConfig(scalar_map=SCALARS), **kwargs)

    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        """Expected errors are answers, not incidents; unexpected ones are logged once, by
        as_api_error, when the response is built."""
