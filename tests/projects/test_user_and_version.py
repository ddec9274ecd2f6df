"""GET /api/v4/user, /version and /metadata: what editor clients ask first
(docs/api.md#users-and-tokens)."""

import re

import pytest
from django.conf import settings

from tests.conftest import make_token

SEMVER = re.compile(r"^(\d+)\.(\d+)\.(\d+)(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$")
GITLAB_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def test_it_describes_the_current_user(api, world):
    world.alice.first_name, world.alice.last_name = "Alice", "Liddell"
    world.alice.save()
    response = api.get("/api/v4/user", token=make_token(world.alice))
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == world.alice.pk
    assert body["username"] == "alice"
    assert body["name"] == "Alice Liddell"
    assert body["state"] == "active"
    assert "avatar_url" in body
    assert body["web_url"] == f"{settings.CODESUGGEST_URL}/alice"
    assert GITLAB_TIME.match(body["created_at"])
    assert body["email"] == "alice@example.com"
    assert body["is_admin"] is False


def test_it_names_a_user_without_a_full_name_by_username(api, world):
    assert api.get("/api/v4/user", token=make_token(world.bob)).json()["name"] == "bob"


def test_it_says_whether_the_user_is_an_admin(api, world):
    world.charlie.is_superuser = True
    world.charlie.save()
    assert api.get("/api/v4/user", token=make_token(world.charlie)).json()["is_admin"] is True


def test_it_accepts_a_read_user_token(api, world):
    response = api.get("/api/v4/user", token=make_token(world.alice, ("read_user",)))
    assert response.status_code == 200


def test_it_refuses_an_anonymous_caller(api, world):
    response = api.get("/api/v4/user")
    assert response.status_code == 401
    assert response.json() == {"message": "401 Unauthorized"}


@pytest.mark.parametrize("path", ["/api/v4/version", "/api/v4/metadata"])
def test_it_reports_a_version_new_enough_for_gitlab_editor_clients(api, world, path):
    response = api.get(path, token=make_token(world.alice))
    assert response.status_code == 200
    body = response.json()
    match = SEMVER.match(body["version"])
    assert match, body["version"]
    assert tuple(int(part) for part in match.groups()) >= (17, 2, 0)
    assert isinstance(body["revision"], str)
    assert body["revision"]


@pytest.mark.parametrize("path", ["/api/v4/version", "/api/v4/metadata"])
def test_the_version_needs_a_credential(api, world, path):
    response = api.get(path)
    assert response.status_code == 401
    assert response.json() == {"message": "401 Unauthorized"}


# What GitLab's language server calls, and from which version (docs/api.md#gitlab-compatibility).
LANGUAGE_SERVER_CALLS = [
    ((0, 0, 0), "get", "/api/v4/version"),
    ((0, 0, 0), "get", "/api/v4/personal_access_tokens/self"),
    ((0, 0, 0), "post", "/api/graphql"),
    ((16, 8, 0), "post", "/api/v4/code_suggestions/completions"),
    ((17, 2, 0), "post", "/api/v4/code_suggestions/direct_access"),
    ((17, 2, 0), "post", "/api/v4/code_suggestions/v2/completions"),
    ((17, 2, 0), "post", "/api/v4/usage_data/track_event"),
    # Real-time SAST scans (opt-in in the editor): refused for every project.
    ((17, 5, 0), "post", "/api/v4/projects/acme%2Ftools/security_scans/sast/scan"),
]


def reported_version(api, world) -> tuple[int, ...]:
    version = api.get("/api/v4/version", token=make_token(world.alice)).json()["version"]
    match = SEMVER.match(version)
    assert match, version
    return tuple(int(part) for part in match.groups())


def test_the_version_is_the_one_constant(api, world):
    assert reported_version(api, world) == tuple(
        int(part) for part in settings.CODESUGGEST_VERSION.split(".")
    )


def test_every_call_the_language_server_makes_at_that_version_is_served(api, world):
    version = reported_version(api, world)

    for since, method, path in LANGUAGE_SERVER_CALLS:
        if since <= version:
            response = getattr(api, method)(path)
            # Anonymous calls: a served path refuses them; an unknown one is the catch-all 404.
            assert response.status_code != 404, path


@pytest.mark.parametrize("project", ["acme%2Fplatform%2Ftools", "acme%2Fno-such-project", "7"])
def test_a_sast_scan_is_refused_alike_for_every_project(api, world, project):
    response = api.post(
        f"/api/v4/projects/{project}/security_scans/sast/scan",
        {"file_path": "app.py", "content": "import os"},
        token=make_token(world.bob),
    )

    assert response.status_code == 403
    assert response.json() == {"message": "403 Forbidden"}
