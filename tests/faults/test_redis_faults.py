"""Redis going away under a production-style server: what each feature does without it.

- completions go on: the token and decision caches fall back to the database, and the rate
  limit is skipped (RATE_LIMIT_WITHOUT_REDIS=open, the default) or answers 503 (closed);
- chat answers 503 with a clear message, and a stream ends with an error event;
- the outage is logged once when it starts and once when it ends, never a traceback a request;
- when Redis answers again, cached copies from before the outage are dropped, since the
  invalidations sent meanwhile were lost.
"""

import time

import pytest
import requests

from codesuggest.outages import RETRY_SECONDS
from projects.models import PersonalAccessToken
from tests.completions.conftest import COMPLETIONS, completion_body
from tests.conftest import make_token
from tests.services import server_process

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

CHAT = "/api/v4/chat/completions"


@pytest.fixture
def log(tmp_path):
    return tmp_path / "server.log"


def serve(own_redis, openai_server, log, **env: str):
    return server_process(
        {
            "REDIS_URL": own_redis.url,
            "COMPLETIONS_PROVIDER": "openai",
            "COMPLETIONS_BASE_URL": openai_server.url,
            "CHAT_PROVIDER": "openai",
            "CHAT_BASE_URL": openai_server.url,
            "LOG_LEVEL": "WARNING",
            **env,
        },
        production=True,
        log=log,
    )


def post(url: str, path: str, token: str, body: dict) -> requests.Response:
    return requests.post(url + path, json=body, headers={"PRIVATE-TOKEN": token}, timeout=10)


def complete(url: str, token: str) -> int:
    return post(url, COMPLETIONS, token, completion_body()).status_code


def test_completions_go_on_and_chat_says_why_it_cannot(own_redis, openai_server, log, world):
    token = make_token(world.bob)
    with serve(own_redis, openai_server, log) as url:
        assert complete(url, token) == 200
        assert post(url, CHAT, token, {"content": "Hi"}).status_code == 201

        own_redis.kill()
        statuses = [complete(url, token) for _ in range(20)]
        chat = post(url, CHAT, token, {"content": "Hi", "client_subscription_id": "s1"})
        stream = requests.get(
            url + "/api/v4/chat/subscriptions/s1", headers={"PRIVATE-TOKEN": token}, timeout=10
        )
        own_redis.start()
        time.sleep(RETRY_SECONDS)  # the cache skips Redis for this long after a failure
        after = [complete(url, token) for _ in range(3)]
        chat_after = post(url, CHAT, token, {"content": "Hi again"})

    assert statuses == [200] * 20
    assert chat.status_code == 503
    assert chat.json() == {
        "message": "503 Service Unavailable - chat cannot reach its answer relay (Redis); "
        "nothing was asked"
    }
    assert stream.text == (
        'event: error\ndata: {"message": "Chat cannot reach its answer relay (Redis)"}\n\n'
    )
    assert after == [200] * 3
    assert chat_after.status_code == 201
    written = log.read_text()
    assert "Traceback" not in written
    assert written.count("Redis (cache and rate limits) is unavailable") == 1
    assert written.count("Redis (cache and rate limits) is back") == 1
    assert written.count("Redis (chat answers) is unavailable") == 1


def test_a_closed_rate_limit_refuses_while_it_cannot_count(own_redis, openai_server, log, world):
    token = make_token(world.bob)
    with serve(own_redis, openai_server, log, RATE_LIMIT_WITHOUT_REDIS="closed") as url:
        assert complete(url, token) == 200
        own_redis.kill()

        response = post(url, COMPLETIONS, token, completion_body())

    assert response.status_code == 503
    assert response.json() == {
        "message": "503 Service Unavailable - the rate limit cannot be checked"
    }
    assert response.headers["Retry-After"] == "5"


def test_a_token_revoked_while_redis_was_unreachable_stays_revoked(
    own_redis, openai_server, log, world
):
    token = make_token(world.bob)
    with serve(own_redis, openai_server, log) as url:
        assert complete(url, token) == 200  # the token is now cached in Redis

        own_redis.freeze()  # a partition: Redis keeps its data, nothing answers
        # Revoked where the server's cache cannot hear of it.
        PersonalAccessToken.objects.filter(user=world.bob).update(revoked=True)
        during = complete(url, token)
        own_redis.thaw()
        time.sleep(RETRY_SECONDS)
        after = [complete(url, token) for _ in range(3)]

    assert during == 401
    assert after == [401] * 3
