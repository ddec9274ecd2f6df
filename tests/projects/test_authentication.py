"""Credentials on every /api/v4 endpoint: where a token may be sent, and how a bad one fails
(docs/api.md#credentials, #errors). GET /api/v4/user stands in for any endpoint."""

from datetime import timedelta
from unittest import mock
from urllib.parse import urlencode

import pytest
from django.core.cache import cache
from django.db import connection
from django.utils import timezone

from projects.models import PersonalAccessToken
from tests.conftest import INSUFFICIENT_SCOPE, make_token

URL = "/api/v4/user"
UNAUTHORIZED = {"message": "401 Unauthorized"}
EXPIRED = "Token is expired. You can either do re-authorization or token refresh."
REVOKED = "Token was revoked. You have to re-authorize from the user."


def challenge(description: str) -> str:
    return f'Bearer realm="The API", error="invalid_token", error_description="{description}"'


def test_it_accepts_the_private_token_header(api, world):
    response = api.get(URL, token=make_token(world.alice))
    assert response.status_code == 200
    assert response.json()["username"] == "alice"


def test_it_accepts_the_private_token_query_parameter(api, world):
    response = api.get(f"{URL}?private_token={make_token(world.alice)}")
    assert response.status_code == 200
    assert response.json()["username"] == "alice"


def test_it_accepts_the_private_token_json_body_field(api, world):
    body = {"project_path": "acme/website", "private_token": make_token(world.alice)}
    response = api.post("/api/v4/code_suggestions/enabled", body)
    assert response.status_code == 200


def test_it_accepts_the_private_token_form_body_field(api, world):
    response = api.client.post(
        "/api/v4/code_suggestions/enabled",
        urlencode({"project_path": "acme/website", "private_token": make_token(world.alice)}),
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200


def test_it_accepts_the_private_token_multipart_body_field(api, world):
    response = api.client.post(
        "/api/v4/code_suggestions/enabled",
        {"project_path": "acme/website", "private_token": make_token(world.alice)},
    )
    assert response.status_code == 200


def test_it_accepts_a_bearer_personal_access_token(api, world):
    response = api.get(URL, HTTP_AUTHORIZATION=f"Bearer {make_token(world.alice)}")
    assert response.status_code == 200
    assert response.json()["username"] == "alice"


def test_the_header_comes_before_the_query_parameter(api, world):
    response = api.get(
        f"{URL}?private_token={make_token(world.bob)}", token=make_token(world.alice)
    )
    assert response.json()["username"] == "alice"


def test_a_bad_header_is_not_rescued_by_a_good_query_parameter(api, world):
    response = api.get(f"{URL}?private_token={make_token(world.bob)}", token="glpat-unknown")
    assert response.status_code == 401


def test_the_query_parameter_comes_before_the_body_field(api, world):
    body = {"project_path": "acme/website", "private_token": make_token(world.alice)}
    read_api = make_token(world.charlie, ("read_api",))
    response = api.post(f"/api/v4/code_suggestions/enabled?private_token={read_api}", body)
    assert response.status_code == 403  # charlie's read_api token decided


def test_the_query_parameter_comes_before_bearer(api, world):
    response = api.get(
        f"{URL}?private_token={make_token(world.alice)}",
        HTTP_AUTHORIZATION=f"Bearer {make_token(world.bob)}",
    )
    assert response.json()["username"] == "alice"


def test_the_body_field_comes_before_bearer(api, world):
    body = {"project_path": "acme/platform/tools", "private_token": make_token(world.charlie)}
    response = api.post(
        "/api/v4/code_suggestions/enabled",
        body,
        HTTP_AUTHORIZATION=f"Bearer {make_token(world.alice)}",
    )
    assert response.status_code == 404  # charlie cannot see the private project


def test_the_header_comes_before_bearer(api, world):
    response = api.get(
        URL, token=make_token(world.alice), HTTP_AUTHORIZATION=f"Bearer {make_token(world.bob)}"
    )
    assert response.json()["username"] == "alice"


def test_it_answers_401_without_a_credential(api, world):
    response = api.get(URL)
    assert response.status_code == 401
    assert response.json() == UNAUTHORIZED


@pytest.mark.parametrize("where", ["header", "query", "bearer"])
def test_it_answers_401_for_an_unknown_token(api, world, where):
    unknown = "glpat-thisisnotatokenanyoneissued"
    if where == "header":
        response = api.get(URL, token=unknown)
    elif where == "query":
        response = api.get(f"{URL}?private_token={unknown}")
    else:
        response = api.get(URL, HTTP_AUTHORIZATION=f"Bearer {unknown}")
    assert response.status_code == 401
    assert response.json() == UNAUTHORIZED


def test_it_answers_401_for_an_unknown_bearer_jwt_shaped_token(api, world):
    response = api.post(
        "/api/v4/code_suggestions/completions", {}, HTTP_AUTHORIZATION="Bearer a.b.c"
    )
    assert response.status_code == 401
    assert response.json() == UNAUTHORIZED


def test_a_token_expiring_today_is_expired(api, world):
    token = make_token(world.alice, expires_at=timezone.localdate())
    response = api.get(URL, token=token)
    assert response.status_code == 401
    assert response.json() == {"error": "invalid_token", "error_description": EXPIRED}
    assert response["WWW-Authenticate"] == challenge(EXPIRED)


def test_a_token_expiring_tomorrow_still_works(api, world):
    token = make_token(world.alice, expires_at=timezone.localdate() + timedelta(days=1))
    assert api.get(URL, token=token).status_code == 200


def test_a_revoked_token_is_refused(api, world):
    plaintext = make_token(world.alice)
    PersonalAccessToken.objects.filter(user=world.alice).update(revoked=True)
    response = api.get(URL, token=plaintext)
    assert response.status_code == 401
    assert response.json() == {"error": "invalid_token", "error_description": REVOKED}
    assert response["WWW-Authenticate"] == challenge(REVOKED)


def test_expiry_is_reported_before_revocation(api, world):
    plaintext = make_token(world.alice, expires_at=timezone.localdate())
    PersonalAccessToken.objects.filter(user=world.alice).update(revoked=True)
    assert api.get(URL, token=plaintext).json()["error_description"] == EXPIRED


def test_a_read_api_token_lacks_the_scope_for_code_suggestions(api, world):
    response = api.post(
        "/api/v4/code_suggestions/enabled",
        {"project_path": "acme/website"},
        token=make_token(world.alice, ("read_api",)),
    )
    assert response.status_code == 403
    assert response.json() == INSUFFICIENT_SCOPE


def test_revocation_is_reported_before_scope(api, world):
    plaintext = make_token(world.alice, ("read_api",))
    PersonalAccessToken.objects.filter(user=world.alice).update(revoked=True)
    response = api.post(
        "/api/v4/code_suggestions/enabled", {"project_path": "acme/website"}, token=plaintext
    )
    assert response.status_code == 401
    assert response.json()["error_description"] == REVOKED


def test_a_blocked_user_is_refused(api, world):
    plaintext = make_token(world.alice)
    world.alice.is_active = False
    world.alice.save()
    response = api.get(URL, token=plaintext)
    assert response.status_code == 403
    assert response.json() == {"message": "403 Forbidden - Your account has been blocked."}


def test_an_anonymous_request_with_bad_parameters_gets_401(api, world):
    response = api.post("/api/v4/code_suggestions/enabled", {"project_path": 5})
    assert response.status_code == 401
    assert response.json() == UNAUTHORIZED


def test_an_anonymous_request_with_a_malformed_body_gets_401(api, world):
    response = api.post("/api/v4/code_suggestions/enabled", "{not json")
    assert response.status_code == 401
    assert response.json() == UNAUTHORIZED


def test_an_anonymous_request_with_a_strange_content_type_gets_401(api, world):
    response = api.client.post(
        "/api/v4/code_suggestions/enabled", "project_path", content_type="text/plain"
    )
    assert response.status_code == 401
    assert response.json() == UNAUTHORIZED


def test_it_stores_only_a_digest_of_the_token(world):
    plaintext = make_token(world.alice)
    secret_part = plaintext.removeprefix("glpat-")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {PersonalAccessToken._meta.db_table}")  # noqa: S608
        rows = cursor.fetchall()
    assert rows
    assert not any(secret_part in str(value) for row in rows for value in row)


def test_it_records_when_a_token_was_last_used(api, world):
    plaintext = make_token(world.alice)
    assert PersonalAccessToken.objects.get().last_used_at is None
    api.get(URL, token=plaintext)
    last_used_at = PersonalAccessToken.objects.get().last_used_at
    assert last_used_at is not None
    assert timezone.now() - last_used_at < timedelta(seconds=10)


def test_it_writes_last_used_at_at_most_once_a_minute(api, world):
    plaintext = make_token(world.alice)
    start = timezone.now()
    with mock.patch("django.utils.timezone.now", return_value=start):
        api.get(URL, token=plaintext)
    with mock.patch("django.utils.timezone.now", return_value=start + timedelta(seconds=59)):
        api.get(URL, token=plaintext)
    assert PersonalAccessToken.objects.get().last_used_at == start

    # The once-a-minute marker lives in the cache with a one-minute expiry; emptying the cache
    # stands for that minute passing.
    cache.clear()
    later = start + timedelta(seconds=61)
    with mock.patch("django.utils.timezone.now", return_value=later):
        api.get(URL, token=plaintext)
    assert PersonalAccessToken.objects.get().last_used_at == later


def test_a_repeated_request_within_a_minute_touches_no_database(
    api, world, django_assert_num_queries
):
    plaintext = make_token(world.alice)
    api.get(URL, token=plaintext)
    with django_assert_num_queries(0):  # the token comes from the cache; no UPDATE
        api.get(URL, token=plaintext)
