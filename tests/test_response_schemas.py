"""Every endpoint's real answers, successes and errors alike, are what the OpenAPI description
says they are: each body is checked against the schema the description declares for its status
and content type, and each object there is taken as exact, so that a property the view renders
and the description lacks fails, as does one the description requires and the view leaves out.

tests/test_schema.py checks the description itself (it builds, lists every path, states the
limits); tests/test_fuzz.py sends it generated requests through a server process, most of them
refused, and checks the answers against open objects, where a property no one described passes.
Here each operation is called in-process with requests written for it, for its success and for
the errors it describes (those of the provider and the rate limit too, which the fuzz cannot
cause), and a property the description does not name is an error.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from drf_spectacular.generators import SchemaGenerator
from openapi_schema_validator import OAS30ReadValidator, oas30_format_checker

from projects.models import InstanceSettings, PersonalAccessToken, User
from projects.tokens import issue_code_suggestions_token
from tests.completions.conftest import completion_body
from tests.completions.test_telemetry import suggestion_event
from tests.conftest import Api, World, make_token
from tests.fake_servers import FakeOpenAIServer, Reply, openai_server  # noqa: F401

# The chat task runs eagerly, once the question's transaction has committed.
pytestmark = pytest.mark.django_db(transaction=True)

TOKENS = "/api/v4/code_suggestions/tokens"
ENABLED = "/api/v4/code_suggestions/enabled"
COMPLETIONS = "/api/v4/code_suggestions/completions"
DIRECT_ACCESS = "/api/v4/code_suggestions/direct_access"
V2_COMPLETIONS = "/api/v4/code_suggestions/v2/completions"
SAST_SCAN = "/api/v4/projects/acme%2Fwebsite/security_scans/sast/scan"
TRACK_EVENT = "/api/v4/usage_data/track_event"
TRACK_EVENTS = "/api/v4/usage_data/track_events"
CHAT = "/api/v4/chat/completions"
SUBSCRIPTION = "/api/v4/chat/subscriptions/editor-1"
PREDICT = (
    "/v1/projects/acme%2Fwebsite/locations/us-central1/publishers/google/models/"
    "code-gecko@002:predict"
)
PUBLISHER_MODEL = "/v1/publishers/google/models/code-gecko@002"

QUESTION = {"content": "How do I define a class in Ruby?"}
PREDICTION = {"instances": [{"prefix": "def add(a, b):\n    ", "suffix": "\n"}]}

# Operations whose successes are event streams only: not JSON, and Open API 3.0 describes their
# events only as text (tests/chat/test_subscription_stream.py and tests/completions/
# test_streaming.py read them, and the completions' streams). Their errors are checked here.
STREAM_ONLY = {("get", "/api/v4/chat/subscriptions/{subscription_id}")}
# Refused for every project: a scan this service cannot run must not look like a clean result.
NEVER_SUCCEEDS = {("post", "/api/v4/projects/{project}/security_scans/sast/scan")}


# What the service is given before a call, beside the personas' world ------------------------


def project_off(world: World, settings: Any, upstream: FakeOpenAIServer) -> None:
    # acme/website's group, which says off and locks it.
    world.group.code_suggestions = False
    world.group.lock_code_suggestions = True
    world.group.save()


def instance_off(world: World, settings: Any, upstream: FakeOpenAIServer) -> None:
    InstanceSettings(code_suggestions="off").save()


def model_refuses(world: World, settings: Any, upstream: FakeOpenAIServer) -> None:
    upstream.script(Reply(status=400, json={"error": {"message": "Bad request"}}))


def model_too_slow(world: World, settings: Any, upstream: FakeOpenAIServer) -> None:
    settings.COMPLETIONS_TIMEOUT = 0.2
    upstream.script(Reply(delay=1.0, default=True))


def rate_limit_used_up(world: World, settings: Any, upstream: FakeOpenAIServer) -> None:
    settings.CODE_SUGGESTIONS_RATE_LIMIT = 1
    Api().post(COMPLETIONS, completion_body(), token=make_token(world.alice))


def small_body_cap(world: World, settings: Any, upstream: FakeOpenAIServer) -> None:
    settings.MAX_REQUEST_BODY_BYTES = 100


def no_chat(world: World, settings: Any, upstream: FakeOpenAIServer) -> None:
    User.objects.filter(pk=world.alice.pk).update(chat_access=False)


@dataclass(frozen=True)
class Call:
    """One request, and the status it must be answered with."""

    method: str
    path: str
    status: int
    body: Any = None
    # alice's personal access token with the `api` scope, unless: `read_user` (a scope too
    # narrow for the AI endpoints), `expired`, `session` (signed in to the service's pages),
    # `short-lived` (a code-suggestions token, with the gateway's header), or `anonymous`.
    credential: str = "api"
    given: Callable[[World, Any, FakeOpenAIServer], None] | None = None

    def __str__(self) -> str:
        given = f" given {self.given.__name__}" if self.given else ""
        return f"{self.method} {self.path} {self.status} as {self.credential}{given}"


CALLS = [
    Call("post", TOKENS, 201),
    Call("post", TOKENS, 401, credential="anonymous"),
    Call("post", TOKENS, 401, credential="expired"),
    Call("post", TOKENS, 403, credential="read_user"),
    Call("post", ENABLED, 200, {"project_path": "acme/website"}),
    Call("post", ENABLED, 400, {}),
    Call("post", ENABLED, 403, {"project_path": "acme/website"}, given=project_off),
    Call("post", ENABLED, 404, {"project_path": "acme/nowhere"}),
    Call("post", COMPLETIONS, 200, completion_body(project_path="acme/website")),
    Call("post", COMPLETIONS, 400, {}),
    Call("post", COMPLETIONS, 401, completion_body(), credential="anonymous"),
    Call("post", COMPLETIONS, 403, completion_body(project_path="acme/website"), given=project_off),
    Call("post", COMPLETIONS, 403, completion_body(), credential="read_user"),
    Call("post", COMPLETIONS, 404, completion_body(), given=instance_off),
    Call("post", COMPLETIONS, 413, completion_body(), given=small_body_cap),
    Call("post", COMPLETIONS, 429, completion_body(), given=rate_limit_used_up),
    Call("post", COMPLETIONS, 503, completion_body(), given=model_refuses),
    Call("post", COMPLETIONS, 504, completion_body(), given=model_too_slow),
    Call("post", DIRECT_ACCESS, 201),
    Call("post", DIRECT_ACCESS, 401, credential="anonymous"),
    Call("post", DIRECT_ACCESS, 404, given=instance_off),
    Call("post", V2_COMPLETIONS, 200, completion_body(), credential="short-lived"),
    Call("post", V2_COMPLETIONS, 400, {}, credential="short-lived"),
    Call("post", V2_COMPLETIONS, 401, completion_body()),
    Call("get", "/api/v4/user", 200),
    Call("get", "/api/v4/user", 401, credential="anonymous"),
    Call("get", "/api/v4/version", 200),
    Call("get", "/api/v4/version", 401, credential="expired"),
    Call("get", "/api/v4/metadata", 200),
    Call("get", "/api/v4/metadata", 401, credential="anonymous"),
    Call("get", "/api/v4/personal_access_tokens/self", 200),
    Call("get", "/api/v4/personal_access_tokens/self", 400, credential="session"),
    Call("get", "/api/v4/personal_access_tokens/self", 401, credential="anonymous"),
    Call("post", SAST_SCAN, 403, {"file_path": "app.py", "content": "import os"}),
    Call("post", SAST_SCAN.replace("%2F", "%0A"), 404, {"file_path": "a", "content": "b"}),
    Call("post", TRACK_EVENT, 200, suggestion_event()),
    Call("post", TRACK_EVENT, 400, {"event": "page_viewed"}),
    Call("post", TRACK_EVENTS, 200, {"events": [suggestion_event()]}),
    Call("post", TRACK_EVENTS, 401, {"events": [suggestion_event()]}, credential="anonymous"),
    Call("post", CHAT, 201, QUESTION),
    Call("post", CHAT, 400, {}),
    Call("post", CHAT, 404, QUESTION, given=no_chat),
    Call("post", CHAT, 503, QUESTION, given=model_refuses),
    Call("get", SUBSCRIPTION, 401, credential="anonymous"),
    Call("get", SUBSCRIPTION, 404, given=no_chat),
    Call("post", PREDICT, 200, PREDICTION),
    Call("post", PREDICT, 400, {"instances": []}),
    Call("post", PREDICT, 403, PREDICTION, given=project_off),
    Call("get", PUBLISHER_MODEL, 200),
    Call("get", PUBLISHER_MODEL, 401, credential="anonymous"),
]


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    return closed(SchemaGenerator().get_schema(request=None, public=True))


def closed(node: Any) -> Any:
    """The description with every object that names its properties closed to others: the
    served description leaves them open, so that clients accept a property added later."""
    if isinstance(node, list):
        return [closed(item) for item in node]
    if not isinstance(node, dict):
        return node
    described = {key: closed(value) for key, value in node.items()}
    if "properties" in node and "additionalProperties" not in node:
        described["additionalProperties"] = False
    return described


@pytest.fixture
def upstream(settings, openai_server: FakeOpenAIServer) -> FakeOpenAIServer:  # noqa: F811
    """The model server behind every feature."""
    for feature in ("COMPLETIONS", "GENERATIONS", "CHAT"):
        setattr(settings, f"{feature}_PROVIDER", "openai")
        setattr(settings, f"{feature}_BASE_URL", openai_server.url)
        setattr(settings, f"{feature}_MODEL", "test-model")
        setattr(settings, f"{feature}_TIMEOUT", 2.0)
    return openai_server


def send(api: Api, world: World, call: Call) -> Any:
    headers = {}
    token = None
    if call.credential == "api":
        token = make_token(world.alice)
    elif call.credential == "read_user":
        token = make_token(world.alice, ("read_user",))
    elif call.credential == "expired":
        token = make_token(world.alice, expires_at=date(2020, 1, 1))
    elif call.credential == "session":
        api.client.force_login(world.alice)
    elif call.credential == "short-lived":
        pat, _ = PersonalAccessToken.create(user=world.alice, name="test", scopes=["api"])
        jwt = issue_code_suggestions_token(personal_access_token=pat)
        headers |= {
            "HTTP_AUTHORIZATION": f"Bearer {jwt}",
            "HTTP_X_GITLAB_AUTHENTICATION_TYPE": "oidc",
        }
    if call.method == "get":
        return api.get(call.path, token=token, **headers)
    return api.post(call.path, call.body, token=token, **headers)


@pytest.mark.parametrize("call", CALLS, ids=str)
def test_the_answer_is_what_the_description_declares_for_its_status(
    api, world, settings, upstream, schema, call
):
    if call.given:
        call.given(world, settings, upstream)

    response = send(api, world, call)

    assert response.status_code == call.status, response.content
    method, path = operation_of(schema, call)
    declared = schema["paths"][path][method]["responses"].get(str(call.status))
    assert declared, f"{call.status} is not among the answers {method} {path} describes"
    if "content" not in declared:
        assert response.content == b"", "the description says no body"
        return
    media_type = response["Content-Type"].split(";")[0]
    assert media_type in declared["content"], f"{media_type} is not described"
    body_schema = {**declared["content"][media_type]["schema"], "components": schema["components"]}
    validator = OAS30ReadValidator(body_schema, format_checker=oas30_format_checker)
    errors = [
        f"{list(error.absolute_path)}: {error.message}"
        for error in validator.iter_errors(response.json())
    ]
    assert not errors, "\n".join(errors)


def operation_of(schema: dict[str, Any], call: Call) -> tuple[str, str]:
    """The operation a call asks for: its method and the path it is described at."""
    matching = [
        path
        for path, operations in schema["paths"].items()
        if call.method in operations and re.fullmatch(path_pattern(path), call.path)
    ]
    assert len(matching) == 1, f"{call} matches {matching}"
    return call.method, matching[0]


def path_pattern(path: str) -> str:
    """`/projects/{project}/scan` as a pattern: each parameter is one segment, as sent."""
    return "[^/]+".join(re.escape(part) for part in re.split(r"\{\w+\}", path))


def test_every_operation_is_called_for_a_success_and_for_an_error(schema):
    called: dict[tuple[str, str], set[int]] = {}
    for call in CALLS:
        called.setdefault(operation_of(schema, call), set()).add(call.status)

    for path, operations in schema["paths"].items():
        for method in operations:
            statuses = called.get((method, path), set())
            if (method, path) not in STREAM_ONLY | NEVER_SUCCEEDS:
                assert any(status < 300 for status in statuses), f"no success: {method} {path}"
            assert any(status >= 400 for status in statuses), f"no error: {method} {path}"


def test_every_error_the_api_shares_is_called_for():
    statuses = {call.status for call in CALLS}
    assert {400, 401, 403, 404, 413, 429, 503, 504} <= statuses
    # Both bodies of a 401 and of a 403: GitLab's message, and OAuth's.
    assert {"anonymous", "expired"} <= {call.credential for call in CALLS if call.status == 401}
    assert {"api", "read_user"} <= {call.credential for call in CALLS if call.status == 403}
