"""Every request a limit refuses with 429 is counted for monitoring under that limit's name, as
GET /-/metrics tells it (README, Production deployment: `codesuggest_rate_limited_requests_total`
by `limit`). This process's registry counts for the whole run: values are read before and after.
"""

import time
from types import SimpleNamespace

import django_ratelimit.core
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.chat.conftest import chat_model, openai_server  # noqa: F401  (fixtures used by name)
from tests.completions.conftest import COMPLETIONS, completion_body, upstream  # noqa: F401
from tests.conftest import make_token

ASK = "mutation($content: String!) { aiAction(input: {chat: {content: $content}}) { errors } }"


def refusals(client, limit: str) -> float:
    response = client.get("/-/metrics")
    assert response.status_code == 200
    return sum(
        sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
        if sample.name == "codesuggest_rate_limited_requests_total"
        and sample.labels == {"limit": limit}
    )


@pytest.mark.django_db
def test_the_ban_of_a_guessing_address_and_each_request_it_refuses_are_counted(
    api, client, world, settings, monkeypatch
):
    settings.AUTH_FAILURE_LIMIT = 2
    # The limiter's clock stands still, so that the guesses cannot straddle the end of a window.
    now = time.time()
    monkeypatch.setattr(django_ratelimit.core, "time", SimpleNamespace(time=lambda: now))
    before = refusals(client, "auth-failures")

    statuses = [
        api.get("/api/v4/user", token=token, REMOTE_ADDR="192.0.2.1").status_code
        for token in ("glpat-guess-1", "glpat-guess-2", "glpat-guess-3", make_token(world.bob))
    ]

    assert statuses == [401, 401, 429, 429]
    assert refusals(client, "auth-failures") - before == 2


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("chat_model")
def test_a_question_past_the_chat_limit_is_counted(api, client, world, settings):
    settings.CHAT_RATE_LIMIT = 1
    token = make_token(world.bob)
    before = refusals(client, "chat")

    answers = [
        api.post("/api/graphql", {"query": ASK, "variables": {"content": question}}, token=token)
        for question in ("One?", "Two?")
    ]

    assert answers[0].json() == {"data": {"aiAction": {"errors": []}}}
    assert answers[1].json()["errors"][0]["extensions"]["retryAfter"] >= 1
    assert refusals(client, "chat") - before == 1


@pytest.mark.django_db
@pytest.mark.usefixtures("upstream")
def test_a_completion_past_the_limit_is_counted(api, client, world, settings, monkeypatch):
    settings.CODE_SUGGESTIONS_RATE_LIMIT = 1
    # The clock stands still, so that the two requests cannot straddle the end of a minute.
    now = time.time()
    monkeypatch.setattr(time, "time", lambda: now)
    token = make_token(world.bob)
    before = refusals(client, "code_suggestions")

    statuses = [api.post(COMPLETIONS, completion_body(), token=token).status_code for _ in "12"]

    assert statuses == [200, 429]
    assert refusals(client, "code_suggestions") - before == 1
