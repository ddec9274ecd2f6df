"""GET /-/liveness and /-/readiness: GitLab's health checks, for load balancers and orchestrators.

No credential is needed; the answers name the checks and whether they passed, nothing more.
"""

import json
import urllib.error
import urllib.request

import pytest

from tests.services import free_port, server_process


def get(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


def test_liveness_answers_ok_without_a_credential(client):
    response = client.get("/-/liveness")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db(transaction=True)
def test_readiness_checks_the_database_alone_without_redis(client, settings):
    settings.REDIS_URL = ""

    response = client.get("/-/readiness")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "db_check": [{"status": "ok"}]}


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_readiness_checks_redis_when_it_is_configured(client, settings, own_redis):
    settings.REDIS_URL = own_redis.url

    response = client.get("/-/readiness")

    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "db_check": [{"status": "ok"}],
        "redis_check": [{"status": "ok"}],
    }


@pytest.mark.django_db(transaction=True)
def test_readiness_reports_redis_down_but_stays_ready_without_it():
    # A port nothing listens on: connections are refused at once.
    env = {"REDIS_URL": f"redis://127.0.0.1:{free_port()}/0", "CODESUGGEST_EMBEDDED": "true"}
    with server_process(env) as url:
        status, body = get(f"{url}/-/readiness")

    # The service serves without Redis: its nodes must stay in the load balancer.
    assert status == 200
    # Whole: no host, port or error message in an answer anyone may read.
    assert body == {
        "status": "ok",
        "db_check": [{"status": "ok"}],
        "redis_check": [{"status": "failed"}],
    }


@pytest.mark.django_db(transaction=True)
def test_readiness_answers_503_when_the_database_does_not_answer(tmp_path):
    env = {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'no-such-folder' / 'db.sqlite3'}",
        "REDIS_URL": "",
        "CODESUGGEST_EMBEDDED": "true",
    }
    with server_process(env) as url:
        status, body = get(f"{url}/-/readiness")
        live_status, _ = get(f"{url}/-/liveness")

    assert status == 503
    assert body == {"status": "failed", "db_check": [{"status": "failed"}]}
    # Alive all the same: a database outage must not get the process restarted.
    assert live_status == 200


def test_health_answers_gitlabs_text(client):
    response = client.get("/-/health")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    assert response.content == b"GitLab OK"


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_readiness_checks_the_celery_broker_when_there_is_one(client, settings, own_redis):
    settings.REDIS_URL = ""
    settings.CELERY_BROKER_URL = own_redis.url

    response = client.get("/-/readiness")

    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "db_check": [{"status": "ok"}],
        "broker_check": [{"status": "ok"}],
    }


@pytest.mark.django_db(transaction=True)
def test_readiness_reports_the_broker_down_but_stays_ready_without_it(client, settings):
    settings.REDIS_URL = ""
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{free_port()}/0"

    response = client.get("/-/readiness")

    # Only chat needs the broker: completions go on, so the node stays in the load balancer.
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "db_check": [{"status": "ok"}],
        "broker_check": [{"status": "failed"}],
    }
