"""What counts as a credential in a request (docs/api.md#credentials). /api/graphql answers an
anonymous caller, so there a request that carries no credential is told apart from one whose
credential is unknown (401)."""

import pytest

from tests.conftest import make_token
from tests.graphql.conftest import GRAPHQL

pytestmark = pytest.mark.django_db

WHO = {"query": "{ currentUser { username } }"}
ANONYMOUS = {"data": {"currentUser": None}}


def test_a_bearer_scheme_in_any_case_with_spaces_around_the_token_is_that_token(api, world):
    token = make_token(world.bob)

    response = api.post(GRAPHQL, WHO, HTTP_AUTHORIZATION=f"bearer   {token}  ")

    assert response.json() == {"data": {"currentUser": {"username": "bob"}}}


@pytest.mark.parametrize("authorization", ["Basic Ym9iOnNlY3JldA==", "Bearer", "Bearer   "])
def test_an_authorization_header_without_a_bearer_token_is_no_credential(api, world, authorization):
    response = api.post(GRAPHQL, WHO, HTTP_AUTHORIZATION=authorization)

    assert response.status_code == 200
    assert response.json() == ANONYMOUS


@pytest.mark.parametrize("value", [7, ["glpat-a"], {"token": "glpat-a"}, None])
def test_a_private_token_field_that_is_not_text_is_no_credential(api, world, value):
    response = api.post(GRAPHQL, {**WHO, "private_token": value})

    assert response.status_code == 200
    assert response.json() == ANONYMOUS


def test_a_body_that_is_no_object_holds_no_credential_and_is_refused_after(api, world):
    response = api.post(GRAPHQL, '["private_token", "glpat-a"]')

    assert response.status_code == 400
    assert response.json() == {"errors": [{"message": "The request body must be a JSON object"}]}
