"""What an editor sees when the model server misbehaves: GitLab-shaped errors, never a secret."""

import pytest

from tests.completions.conftest import COMPLETIONS, completion_body
from tests.fake_servers import Reply

SECRET = "sk-very-secret-key"


@pytest.fixture
def keyed_upstream(settings, upstream):
    settings.COMPLETIONS_API_KEY = SECRET
    upstream.api_key = SECRET
    return upstream


def test_an_upstream_timeout_is_a_504(api, keyed_upstream, settings, bob_token):
    settings.COMPLETIONS_TIMEOUT = 0.3
    keyed_upstream.script(Reply(delay=1.5, default=True))

    response = api.post(COMPLETIONS, completion_body(), token=bob_token)

    assert response.status_code == 504
    assert "timed out" in response.json()["message"]
    assert SECRET not in response.content.decode()


def test_a_server_error_is_retried_then_a_503(api, keyed_upstream, bob_token):
    keyed_upstream.script(Reply(status=500), Reply(status=502), Reply(status=503))

    response = api.post(COMPLETIONS, completion_body(), token=bob_token)

    assert response.status_code == 503
    assert len(keyed_upstream.requests) == 3
    assert SECRET not in response.content.decode()


def test_a_passing_server_error_is_retried_and_served(api, keyed_upstream, bob_token):
    keyed_upstream.script(Reply(status=503))

    response = api.post(COMPLETIONS, completion_body(), token=bob_token)

    assert response.status_code == 200
    assert len(keyed_upstream.requests) == 2


def test_upstream_rate_limiting_is_a_503(api, keyed_upstream, bob_token):
    keyed_upstream.script(*[Reply(status=429, headers={"Retry-After": "0"})] * 3)

    response = api.post(COMPLETIONS, completion_body(), token=bob_token)

    assert response.status_code == 503
    assert set(response.json()) == {"message"}


def test_a_refused_connection_is_a_503(api, upstream, settings, refused_url, bob_token):
    settings.COMPLETIONS_BASE_URL = refused_url

    response = api.post(COMPLETIONS, completion_body(), token=bob_token)

    assert response.status_code == 503
    assert refused_url not in response.json()["message"]


def test_malformed_json_from_the_model_is_a_503(api, keyed_upstream, bob_token):
    keyed_upstream.script(Reply(body="{not json"))

    response = api.post(COMPLETIONS, completion_body(), token=bob_token)

    assert response.status_code == 503
    assert SECRET not in response.content.decode()


def test_a_wrong_key_is_a_503_that_does_not_show_the_key(api, upstream, settings, bob_token):
    settings.COMPLETIONS_API_KEY = SECRET
    upstream.api_key = "another-key"

    response = api.post(COMPLETIONS, completion_body(), token=bob_token)

    assert response.status_code == 503
    assert SECRET not in response.content.decode()
