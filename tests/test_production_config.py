"""Production does not quietly run the embedded configuration (SQLite, a per-process cache)
under several processes; the deployment files pass every documented setting."""

import os
import re
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
import yaml
from django.conf import settings

from tests.services import free_port, server_process, wait_for_port

FULL_CONFIG = {
    # Settings only parse these; nothing here connects to them.
    "DATABASE_URL": "postgres://codesuggest@127.0.0.1:5432/codesuggest",
    "REDIS_URL": "redis://127.0.0.1:6379/10",
}
REFUSAL = (
    "not set: with DJANGO_DEBUG off, several processes would each keep their own database file "
    "or cache. Set DATABASE_URL and REDIS_URL, or set CODESUGGEST_EMBEDDED=true to run a single "
    "process (gunicorn then starts one worker)."
)


def environment(**env: str) -> dict[str, str]:
    """This process's environment without any of the service's settings, then `env`."""
    ours = ("DJANGO_", "DATABASE_", "REDIS_", "CODESUGGEST_", "GUNICORN_", "CELERY_")
    clean = {name: value for name, value in os.environ.items() if not name.startswith(ours)}
    return {**clean, "DJANGO_SECRET_KEY": "a-real-secret", **env}


def manage_check(**env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=settings.BASE_DIR,
        env=environment(**env),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("env", "missing"),
    [
        ({}, "DATABASE_URL and REDIS_URL are"),
        ({"DATABASE_URL": FULL_CONFIG["DATABASE_URL"]}, "REDIS_URL is"),
        ({"REDIS_URL": FULL_CONFIG["REDIS_URL"]}, "DATABASE_URL is"),
    ],
)
def test_it_refuses_to_start_without_the_shared_database_and_redis(env, missing):
    result = manage_check(DJANGO_DEBUG="false", **env)

    assert result.returncode != 0
    assert f"ImproperlyConfigured: {missing} {REFUSAL}" in result.stderr


def test_it_starts_with_the_shared_database_and_redis():
    result = manage_check(DJANGO_DEBUG="false", **FULL_CONFIG)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("env", [{}, {"DATABASE_URL": FULL_CONFIG["DATABASE_URL"]}])
def test_it_starts_in_the_embedded_mode_when_asked_by_name(env):
    result = manage_check(DJANGO_DEBUG="false", CODESUGGEST_EMBEDDED="true", **env)
    assert result.returncode == 0, result.stderr


def test_debugging_needs_neither_as_make_run_does():
    result = manage_check(DJANGO_DEBUG="true")
    assert result.returncode == 0, result.stderr


def test_it_refuses_an_embedded_value_that_is_not_true_or_false():
    result = manage_check(CODESUGGEST_EMBEDDED="yes")

    assert result.returncode != 0
    assert "CODESUGGEST_EMBEDDED must be true or false, not 'yes'" in result.stderr


# gunicorn.conf.py in the embedded mode


def gunicorn(
    port: int, tmp_path: Path, app: str = "codesuggest.asgi", **env: str
) -> subprocess.Popen:
    """The production command (Procfile's web), embedded, on `port`."""
    return subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", app],
        cwd=settings.BASE_DIR,
        env=environment(
            GUNICORN_BIND=f"127.0.0.1:{port}",
            GUNICORN_ACCESS_LOG="",
            DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
            CODESUGGEST_EMBEDDED="true",
            **env,
        ),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def stopped(server: subprocess.Popen) -> str:
    """Stop the server if it still runs; what it wrote on stderr."""
    if server.poll() is None:
        server.terminate()
    return server.communicate(timeout=30)[1]


def worker_processes(arbiter: subprocess.Popen) -> list[str]:
    return Path(f"/proc/{arbiter.pid}/task/{arbiter.pid}/children").read_text().split()


def test_gunicorn_runs_exactly_one_worker_in_the_embedded_mode(tmp_path):
    port = free_port()
    server = gunicorn(port, tmp_path)
    try:
        wait_for_port(port, server)
        # A worker answers only once it has loaded Django; gunicorn forks all of them before.
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/-/liveness", timeout=30) as answer:
            assert answer.status == 200
        assert len(worker_processes(server)) == 1
    finally:
        stopped(server)


def test_gunicorn_refuses_more_workers_in_the_embedded_mode(tmp_path):
    server = gunicorn(free_port(), tmp_path, GUNICORN_WORKERS="2")
    try:
        server.wait(timeout=30)
    finally:
        stderr = stopped(server)

    assert server.returncode != 0
    assert "CODESUGGEST_EMBEDDED=true runs one worker process, not 2" in stderr


# docker-compose.yml


def compose() -> dict:
    return yaml.safe_load((settings.BASE_DIR / "docker-compose.yml").read_text())


def documented_settings() -> list[str]:
    """The variables in the README's configuration table, `_MODEL` and the like spelled out."""
    readme = (settings.BASE_DIR / "README.md").read_text()
    section = readme.split("## Configuration", 1)[1]
    names = []
    for row in re.findall(r"^\| (`[^|]*) \|", section, flags=re.MULTILINE):
        cell = re.findall(r"`([A-Z_]+)`", row)
        prefix = cell[0].split("_")[0]
        names += [prefix + name if name.startswith("_") else name for name in cell]
    return names


@pytest.mark.parametrize("service", ["web", "worker"])
def test_docker_compose_passes_every_documented_setting(service):
    documented = documented_settings()
    passed = compose()["services"][service]["environment"]

    assert {"DJANGO_SECRET_KEY", "CHAT_TIMEOUT", "LOG_LEVEL"} <= set(documented)
    assert [name for name in documented if name not in passed] == []


# The healthcheck's address inside the container.
CONTAINER_URL = "http://127.0.0.1:8000"


def compose_healthcheck(url: str, **env: str) -> subprocess.CompletedProcess:
    """The web service's healthcheck command, pointed at `url`, run as Docker would."""
    command = compose()["services"]["web"]["healthcheck"]["test"]
    assert command[:3] == ["CMD", "python", "-c"]
    assert CONTAINER_URL in command[3]
    return subprocess.run(
        [sys.executable, "-c", command[3].replace(CONTAINER_URL, url)],
        env=environment(**env),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.django_db(transaction=True)
def test_the_compose_healthcheck_passes_on_the_deployments_host_behind_its_tls_proxy():
    env = {
        "DJANGO_ALLOWED_HOSTS": "codesuggest.example.com",
        "DJANGO_SECURE_SSL_REDIRECT": "true",
        "CODESUGGEST_EMBEDDED": "true",
    }
    with server_process(env) as url:
        result = compose_healthcheck(url, **env)

    assert result.returncode == 0, result.stderr


@pytest.mark.django_db(transaction=True)
def test_the_compose_healthcheck_fails_when_the_database_does_not_answer(tmp_path):
    env = {
        "DJANGO_ALLOWED_HOSTS": "localhost,127.0.0.1",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'no-such-folder' / 'db.sqlite3'}",
        "REDIS_URL": "",
        "CODESUGGEST_EMBEDDED": "true",
    }
    with server_process(env) as url:
        result = compose_healthcheck(url, **env)

    assert result.returncode != 0
    assert "HTTP Error 503" in result.stderr


@pytest.mark.parametrize(
    ("app", "worker_class"), [("codesuggest.wsgi", "asgi"), ("codesuggest.asgi", "gevent")]
)
def test_gunicorn_refuses_an_application_its_worker_cannot_serve(tmp_path, app, worker_class):
    server = gunicorn(free_port(), tmp_path, app=app, GUNICORN_WORKER_CLASS=worker_class)
    try:
        server.wait(timeout=30)
    finally:
        stderr = stopped(server)

    assert server.returncode != 0
    assert f"The {worker_class} worker cannot serve {app}." in stderr


def test_a_worker_leaves_what_it_loaded_out_of_the_garbage_collectors_full_passes():
    # gunicorn.conf.py's hook as gunicorn calls it, once the worker has loaded the application.
    hook = (
        "import gc, runpy, types\n"
        "import codesuggest.wsgi\n"
        "before = gc.get_freeze_count()\n"
        "conf = runpy.run_path('gunicorn.conf.py')\n"
        "conf['post_worker_init'](types.SimpleNamespace(cfg=types.SimpleNamespace(set=print)))\n"
        "print(before, gc.get_freeze_count(), len(gc.get_objects()))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", hook],
        cwd=settings.BASE_DIR,
        env=environment(CODESUGGEST_EMBEDDED="true"),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )

    before, frozen, tracked = map(int, result.stdout.split()[-3:])
    assert before == 0
    assert frozen > 50_000 > tracked
