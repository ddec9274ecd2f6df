"""The real services some tests need: PostgreSQL, Redis, a Celery worker, server processes.

On a machine without a service those tests are skipped with the reason; under CI (CI=true)
a missing service fails them instead, so a green CI always means they ran.
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote, urlparse

import pytest
import requests
from django.conf import settings


def unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: a missing service is a failure)")
    pytest.skip(reason)


def port_open(url: str, default_port: int) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection(
            (parsed.hostname or "127.0.0.1", parsed.port or default_port), 1
        ):
            return True
    except OSError:
        return False


def database_is_postgresql() -> bool:
    return settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"


def database_url_for_processes() -> str:
    """A DATABASE_URL for the database the tests use, for processes the tests start."""
    from django.db import connection

    db = connection.settings_dict
    if not database_is_postgresql():
        return f"sqlite:///{db['NAME']}"
    # Every character quoted, "/" too: a password or name holding "/", "#" or "?" stays whole.
    credentials = quote(db["USER"] or "", safe="")
    if db["PASSWORD"]:
        credentials += f":{quote(db['PASSWORD'], safe='')}"
    host, port = db["HOST"] or "127.0.0.1", db["PORT"] or 5432
    return f"postgres://{credentials}@{host}:{port}/{quote(db['NAME'], safe='')}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def server_process(
    env: dict[str, str],
    *,
    production: bool = False,
    log: Path | None = None,
    app: str | None = None,
    worker_class: str | None = None,
) -> Iterator[str]:
    """The service under gunicorn in a process of its own, on the tests' database; its URL.

    `production`: gunicorn.conf.py as deployed, one worker: codesuggest.asgi under the ASGI
    worker, or `worker_class` ("gevent", "gthread") with codesuggest.wsgi. Otherwise
    codesuggest.wsgi in one gthread worker. `app` names another application. `log`: a file for
    what the server writes (otherwise the test's output).
    """
    port = free_port()
    environment = {
        **os.environ,
        "DATABASE_URL": database_url_for_processes(),
        "DJANGO_SECRET_KEY": "test-only-secret-key-long-enough-for-hs256",
        "DJANGO_DEBUG": "false",
        "GUNICORN_WORKERS": "1",
        "GUNICORN_ACCESS_LOG": "",
        **env,
    }
    if production:
        worker = ["--config", "gunicorn.conf.py"]
        if worker_class:
            worker += ["--worker-class", worker_class]
    else:
        worker = ["--workers", "1", "--threads", "8", "--worker-class", "gthread"]
    if app is None:
        asgi = production and worker_class in (None, "asgi")
        app = "codesuggest.asgi" if asgi else "codesuggest.wsgi"
    output = log.open("ab") if log else None
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            app,
            *worker,
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
        ],
        env=environment,
        cwd=settings.BASE_DIR,
        stdout=output,
        stderr=output,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_port(port, process)
        wait_for_the_worker(url)
        yield url
    finally:
        process.terminate()
        process.wait(10)
        if output:
            output.close()


def wait_for_port(port: int, process: subprocess.Popen, seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"The server process exited with {process.returncode}")
        if port_open(f"http://127.0.0.1:{port}", port):
            return
        time.sleep(0.05)
    raise RuntimeError(f"Nothing listened on port {port} within {seconds}s")


def wait_for_the_worker(url: str, seconds: float = 60.0) -> None:
    """Gunicorn's arbiter listens before its worker has loaded the application (a second or more,
    several on a busy machine): a test timing its first request would time the start-up too.
    The request waits in the listen queue until the worker takes it; any answer will do."""
    requests.get(f"{url}/-/liveness", timeout=seconds, allow_redirects=False)


class RedisServer:
    """A Redis server of the test's own, on a free port, that the test may stop, freeze and
    restart: the shared Redis must never be harmed."""

    def __init__(self, directory: Path) -> None:
        if shutil.which("redis-server") is None:
            unavailable("redis-server is not installed")
        self.port = free_port()
        self.directory = directory
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no", "--dir", str(self.directory)],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        wait_for_port(self.port, self.process)

    def kill(self) -> None:
        """SIGKILL: gone at once, with everything it held, as a crashed Redis."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)

    def freeze(self) -> None:
        """SIGSTOP: connections stay open and nothing answers, as behind a network partition."""
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """A Redis server of a module's own, for tests that share one worker or server process."""
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.kill()


@pytest.fixture
def own_redis(tmp_path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path)
    server.start()
    yield server
    if server.process is not None and server.process.poll() is None:
        server.thaw()
    server.kill()
