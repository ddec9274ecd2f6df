"""The whole REST API fuzzed from its own OpenAPI description (schemathesis), against a real server
process: no request, valid or not, gets a 500, every answer matches the description, a valid
request is accepted and an invalid one refused with a 4xx.

Bounded to run in about a minute a pass on two shared cores: a fixed small number of examples
per operation and mode, derandomized, so a failure is the same on every run. Each request
carries the credential its endpoint takes (the gateway's endpoint a short-lived token, the
others a personal access token); the model servers are fakes that answer at once.
"""

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.core.control import SkipTest

from projects.models import AccessLevel, Group, Membership, Project, User
from tests.conftest import make_token
from tests.fake_servers import FakeOpenAIServer
from tests.services import server_process

# The test database is set up only for tests that ask for it; the rows the server process needs
# are written once, by the module's fixture, and outlive each test's transaction.
pytestmark = pytest.mark.django_db

# Invalid requests are cheaper (most are refused before any work) and more varied.
EXAMPLES_PER_OPERATION = {GenerationMode.POSITIVE: 8, GenerationMode.NEGATIVE: 50}
MAX_LINE = 2000  # characters of a failure's report line
GATEWAY = "/api/v4/code_suggestions/v2/completions"


@dataclass(frozen=True)
class Service:
    url: str
    token: str  # a personal access token with every scope
    gateway_token: str  # the short-lived token the gateway's endpoint takes

    def headers_for(self, path: str) -> dict[str, str]:
        # The gateway's `X-Gitlab-Authentication-Type: oidc` is the schema's to send (or, in an
        # invalid request, to get wrong).
        if path == GATEWAY:
            return {"Authorization": f"Bearer {self.gateway_token}"}
        return {"PRIVATE-TOKEN": self.token}


@pytest.fixture(scope="module")
def service(django_db_setup, django_db_blocker) -> Iterator[Service]:
    with django_db_blocker.unblock(), FakeOpenAIServer() as model:
        user = User.objects.create_user("fuzz", email="fuzz@example.com")
        group = Group.objects.create(name="Fuzz", path="fuzz")
        Project.objects.create(name="Tools", path="tools", group=group)
        Membership.objects.create(user=user, group=group, access_level=AccessLevel.OWNER)
        token = make_token(user, scopes=("api", "read_api", "read_user", "ai_features"))
        env = {
            "CODESUGGEST_EMBEDDED": "true",
            # The fuzz asks more than any limit allows, and presents wrong credentials on purpose.
            "CODE_SUGGESTIONS_RATE_LIMIT": "0",
            "CHAT_RATE_LIMIT": "0",
            "AUTH_FAILURE_LIMIT": "0",
            # A subscription nobody publishes to is read for twice this long.
            "CHAT_TIMEOUT": "1",
            "COMPLETIONS_PROVIDER": "openai",
            "COMPLETIONS_BASE_URL": model.url,
            "COMPLETIONS_MODEL": "gpt-3.5-turbo-instruct",
            "CHAT_PROVIDER": "openai",
            "CHAT_BASE_URL": model.url,
            "CHAT_MODEL": "test-chat-model",
        }
        try:
            with server_process(env, production=True) as url:
                minted = requests.post(
                    f"{url}/api/v4/code_suggestions/tokens",
                    headers={"PRIVATE-TOKEN": token},
                    timeout=30,
                )
                minted.raise_for_status()
                yield Service(url, token, minted.json()["access_token"])
        finally:
            user.delete()
            group.delete()


@pytest.mark.parametrize("mode", list(EXAMPLES_PER_OPERATION), ids=str)
def test_the_api_answers_every_request_as_it_describes_without_a_server_error(service, mode):
    # Operation by operation, each reported, rather than by schemathesis's pytest plugin, which
    # does not run under pytest 9.
    schema = schemathesis.openapi.from_url(f"{service.url}/api/schema")
    # Every string the API reads refuses a NUL, as GitLab's does. The schema says so for the
    # strings it describes, but Open API 3.0 cannot say it of property names or of what
    # free-form objects hold, so the fuzz sends none (tests/codesuggest/test_params_properties.py
    # sends them).
    # The credentials are the fixture's (a generated one is unknown, or named by a wrong
    # scheme beside the real one): the `ignored_auth` check still asks without them.
    # Invalid requests are the schema's invalid ones: a number for a string, or null for an
    # optional parameter, is no longer among them, as the schema says the API takes both
    # (Grape coerces the one and skips the other).
    schema.config.generation.update(modes=[mode], allow_x00=False, with_security_parameters=False)
    # A body beyond the size limit is refused whole, before its parameters are read: invalid
    # data refused, with a 413 that schemathesis does not expect.
    rejection = schema.config.checks.negative_data_rejection
    rejection.expected_statuses = [*rejection.expected_statuses, "413"]
    failures = {}
    for operation in (result.ok() for result in schema.get_all_operations()):
        try:
            fuzz(operation, service, mode)
        except SkipTest:  # no parameter or body to get wrong (raised in the negative mode only)
            pass
        except (Exception, BaseExceptionGroup) as failure:  # every operation's failure, reported
            failures[operation.label] = failure
    assert not failures, "\n\n".join(
        f"{label}: {shortened(error)}" for label, error in failures.items()
    )


def shortened(error: BaseException) -> str:
    # A reproducing request may be megabytes of generated text.
    return "\n".join(
        line if len(line) <= MAX_LINE else f"{line[:MAX_LINE]}… ({len(line)} characters)"
        for line in str(error).splitlines()
    )


def fuzz(operation, service: Service, mode: GenerationMode) -> None:
    @given(case=operation.as_strategy(mode))
    @settings(
        max_examples=EXAMPLES_PER_OPERATION[mode],
        derandomize=True,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    def call(case) -> None:
        case.call_and_validate(
            base_url=service.url, headers=service.headers_for(case.path), timeout=30
        )

    call()
