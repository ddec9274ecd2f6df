"""A browser session must send its CSRF token to /api/graphql; a token-authenticated client
must not need one (as everywhere in the API)."""

import json

import pytest
from django.test import Client

from tests.graphql.conftest import GET_USER, GRAPHQL

pytestmark = pytest.mark.django_db

BODY = json.dumps({"query": GET_USER})


@pytest.fixture
def browser(world) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.alice)
    return client


def test_it_refuses_a_browser_session_without_its_csrf_token(browser):
    response = browser.post(GRAPHQL, BODY, content_type="application/json")

    assert response.status_code == 403


def test_it_answers_a_browser_session_with_its_csrf_token(browser):
    browser.get("/admin/login/")  # a page with a form sets the CSRF cookie
    csrf = browser.cookies["csrftoken"].value

    response = browser.post(GRAPHQL, BODY, content_type="application/json", HTTP_X_CSRFTOKEN=csrf)

    assert response.json()["data"]["currentUser"]["username"] == "alice"


def test_it_needs_no_csrf_token_from_a_token_client(tokens):
    client = Client(enforce_csrf_checks=True)

    response = client.post(
        GRAPHQL,
        BODY,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {tokens['alice']}",
    )

    assert response.json()["data"]["currentUser"]["username"] == "alice"
