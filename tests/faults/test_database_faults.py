"""The database under real traffic and faults, against a production-style server process:
connections must go back to the pool whatever the client does, and a connection the database
dropped must cost no request that had not started yet."""

import glob
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg
import pytest
import requests
from django.conf import settings
from django.db import connection

from completions import usage
from tests.completions.conftest import COMPLETIONS, completion_body
from tests.conftest import make_token
from tests.services import database_is_postgresql, free_port, server_process, unavailable

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


class PostgresCluster:
    """A PostgreSQL server of the test's own, which it may stop and start: the shared one must
    never be restarted under other users."""

    def __init__(self, directory: Path) -> None:
        binaries = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
        if not binaries or shutil.which("runuser") is None:
            unavailable("PostgreSQL's server binaries are not installed")
        self.bin = Path(binaries[-1])
        self.data = directory / "data"
        self.port = free_port()
        self.data.mkdir()
        shutil.chown(directory, "postgres")
        shutil.chown(self.data, "postgres")
        self._as_postgres("initdb", "--auth=trust", "--username=postgres", "-D", str(self.data))

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/postgres"

    def _as_postgres(self, program: str, *args: str) -> None:
        # PostgreSQL refuses to run as root, which CI is.
        subprocess.run(
            ["runuser", "-u", "postgres", "--", str(self.bin / program), *args],
            check=True,
            capture_output=True,
        )

    def start(self) -> None:
        options = f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1"
        # With a log file of its own: the server would otherwise hold our output pipe open.
        log = str(self.data.parent / "server.log")
        self._as_postgres("pg_ctl", "start", "-w", "-D", str(self.data), "-l", log, "-o", options)

    def stop(self) -> None:
        """Immediate: every connection is cut, as when the server crashes or its host restarts."""
        self._as_postgres("pg_ctl", "stop", "-m", "immediate", "-w", "-D", str(self.data))


@pytest.fixture
def own_postgres() -> Iterator[PostgresCluster]:
    # Not under pytest's temporary folder: the postgres user could not reach into root's.
    directory = Path(tempfile.mkdtemp(prefix="codesuggest-postgres-"))
    try:
        cluster = PostgresCluster(directory)
        cluster.start()
        yield cluster
        subprocess.run(
            ["runuser", "-u", "postgres", "--", str(cluster.bin / "pg_ctl"), "stop", "-m",
             "immediate", "-D", str(cluster.data)],
            capture_output=True,
        )  # fmt: skip
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def manage(database_url: str, *args: str) -> str:
    env = {**os.environ, "DATABASE_URL": database_url, "DJANGO_SECRET_KEY": "test-only-secret"}
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        env=env,
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip()


def complete(url: str, token: str) -> int:
    return new_connection_post(url, COMPLETIONS, token, completion_body())


def usage_events_in(database_url: str) -> int:
    with psycopg.connect(database_url) as conn:
        return conn.execute("SELECT count(*) FROM completions_usageevent").fetchone()[0]


def test_a_database_restart_costs_only_the_requests_made_while_it_was_down(
    own_postgres, openai_server, tmp_path
):
    manage(own_postgres.url, "migrate", "--no-input", "-v", "0")
    manage(own_postgres.url, "create_user", "dora")
    token = manage(own_postgres.url, "create_token", "dora", "--scopes", "api")
    log = tmp_path / "server.log"
    env = {
        "DATABASE_URL": own_postgres.url,
        "DATABASE_POOL_SIZE": "4",
        "COMPLETIONS_PROVIDER": "openai",
        "COMPLETIONS_BASE_URL": openai_server.url,
    }
    with server_process(env, production=True, log=log) as url:
        assert database_lookups(url, token, 8) == [404] * 8
        completions = [complete(url, token) for _ in range(3)]  # usage events, not yet written

        own_postgres.stop()
        down = requests.post(
            url + ENABLED, json={"project_path": "acme/x"}, headers={"PRIVATE-TOKEN": token},
            timeout=15,
        )  # fmt: skip
        time.sleep(usage.MAX_AGE_SECONDS)
        completions.append(complete(url, token))  # its usage flush finds no database
        own_postgres.start()
        time.sleep(0.5)

        assert database_lookups(url, token, 20) == [404] * 20

    assert completions == [200] * 4
    assert usage_events_in(own_postgres.url) == 4
    assert down.status_code == 503
    assert down.json() == {"message": "503 Service Unavailable - the database cannot be reached"}
    written = log.read_text()
    assert "Traceback" not in written
    assert written.count("The database is unavailable") == 1
    assert written.count("The database is back") == 1
