"""The pages outside the admin: the start page, the API docs, the schema in a browser, and the
page for a path that leads nowhere."""

import re

import pytest
import yaml
from django.contrib.staticfiles import finders
from django.test import Client

from tests.test_schema import API_PATHS
from tests.test_security_headers import EVENT_HANDLER, INLINE_SCRIPT

BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


def test_the_start_page_links_to_the_admin_the_api_docs_and_readiness(client, db):
    response = client.get("/")

    assert response.status_code == 200
    html = response.content.decode()
    for link in ("/admin/", "/api/docs", "/-/readiness", "/-/user_settings/personal_access_tokens"):
        assert f'href="{link}"' in html
    assert 'href="/users/sign_in"' in html


@pytest.mark.parametrize("debug", [False, True])
def test_a_path_that_leads_nowhere_gets_our_plain_404_page(client, db, settings, debug):
    settings.DEBUG = debug

    response = client.get("/no/such/page")

    assert response.status_code == 404
    html = response.content.decode()
    assert "Page not found" in html
    assert "<code>/no/such/page</code>" in html
    # Not Django's debug page, which lists every route.
    assert "URLconf" not in html
    assert "admin/login/" not in html


def test_an_unknown_api_path_still_answers_json(client, db, settings):
    settings.DEBUG = True
    response = client.get("/api/v4/no/such/thing")
    assert response.status_code == 404
    assert response.json() == {"error": "404 Not Found"}


def test_a_path_without_its_slash_is_still_redirected(client, db):
    response = client.get("/admin")
    assert response.status_code == 301
    assert response["Location"] == "/admin/"


def test_the_api_docs_are_swagger_ui_from_this_service(client, db):
    response = client.get("/api/docs")

    assert response.status_code == 200
    html = response.content.decode()
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in sources
    assert all(source.startswith("/") for source in sources), sources
    assert INLINE_SCRIPT.findall(html) == []
    assert EVENT_HANDLER.findall(html) == []
    assert "<style" not in html
    script = client.get("/api/docs?script=")
    assert script.status_code == 200
    assert script["Content-Type"] == "application/javascript"
    assert '"/api/schema"' in script.content.decode()


def test_the_pages_files_are_collected_with_the_static_files():
    for path in (
        "drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js",
        "codesuggest/api_docs.css",
        "codesuggest/site.css",
        "codesuggest/copy.js",
    ):
        assert finders.find(path), path


def test_the_schema_opens_in_a_browser_instead_of_downloading(client, db):
    response = client.get("/api/schema", HTTP_ACCEPT=BROWSER_ACCEPT)

    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response["Content-Disposition"].startswith("inline")
    assert set(yaml.safe_load(response.content)["paths"]) == API_PATHS


@pytest.mark.parametrize(
    ("accept", "content_type"),
    [
        (None, "application/vnd.oai.openapi"),
        ("*/*", "application/vnd.oai.openapi"),
        ("application/vnd.oai.openapi+json", "application/vnd.oai.openapi+json"),
        ("application/json", "application/json"),
    ],
)
def test_clients_get_the_schema_as_before(client, db, accept, content_type):
    headers = {"HTTP_ACCEPT": accept} if accept else {}
    response = client.get("/api/schema", **headers)
    assert response.status_code == 200
    assert response["Content-Type"].split(";")[0] == content_type


@pytest.mark.parametrize("path", ["/", "/api/docs", "/users/sign_in", "/no/such/page"])
def test_every_page_has_the_policy_and_needs_nothing_it_forbids(client, db, path):
    html = client.get(path).content.decode()
    assert INLINE_SCRIPT.findall(html) == []
    assert EVENT_HANDLER.findall(html) == []
    assert "javascript:" not in html
    assert "style=" not in html


def test_a_signed_in_user_sees_their_pages_in_the_header(db, world):
    client = Client()
    client.force_login(world.bob)
    html = client.get("/").content.decode()
    assert "Sign out bob" in html
    assert 'href="/-/user_settings/usage"' in html
    assert 'href="/admin/"' in html  # the start page's card; bob is no admin
