"""GraphQL helpers: the documents GitLab's language server sends (docs/api.md#graphql), and a
client that posts them as it does."""

from typing import Any

from tests.chat.conftest import chat_model, tokens  # noqa: F401  (fixtures used by name)
from tests.conftest import Api
from tests.fake_servers import openai_server  # noqa: F401  (chat_model's)

GRAPHQL = "/api/graphql"

SUGGESTIONS_AVAILABLE = "query suggestionsAvailable { currentUser { duoCodeSuggestionsAvailable } }"
CHAT_AVAILABLE = "query suggestionsAvailable { currentUser { duoChatAvailable } }"
FEATURE_FLAG = "query featureFlagsEnabled($name: String!) { featureFlagEnabled(name: $name) }"
GET_PROJECT = (
    "query GetProject($projectPath: ID!) { project(fullPath: $projectPath) { duoFeaturesEnabled } }"
)
GET_USER = "query getUser { currentUser { id username name } }"
CHAT_MUTATION = """
mutation chat($question: String!, $resourceId: AiModelID, $currentFileContext: AiCurrentFileInput,
  $clientSubscriptionId: String, $platformOrigin: String!) {
  aiAction(input: { chat: { resourceId: $resourceId, content: $question,
    currentFile: $currentFileContext } clientSubscriptionId: $clientSubscriptionId,
    platformOrigin: $platformOrigin }) { requestId errors }
}"""
GET_AI_MESSAGES = """
query getAiMessages($requestIds: [ID!], $roles: [AiMessageRole!]) {
  aiMessages(requestIds: $requestIds, roles: $roles) {
    nodes { requestId role content contentHtml timestamp errors extras { sources } }
  }
}"""


def graphql(
    api: Api,
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    token: str | None = None,
    operation_name: str | None = None,
):
    """POST a document with `Authorization: Bearer`, as the language server does."""
    body: dict[str, Any] = {"query": query, "variables": variables or {}}
    if operation_name is not None:
        body["operationName"] = operation_name
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    return api.post(GRAPHQL, body, **headers)


def data_of(response) -> dict[str, Any]:
    """The `data` of a successful answer, which has no `errors` key (clients throw on one)."""
    assert response.status_code == 200, response.content
    body = response.json()
    assert "errors" not in body, body
    return body["data"]
