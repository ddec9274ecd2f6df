"""POST /api/graphql: the queries GitLab's language server sends at start-up and per workspace
(currentUser, project, featureFlagEnabled), through HTTP."""

import pytest

from projects.models import InstanceSettings, User
from tests.conftest import make_token
from tests.graphql.conftest import (
    CHAT_AVAILABLE,
    FEATURE_FLAG,
    GET_PROJECT,
    GET_USER,
    GRAPHQL,
    SUGGESTIONS_AVAILABLE,
    data_of,
    graphql,
)

pytestmark = pytest.mark.django_db


# currentUser -----------------------------------------------------------------------------------


def test_it_tells_the_language_server_that_code_suggestions_are_available(api, tokens):
    response = graphql(api, SUGGESTIONS_AVAILABLE, token=tokens["alice"])

    assert data_of(response) == {"currentUser": {"duoCodeSuggestionsAvailable": True}}


def test_it_answers_each_query_of_the_same_operation_name_with_its_own_fields(api, tokens):
    first = graphql(api, SUGGESTIONS_AVAILABLE, token=tokens["alice"])
    second = graphql(api, CHAT_AVAILABLE, token=tokens["alice"])

    assert data_of(first) == {"currentUser": {"duoCodeSuggestionsAvailable": True}}
    assert data_of(second) == {"currentUser": {"duoChatAvailable": True}}


def test_it_says_code_suggestions_are_unavailable_to_a_user_they_were_withdrawn_from(
    api, tokens, world
):
    User.objects.filter(pk=world.bob.pk).update(code_suggestions_access=False)

    response = graphql(api, SUGGESTIONS_AVAILABLE, token=tokens["bob"])

    assert data_of(response) == {"currentUser": {"duoCodeSuggestionsAvailable": False}}


def test_it_says_code_suggestions_are_unavailable_when_the_instance_forces_them_off(api, tokens):
    InstanceSettings.objects.create(code_suggestions="off")

    response = graphql(api, SUGGESTIONS_AVAILABLE, token=tokens["alice"])

    assert data_of(response) == {"currentUser": {"duoCodeSuggestionsAvailable": False}}


def test_it_says_chat_is_unavailable_to_a_user_it_was_withdrawn_from(api, tokens, world):
    User.objects.filter(pk=world.bob.pk).update(chat_access=False)
    query = "{ currentUser { duoChatAvailable duoChatAvailableFeatures } }"

    response = graphql(api, query, token=tokens["bob"])

    assert data_of(response) == {
        "currentUser": {"duoChatAvailable": False, "duoChatAvailableFeatures": []}
    }


def test_it_lists_the_chat_features_by_gitlabs_names(api, tokens):
    response = graphql(api, "{ currentUser { duoChatAvailableFeatures } }", token=tokens["alice"])

    assert data_of(response)["currentUser"]["duoChatAvailableFeatures"] == [
        "include_file_context",
        "include_snippet_context",
        "include_merge_request_context",
        "include_issue_context",
        "include_dependency_context",
        "include_local_git_context",
    ]


def test_it_gives_the_user_with_a_gitlab_global_id(api, tokens, world):
    world.alice.first_name, world.alice.last_name = "Alice", "Adams"
    world.alice.save()

    response = graphql(api, GET_USER, token=tokens["alice"])

    assert data_of(response) == {
        "currentUser": {
            "id": f"gid://gitlab/User/{world.alice.pk}",
            "username": "alice",
            "name": "Alice Adams",
        }
    }


def test_it_answers_an_anonymous_caller_with_a_null_current_user(api, world):
    response = graphql(api, GET_USER)

    assert data_of(response) == {"currentUser": None}


def test_it_accepts_the_token_in_private_token_too(api, tokens):
    response = api.post(GRAPHQL, {"query": GET_USER}, token=tokens["bob"])

    assert data_of(response)["currentUser"]["username"] == "bob"


def test_it_refuses_an_unknown_token_with_401(api, world):
    response = graphql(api, GET_USER, token="glpat-not-a-real-token-at-all")

    assert response.status_code == 401
    assert response.json() == {"message": "401 Unauthorized"}


def test_it_refuses_a_token_without_an_api_or_ai_scope(api, world):
    token = make_token(world.alice, ("read_user",))

    response = graphql(api, GET_USER, token=token)

    assert response.status_code == 403
    assert response.json()["error"] == "insufficient_scope"


@pytest.mark.parametrize("scope", ["api", "read_api", "ai_features"])
def test_it_answers_queries_for_tokens_with_api_read_api_or_ai_features(api, world, scope):
    token = make_token(world.alice, (scope,))

    response = graphql(api, SUGGESTIONS_AVAILABLE, token=token)

    assert data_of(response) == {"currentUser": {"duoCodeSuggestionsAvailable": True}}


def test_it_answers_a_query_sent_with_get(api, tokens):
    response = api.get(f"{GRAPHQL}?query={GET_USER}", token=tokens["alice"])

    assert data_of(response)["currentUser"]["username"] == "alice"


def test_it_runs_the_operation_the_request_names(api, tokens):
    document = f"{GET_USER} {SUGGESTIONS_AVAILABLE}"

    response = graphql(api, document, token=tokens["alice"], operation_name="suggestionsAvailable")

    assert data_of(response) == {"currentUser": {"duoCodeSuggestionsAvailable": True}}


def test_it_ignores_variables_the_document_does_not_declare(api, tokens):
    response = graphql(api, GET_USER, {"additionalContext": [], "x": 1}, token=tokens["alice"])

    assert data_of(response)["currentUser"]["username"] == "alice"


@pytest.mark.parametrize("variables", ["[" * 10_000 + "]" * 10_000, '{"x": 1e400}', "{oops"])
def test_variables_sent_as_bad_json_text_are_a_graphql_error(api, tokens, variables):
    body = {"query": GET_USER, "variables": variables}

    response = api.post(GRAPHQL, body, HTTP_AUTHORIZATION=f"Bearer {tokens['alice']}")

    assert response.status_code == 200
    assert response.json()["errors"][0]["message"] == "Variables are invalid JSON"


# project ---------------------------------------------------------------------------------------


def test_it_says_duo_features_are_enabled_for_a_members_project(api, tokens, world):
    response = graphql(
        api, GET_PROJECT, {"projectPath": "acme/platform/tools"}, token=tokens["bob"]
    )

    assert data_of(response) == {"project": {"duoFeaturesEnabled": True}}


def test_it_follows_the_enabled_rule_for_duo_features(api, tokens, world):
    world.subgroup.code_suggestions = False
    world.subgroup.lock_code_suggestions = True
    world.subgroup.save()

    response = graphql(
        api, GET_PROJECT, {"projectPath": "ACME/platform/tools"}, token=tokens["bob"]
    )

    assert data_of(response) == {"project": {"duoFeaturesEnabled": False}}


def test_it_gives_the_projects_id_full_path_and_name(api, tokens, world):
    query = "query($p: ID!) { project(fullPath: $p) { id fullPath name } }"

    response = graphql(api, query, {"p": "acme/platform/tools"}, token=tokens["alice"])

    assert data_of(response) == {
        "project": {
            "id": f"gid://gitlab/Project/{world.project.pk}",
            "fullPath": "acme/platform/tools",
            "name": "Tools",
        }
    }


def test_it_answers_a_hidden_private_project_as_a_missing_one(api, tokens, world):
    hidden = graphql(
        api, GET_PROJECT, {"projectPath": "acme/platform/tools"}, token=tokens["charlie"]
    )
    missing = graphql(
        api, GET_PROJECT, {"projectPath": "acme/platform/nope"}, token=tokens["charlie"]
    )

    assert data_of(hidden) == data_of(missing) == {"project": None}


def test_it_shows_a_public_project_to_an_anonymous_caller(api, world):
    response = graphql(api, GET_PROJECT, {"projectPath": "acme/website"})

    assert data_of(response) == {"project": {"duoFeaturesEnabled": True}}


def test_it_hides_a_private_project_from_an_anonymous_caller(api, world):
    response = graphql(api, GET_PROJECT, {"projectPath": "acme/platform/tools"})

    assert data_of(response) == {"project": None}


# featureFlagEnabled ----------------------------------------------------------------------------


def test_it_says_the_context_flags_the_language_server_asks_about_are_on(api, tokens):
    response = graphql(api, FEATURE_FLAG, {"name": "code_suggestions_context"}, token=tokens["bob"])

    assert data_of(response) == {"featureFlagEnabled": True}


def test_it_says_an_unknown_feature_flag_is_off(api, tokens):
    response = graphql(api, FEATURE_FLAG, {"name": "no_such_flag"}, token=tokens["bob"])

    assert data_of(response) == {"featureFlagEnabled": False}


# Errors ----------------------------------------------------------------------------------------


def test_it_answers_a_syntax_error_with_200_and_errors_but_no_data(api, tokens):
    response = graphql(api, "query { currentUser { id ", token=tokens["alice"])

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"errors"}
    assert body["errors"][0]["message"].startswith("Syntax Error")
    assert body["errors"][0]["locations"]


def test_it_answers_an_unknown_field_with_errors_and_no_data(api, tokens):
    response = graphql(api, "{ currentUser { id password } }", token=tokens["alice"])

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"errors"}
    assert "Cannot query field 'password'" in body["errors"][0]["message"]


def test_it_answers_a_missing_variable_with_errors(api, tokens):
    response = graphql(api, FEATURE_FLAG, token=tokens["alice"])

    assert set(response.json()) == {"errors"}
    assert "$name" in response.json()["errors"][0]["message"]


def test_it_answers_a_request_without_a_query_with_errors(api, tokens):
    response = api.post(GRAPHQL, {"variables": {}}, HTTP_AUTHORIZATION=f"Bearer {tokens['bob']}")

    assert response.json() == {"errors": [{"message": "No query string was present"}]}


def test_it_refuses_a_mutation_sent_with_get(api, tokens):
    response = api.get(
        f"{GRAPHQL}?query=mutation{{aiAction(input:{{}}){{errors}}}}", token=tokens["alice"]
    )

    assert response.status_code == 405
    assert set(response.json()) == {"errors"}


def test_an_operation_name_the_document_does_not_hold_is_an_error_not_a_crash(api, tokens):
    response = graphql(api, SUGGESTIONS_AVAILABLE, token=tokens["alice"], operation_name="nope")

    assert response.status_code == 200
    assert response.json() == {"errors": [{"message": 'Unknown operation named "nope".'}]}


def test_an_operation_name_that_is_no_string_is_an_error(api, tokens):
    body = {"query": GET_USER, "operationName": ["getUser"]}

    response = api.post(GRAPHQL, body, HTTP_AUTHORIZATION=f"Bearer {tokens['alice']}")

    assert response.json() == {"errors": [{"message": "operationName must be a string"}]}
