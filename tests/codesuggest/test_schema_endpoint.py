"""GET /api/schema as its readers get it: YAML shown as text in a browser, the OpenAPI types for
clients, errors left as they are, and the words Swagger UI shows for each way to sign in."""

import json

import pytest
import yaml

from tests.conftest import make_token

SCHEMA = "/api/schema"
# What a browser sends when the address is typed in.
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
PAT = "A personal access token with the scope the endpoint needs."

pytestmark = pytest.mark.django_db


def served(client) -> dict:
    response = client.get(SCHEMA, {"format": "json"})
    assert response.status_code == 200
    return json.loads(response.content)


# What is served to whom ---------------------------------------------------------------------------


@pytest.mark.parametrize("query", [{}, {"format": "yaml"}])
def test_a_browser_is_shown_the_yaml_as_text_instead_of_downloading_it(client, query):
    response = client.get(SCHEMA, query, HTTP_ACCEPT=BROWSER_ACCEPT)

    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response["Content-Disposition"] == 'inline; filename="codesuggest.yaml"'
    assert yaml.safe_load(response.content)["info"]["title"] == "codesuggest"


def test_a_browser_that_asks_for_json_gets_the_openapi_json_type(client):
    response = client.get(SCHEMA, {"format": "json"}, HTTP_ACCEPT=BROWSER_ACCEPT)

    assert response.status_code == 200
    assert response["Content-Type"].split(";")[0] == "application/vnd.oai.openapi+json"
    assert json.loads(response.content)["openapi"].startswith("3.")


@pytest.mark.parametrize(
    ("accept", "content_type"),
    [
        (None, "application/vnd.oai.openapi"),
        ("*/*", "application/vnd.oai.openapi"),
        ("application/vnd.oai.openapi", "application/vnd.oai.openapi"),
        ("application/yaml", "application/yaml"),
        ("application/json", "application/json"),
    ],
)
def test_a_client_gets_the_type_it_asks_for(client, accept, content_type):
    headers = {"HTTP_ACCEPT": accept} if accept else {}

    response = client.get(SCHEMA, **headers)

    assert response.status_code == 200
    assert response["Content-Type"].split(";")[0] == content_type
    assert response["Content-Disposition"].startswith("inline")


@pytest.mark.parametrize(
    ("query", "accept", "status"),
    [({"format": "bogus"}, BROWSER_ACCEPT, 404), ({}, "text/html", 406)],
)
def test_an_error_is_not_passed_off_as_the_schema_shown_as_text(client, query, accept, status):
    response = client.get(SCHEMA, query, HTTP_ACCEPT=accept)

    assert response.status_code == status
    assert response["Content-Type"].split(";")[0] == "application/vnd.oai.openapi"
    assert "openapi" not in yaml.safe_load(response.content)


# How to sign in, as Swagger UI shows it -----------------------------------------------------------


def test_it_describes_each_way_to_present_a_credential_in_words(client):
    schemes = served(client)["components"]["securitySchemes"]

    assert schemes == {
        "privateTokenHeader": {
            "type": "apiKey",
            "in": "header",
            "name": "PRIVATE-TOKEN",
            "description": PAT,
        },
        "privateTokenQuery": {
            "type": "apiKey",
            "in": "query",
            "name": "private_token",
            "description": f"{PAT} Also accepted as a form or JSON body field of that name.",
        },
        "bearerToken": {"type": "http", "scheme": "bearer", "description": PAT},
        "codeSuggestionsToken": {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "The short-lived token from `POST /api/v4/code_suggestions/tokens`,"
            " accepted by the code-suggestion endpoints only.",
        },
        "gatewayToken": {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "The short-lived token from `POST /api/v4/code_suggestions/"
            "direct_access` or `/tokens`, with the header `X-Gitlab-Authentication-Type: oidc`;"
            " nothing else.",
        },
        "sessionCookie": {
            "type": "apiKey",
            "in": "cookie",
            "name": "sessionid",
            "description": "A signed-in user of the service's own pages (with Django's CSRF"
            " token on unsafe methods).",
        },
    }


@pytest.mark.parametrize(
    ("method", "path", "takes_the_short_lived_token"),
    [
        ("get", "/api/v4/user", False),
        ("post", "/api/v4/chat/completions", False),
        ("post", "/api/v4/code_suggestions/tokens", False),
        ("post", "/api/v4/code_suggestions/completions", True),
        ("post", "/api/v4/code_suggestions/direct_access", True),
    ],
)
def test_each_operation_lists_every_credential_it_takes_as_an_alternative(
    client, method, path, takes_the_short_lived_token
):
    operation = served(client)["paths"][path][method]

    tokens = ["privateTokenHeader", "privateTokenQuery", "bearerToken"]
    if takes_the_short_lived_token:
        tokens.append("codeSuggestionsToken")
    assert operation["security"] == [{name: []} for name in [*tokens, "sessionCookie"]]


def test_a_client_that_sends_its_token_along_gets_the_schema_too(client, world):
    response = client.get(SCHEMA, HTTP_PRIVATE_TOKEN=make_token(world.bob))

    assert response.status_code == 200
    assert yaml.safe_load(response.content)["info"]["title"] == "codesuggest"


def test_a_short_lived_token_sent_along_is_refused_as_everywhere_but_code_suggestions(
    api, client, world
):
    minted = api.post("/api/v4/code_suggestions/tokens", token=make_token(world.bob))
    jwt = minted.json()["access_token"]

    response = client.get(SCHEMA, HTTP_AUTHORIZATION=f"Bearer {jwt}")

    assert response.status_code == 401
    assert yaml.safe_load(response.content) == {"message": "401 Unauthorized"}
