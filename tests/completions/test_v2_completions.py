"""POST /api/v4/code_suggestions/v2/completions: the AI gateway's endpoint, where direct access
sends the language server (`{base_url}/v2/completions`, the short-lived token, `oidc`)."""

import datetime
import json
from collections.abc import Iterator

import pytest
import requests
from django.utils import timezone

from completions.models import UsageEvent
from completions.usage import flush_usage_events
from projects.models import PersonalAccessToken
from tests.completions.conftest import COMPLETIONS, completion_body
from tests.conftest import make_token
from tests.fake_servers import FakeOpenAIServer
from tests.services import server_process

DIRECT_ACCESS = "/api/v4/code_suggestions/direct_access"
V2_COMPLETIONS = "/api/v4/code_suggestions/v2/completions"
UNAUTHORIZED = {"message": "401 Unauthorized"}

# What the language server sends to the gateway (its createV2Request), model details included.
LANGUAGE_SERVER_FIELDS = {
    "prompt_version": 1,
    "project_path": "",
    "project_id": -1,
    "choices_count": 1,
    "intent": "completion",
    "model_provider": "vertex-ai",
    "model_name": "code-gecko",
    "telemetry": [],
}


def direct_access(api, pat: str) -> dict:
    return api.post(DIRECT_ACCESS, token=pat).json()


def post_v2(api, token: str, body: dict | None = None, *, oidc: bool = True, **headers):
    if oidc:
        headers["HTTP_X_GITLAB_AUTHENTICATION_TYPE"] = "oidc"
    return api.post(
        V2_COMPLETIONS,
        completion_body() if body is None else body,
        HTTP_AUTHORIZATION=f"Bearer {token}",
        **headers,
    )


def test_the_direct_access_base_url_leads_to_it(api, upstream, settings, bob_token):
    access = direct_access(api, bob_token)

    response = api.client.post(
        f"{access['base_url']}/v2/completions".removeprefix(settings.CODESUGGEST_URL),
        completion_body(**LANGUAGE_SERVER_FIELDS),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {access['token']}",
        HTTP_X_GITLAB_AUTHENTICATION_TYPE="oidc",
        **{f"HTTP_{name.upper().replace('-', '_')}": v for name, v in access["headers"].items()},
    )

    assert response.status_code == 200
    assert response.json()["choices"][0]["text"] == "return a * b"


def test_it_answers_in_the_gateways_shape(api, upstream, bob_token):
    response = post_v2(api, direct_access(api, bob_token)["token"])

    body = response.json()
    assert set(body) == {"id", "model", "experiments", "object", "created", "choices"}
    assert body["model"] == {"engine": "openai", "name": "gpt-3.5-turbo-instruct", "lang": "python"}
    assert body["experiments"] == []
    assert body["object"] == "text_completion"
    assert isinstance(body["created"], int)
    assert body["choices"] == [{"text": "return a * b", "index": 0, "finish_reason": "stop"}]


def test_the_token_from_the_tokens_endpoint_works_too(api, upstream, bob_token):
    jwt = api.post("/api/v4/code_suggestions/tokens", token=bob_token).json()["access_token"]

    assert post_v2(api, jwt).status_code == 200


def test_it_asks_for_up_to_four_choices_as_the_language_server_does(api, upstream, bob_token):
    upstream.completion_texts = ["return a * b", "return b * a", "return a * b * 1", "return 0"]
    token = direct_access(api, bob_token)["token"]

    response = post_v2(
        api, token, completion_body(**{**LANGUAGE_SERVER_FIELDS, "choices_count": 4})
    )

    assert [choice["index"] for choice in response.json()["choices"]] == [0, 1, 2, 3]
    assert upstream.last.json["n"] == 4


def test_the_token_without_the_oidc_header_gets_401(api, upstream, bob_token):
    response = post_v2(api, direct_access(api, bob_token)["token"], oidc=False)

    assert response.status_code == 401
    assert response.json() == UNAUTHORIZED
    assert upstream.requests == []


@pytest.mark.parametrize("where", ["bearer", "private_token"])
def test_a_personal_access_token_gets_401(api, upstream, bob_token, where):
    if where == "bearer":
        response = post_v2(api, bob_token)
    else:
        response = api.post(
            V2_COMPLETIONS,
            completion_body(),
            token=bob_token,
            HTTP_X_GITLAB_AUTHENTICATION_TYPE="oidc",
        )

    assert response.status_code == 401
    assert response.json() == UNAUTHORIZED


@pytest.mark.parametrize("token", ["garbage", "a.b.c", ""])
def test_garbage_gets_401(api, upstream, world, token):
    response = post_v2(api, token)

    assert response.status_code == 401
    assert response.json() == UNAUTHORIZED


def test_anonymous_callers_get_401_before_their_parameters_are_checked(api, upstream):
    response = api.post(V2_COMPLETIONS, {}, HTTP_X_GITLAB_AUTHENTICATION_TYPE="oidc")

    assert response.status_code == 401
    assert response.json() == UNAUTHORIZED


def test_revoking_the_personal_access_token_kills_its_token(api, upstream, world):
    pat = make_token(world.bob)
    token = direct_access(api, pat)["token"]
    assert post_v2(api, token).status_code == 200

    revoked = PersonalAccessToken.objects.get(user=world.bob)
    revoked.revoked = True
    revoked.save()

    assert post_v2(api, token).status_code == 401


def test_the_personal_access_tokens_expiry_kills_its_token(api, upstream, world, monkeypatch):
    today = timezone.localdate()
    pat = make_token(world.bob, expires_at=today + datetime.timedelta(days=1))
    token = direct_access(api, pat)["token"]
    assert post_v2(api, token).status_code == 200

    # The day the personal access token expires comes, within the short-lived token's hour.
    monkeypatch.setattr(timezone, "localdate", lambda *args: today + datetime.timedelta(days=1))

    response = post_v2(api, token)
    assert response.status_code == 401
    assert response.json() == UNAUTHORIZED


def test_it_checks_parameters_as_the_completions_endpoint_does(api, upstream, bob_token):
    response = post_v2(api, direct_access(api, bob_token)["token"], {"prompt_version": 9})

    assert response.status_code == 400
    assert response.json() == {
        "error": "current_file is missing, prompt_version does not have a valid value"
    }


def test_a_project_with_code_suggestions_off_gets_403(api, upstream, world, bob_token):
    for namespace in (world.project, world.group, world.subgroup):
        namespace.code_suggestions = False
        namespace.save()
    token = direct_access(api, bob_token)["token"]

    response = post_v2(api, token, completion_body(project_path="acme/platform/tools"))

    assert response.status_code == 403
    assert response.json() == {"message": "403 Forbidden"}
    assert upstream.requests == []


def test_a_user_without_code_suggestions_access_gets_401(api, upstream, world, bob_token):
    token = direct_access(api, bob_token)["token"]
    world.bob.code_suggestions_access = False
    world.bob.save()

    assert post_v2(api, token).status_code == 401


def test_it_shares_the_rate_limit_with_the_completions_endpoint(api, upstream, settings, bob_token):
    settings.CODE_SUGGESTIONS_RATE_LIMIT = 2
    token = direct_access(api, bob_token)["token"]

    statuses = [
        api.post(COMPLETIONS, completion_body(), token=bob_token).status_code,
        post_v2(api, token).status_code,
        post_v2(api, token).status_code,
        api.post(COMPLETIONS, completion_body(), token=bob_token).status_code,
    ]

    assert statuses == [200, 200, 429, 429]


def test_each_request_is_recorded_as_a_v2_completion(api, upstream, world, bob_token):
    post_v2(api, direct_access(api, bob_token)["token"])
    flush_usage_events()

    event = UsageEvent.objects.get()
    assert (event.endpoint, event.user, event.status) == ("v2_completions", world.bob, 200)
    assert event.suggestion_chars == len("return a * b")


def test_a_streamed_generation_arrives_as_server_sent_events(api, upstream, bob_token):
    upstream.chat_text = "def multiply(a, b):\n    return a * b\n"
    token = direct_access(api, bob_token)["token"]

    response = post_v2(
        api,
        token,
        completion_body(intent="generation", stream=True),
        HTTP_X_SUPPORTS_SSE_STREAMING="true",
    )

    assert response["X-Streaming-Format"] == "sse"
    body = b"".join(response.streaming_content).decode()
    assert body.startswith("event: stream_start\n")
    assert body.endswith("event: stream_end\ndata: null\n\n")


# Read to the end from a real server process, as the language server reads it: only a real
# server shows how a chunked body ends.


@pytest.fixture(scope="module")
def model_server() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer() as server:
        server.completion_texts = ["return a * b"]
        server.chat_text = "def multiply(a, b):\n    return a * b\n"
        yield server


@pytest.fixture(scope="module")
def service(django_db_setup: None, model_server: FakeOpenAIServer) -> Iterator[str]:
    env = {
        "COMPLETIONS_PROVIDER": "openai",
        "COMPLETIONS_BASE_URL": model_server.url,
        "COMPLETIONS_MODEL": "gpt-3.5-turbo-instruct",
        "CODESUGGEST_EMBEDDED": "true",  # one process, no Redis
    }
    with server_process(env, production=True) as url:
        yield url


def stream_from(service: str, pat: str, fields: dict, *, sse: bool) -> requests.Response:
    access = requests.post(service + DIRECT_ACCESS, headers={"PRIVATE-TOKEN": pat}, timeout=10)
    headers = {
        **access.json()["headers"],
        "Authorization": f"Bearer {access.json()['token']}",
        "X-Gitlab-Authentication-Type": "oidc",
        "X-Supports-Sse-Streaming": "true" if sse else "false",
    }
    return requests.post(
        service + V2_COMPLETIONS,
        json=completion_body(**{**LANGUAGE_SERVER_FIELDS, **fields}),
        headers=headers,
        stream=True,
        timeout=10,
    )


@pytest.mark.django_db(transaction=True)
def test_a_raw_stream_from_a_server_arrives_whole_and_ends(service, world):
    response = stream_from(service, make_token(world.bob), {"stream": True}, sse=False)

    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/event-stream")
    assert b"".join(response.iter_content(chunk_size=None)).decode() == "return a * b"


@pytest.mark.django_db(transaction=True)
def test_an_sse_stream_from_a_server_ends_with_stream_end(service, world):
    fields = {"stream": True, "intent": "generation", "user_instruction": "multiply"}

    response = stream_from(service, make_token(world.bob), fields, sse=True)

    assert response.headers["X-Streaming-Format"] == "sse"
    body = b"".join(response.iter_content(chunk_size=None)).decode()
    blocks = [block.split("\n") for block in body.split("\n\n") if block]
    assert blocks[0][0] == "event: stream_start"
    assert blocks[-1] == ["event: stream_end", "data: null"]
    chunks = [json.loads(lines[1].removeprefix("data: ")) for lines in blocks[1:-1]]
    text = "".join(chunk["choices"][0]["delta"]["content"] for chunk in chunks)
    # The cursor's line has text: the generated code starts on a line of its own.
    assert text == "\ndef multiply(a, b):\n    return a * b\n"
