"""The database under real traffic and faults, against a production-style server process:
connections must go back to the pool whatever the client does, and a connection the database
dropped must cost no request that had not started yet."""

from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from django.db import connection

from tests.completions.conftest import COMPLETIONS, completion_body
from tests.conftest import make_token
from tests.services import database_is_postgresql, server_process

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

ENABLED = "/api/v4/code_suggestions/enabled"


@pytest.fixture(autouse=True)
def _postgresql_only():
    # The connection pool exists only on PostgreSQL; SQLite opens a file per thread.
    if not database_is_postgresql():
        pytest.skip("connection pooling is PostgreSQL's")


@pytest.fixture
def small_pool_server(openai_server):
    env = {
        "DATABASE_POOL_SIZE": "2",
        "COMPLETIONS_PROVIDER": "openai",
        "COMPLETIONS_BASE_URL": openai_server.url,
        "CODE_SUGGESTIONS_RATE_LIMIT": "0",
    }
    with server_process(env, production=True) as url:
        yield url


def new_connection_post(url: str, path: str, token: str, body: dict, timeout: float = 5) -> int:
    """One request on a connection of its own, closed after it, as scripts and proxies do."""
    response = requests.post(
        url + path,
        json=body,
        headers={"PRIVATE-TOKEN": token, "Connection": "close"},
        timeout=timeout,
    )
    return response.status_code


def database_lookups(url: str, token: str, count: int) -> list[int]:
    """`/enabled` for projects that do not exist: each answer needs the database (404)."""
    return [
        new_connection_post(url, ENABLED, token, {"project_path": f"acme/missing-{index}"})
        for index in range(count)
    ]


def test_requests_on_new_connections_leave_the_pool_usable(small_pool_server, world):
    token = make_token(world.bob)
    # Usage events are written in batches of 50 after responses: each batch used to take a
    # connection that was never returned, so three batches emptied a pool of two.
    with ThreadPoolExecutor(4) as pool:
        statuses = list(
            pool.map(
                lambda _: new_connection_post(
                    small_pool_server, COMPLETIONS, token, completion_body()
                ),
                range(160),
            )
        )
    assert statuses == [200] * 160

    assert database_lookups(small_pool_server, token, 10) == [404] * 10


def terminate_other_connections() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0]


def test_connections_dropped_by_the_database_cost_no_request(small_pool_server, world):
    token = make_token(world.bob)
    assert database_lookups(small_pool_server, token, 4) == [404] * 4

    assert terminate_other_connections() >= 1

    assert database_lookups(small_pool_server, token, 20) == [404] * 20
