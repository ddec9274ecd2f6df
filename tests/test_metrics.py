"""GET /-/metrics: Prometheus' text format, for the monitoring allowlist (see
tests/test_monitoring_allowlist.py). Values are read before and after real requests: this
process's registry counts for the whole test run."""

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from chat.models import Message, State
from tests.completions.conftest import COMPLETIONS, completion_body
from tests.conftest import make_token
from tests.fake_servers import (
    FakeOpenAIServer,
    Reply,
    openai_server,  # noqa: F401  (a fixture used by name)
)
from tests.services import database_is_postgresql, server_process

pytestmark = pytest.mark.django_db(transaction=True)

MODEL = "gpt-3.5-turbo-instruct"


def scrape(client) -> dict[tuple[str, frozenset], float]:
    response = client.get("/-/metrics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    }


def value(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


@pytest.fixture
def model(settings, openai_server: FakeOpenAIServer) -> FakeOpenAIServer:  # noqa: F811
    settings.COMPLETIONS_PROVIDER = "openai"
    settings.COMPLETIONS_BASE_URL = openai_server.url
    settings.COMPLETIONS_MODEL = MODEL
    settings.COMPLETIONS_TIMEOUT = 5.0
    openai_server.completion_texts = ["return a * b"]
    return openai_server


@pytest.fixture
def token(world) -> str:
    return make_token(world.bob)


def complete(api, token):
    return api.post(COMPLETIONS, completion_body(), token=token)


def test_a_completion_is_counted_by_route_and_status_and_its_model_call_timed(
    api, client, model, token
):
    model.script(Reply(delay=0.3, default=True))
    before = scrape(client)

    assert complete(api, token).status_code == 200

    after = scrape(client)
    route = {"method": "POST", "endpoint": "api/v4/code_suggestions/completions", "status": "200"}
    requests = "codesuggest_http_request_duration_seconds_count"
    assert value(after, requests, **route) - value(before, requests, **route) == 1
    upstream = {"provider": "openai", "model": MODEL}
    calls = "codesuggest_upstream_request_duration_seconds_count"
    assert value(after, calls, **upstream) - value(before, calls, **upstream) == 1
    # The model's 0.3 s count as upstream time, not as the service's own.
    slow = "codesuggest_upstream_request_duration_seconds_bucket"
    assert value(after, slow, le="0.25", **upstream) == value(before, slow, le="0.25", **upstream)
    own = "codesuggest_http_request_overhead_seconds"
    endpoint = {"endpoint": "api/v4/code_suggestions/completions"}
    assert value(after, f"{own}_count", **endpoint) - value(before, f"{own}_count", **endpoint) == 1
    assert value(after, f"{own}_sum", **endpoint) - value(before, f"{own}_sum", **endpoint) < 0.3


def test_a_path_no_route_matches_is_counted_without_its_path(client):
    client.get("/-/no-such-page/secret-looking-path")

    text = client.get("/-/metrics").content.decode()

    assert 'endpoint="unmatched"' in text
    assert "secret-looking-path" not in text


def test_a_request_refused_by_the_rate_limit_is_counted(api, client, model, token, settings):
    settings.CODE_SUGGESTIONS_RATE_LIMIT = 1
    before = scrape(client)

    statuses = [complete(api, token).status_code for _ in range(2)]

    after = scrape(client)
    assert statuses == [200, 429]
    hits = "codesuggest_rate_limited_requests_total"
    limit = {"limit": "code_suggestions"}
    assert value(after, hits, **limit) - value(before, hits, **limit) == 1


def test_suggestions_shown_and_accepted_are_counted(api, client, token):
    before = scrape(client)

    for event in ("code_suggestion_shown_in_ide", "code_suggestion_accepted_in_ide"):
        response = api.post("/api/v4/usage_data/track_event", {"event": event}, token=token)
        assert response.status_code == 200

    after = scrape(client)
    events = "codesuggest_suggestion_events_total"
    for event in ("code_suggestion_shown_in_ide", "code_suggestion_accepted_in_ide"):
        assert value(after, events, event=event) - value(before, events, event=event) == 1


def test_the_chat_queue_is_the_questions_still_pending(client, world):
    for state in (State.PENDING, State.PENDING, State.DONE, State.FAILED):
        Message.objects.create(user=world.alice, role="user", content="Why?", state=state)

    samples = scrape(client)

    assert value(samples, "codesuggest_chat_questions_pending") == 2


def test_a_chat_answer_is_timed_by_how_it_ended(api, client, settings, openai_server, world):  # noqa: F811
    settings.CHAT_PROVIDER = "openai"
    settings.CHAT_BASE_URL = openai_server.url
    settings.CHAT_TIMEOUT = 5.0
    before = scrape(client)

    answered = api.post(
        "/api/v4/chat/completions", {"content": "Why?"}, token=make_token(world.alice)
    )
    openai_server.script(Reply(status=400))
    failed = api.post(
        "/api/v4/chat/completions", {"content": "How?"}, token=make_token(world.alice)
    )

    after = scrape(client)
    assert (answered.status_code, failed.status_code) == (201, 503)
    answers = "codesuggest_chat_answer_duration_seconds_count"
    for outcome in ("answered", "failed"):
        assert value(after, answers, outcome=outcome) - value(before, answers, outcome=outcome) == 1


def samples_of(text: str) -> list:
    return [sample for family in text_string_to_metric_families(text) for sample in family.samples]


@pytest.mark.services
def test_gunicorn_workers_add_up_in_one_scrape(tmp_path, own_redis):
    folder = tmp_path / "metrics"
    env = {
        "CODESUGGEST_EMBEDDED": "false",
        "REDIS_URL": own_redis.url,
        "GUNICORN_WORKERS": "2",
        "PROMETHEUS_MULTIPROC_DIR": str(folder),
    }
    with server_process(env, production=True) as url:
        # Until both workers have answered (each writes files of its own), at most 2000 times.
        sent = 0
        while sent < 2000 and len({path.stem for path in folder.glob("histogram_*.db")}) < 2:
            assert requests.get(f"{url}/-/health", timeout=10).status_code == 200
            sent += 1
        scraped = samples_of(requests.get(f"{url}/-/metrics", timeout=10).text)

    assert len({path.stem for path in folder.glob("histogram_*.db")}) == 2, sent
    counted = [
        sample.value
        for sample in scraped
        if sample.name == "codesuggest_http_request_duration_seconds_count"
        and sample.labels["endpoint"] == "-/health"
    ]
    # Every request once, whichever worker answered it and whichever answered the scrape.
    assert counted == [sent], sent


@pytest.mark.services
def test_the_database_pool_is_reported_on_postgresql(tmp_path, own_redis):
    if not database_is_postgresql():
        pytest.skip("Only PostgreSQL connections are pooled")
    env = {"CODESUGGEST_EMBEDDED": "false", "REDIS_URL": own_redis.url}
    with server_process(env, production=True) as url:
        assert requests.get(f"{url}/-/readiness", timeout=10).status_code == 200
        scraped = samples_of(requests.get(f"{url}/-/metrics", timeout=10).text)

    pool = {
        sample.labels["state"]: sample.value
        for sample in scraped
        if sample.name == "codesuggest_database_pool_connections"
    }
    assert pool["size"] >= 1
    assert pool["waiting"] == 0
