"""`make run` and manage.py quickstart, which it calls before serving: an admin, a demo project,
and a token an editor can keep using from one start to the next."""

import os
import re
import socket
import stat
import subprocess
from datetime import timedelta
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone

from projects.models import PersonalAccessToken, token_digest


@pytest.fixture
def local_dir(settings, tmp_path):
    """The command keeps its files in BASE_DIR/var: a temporary one, not the work tree's."""
    settings.BASE_DIR = tmp_path
    return tmp_path / "var"


def quickstart() -> str:
    """Run the command; the token it printed."""
    stdout = StringIO()
    call_command("quickstart", stdout=stdout)
    match = re.search(r"Token:\s+(glpat-\S+)", stdout.getvalue())
    assert match, stdout.getvalue()
    return match.group(1)


def works(api, token: str) -> bool:
    return api.get("/api/v4/user", token=token).status_code == 200


def test_it_prints_a_token_that_works(api, db, local_dir):
    token = quickstart()

    response = api.get("/api/v4/user", token=token)
    assert response.status_code == 200
    assert response.json()["username"] == "admin"


def test_the_next_start_prints_the_same_token_and_it_still_works(api, db, local_dir):
    first = quickstart()

    assert quickstart() == first
    assert works(api, first)
    assert PersonalAccessToken.objects.filter(name="quickstart").count() == 1


def test_a_revoked_token_is_replaced_by_a_new_one(api, db, local_dir):
    first = quickstart()
    PersonalAccessToken.objects.filter(digest=token_digest(first)).update(revoked=True)

    second = quickstart()

    assert second != first
    assert works(api, second)
    assert quickstart() == second


def test_an_expired_token_is_replaced_by_a_new_one(api, db, local_dir):
    first = quickstart()
    yesterday = timezone.localdate() - timedelta(days=1)
    PersonalAccessToken.objects.filter(digest=token_digest(first)).update(expires_at=yesterday)

    second = quickstart()

    assert second != first
    assert works(api, second)


# Outside a test transaction: PostgreSQL cannot empty tables inside one.
@pytest.mark.django_db(transaction=True)
def test_a_recreated_database_gets_a_new_token(api, local_dir):
    first = quickstart()
    call_command("flush", "--no-input")

    second = quickstart()

    assert second != first
    assert works(api, second)


def test_the_token_is_kept_readable_by_its_owner_only(db, local_dir):
    token = quickstart()

    token_file = local_dir / "quickstart-token"
    assert token_file.read_text() == token
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    assert stat.S_IMODE((local_dir / "admin-password").stat().st_mode) == 0o600


def test_it_prints_the_address_the_server_will_answer_on(db, local_dir):
    stdout = StringIO()

    call_command("quickstart", "--url", "http://127.0.0.1:8123", stdout=stdout)

    assert "codesuggest is starting on http://127.0.0.1:8123\n" in stdout.getvalue()
    assert "Admin:  http://127.0.0.1:8123/admin/" in stdout.getvalue()
    assert "curl -s -X POST http://127.0.0.1:8123/api/v4/code_suggestions/completions" in (
        stdout.getvalue()
    )


def test_make_run_stops_before_migrating_when_its_port_is_taken(tmp_path):
    database = tmp_path / "db.sqlite3"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("MAKE", "MFLAGS"))},
        "DATABASE_URL": f"sqlite:///{database}",
        # A setting that stops manage.py at once: were the check missing, this test would fail
        # quickly instead of building the engine's models and serving.
        "COMPLETIONS_PROVIDER": "not-a-provider",
    }
    with socket.create_server(("127.0.0.1", 0)) as holder:
        port = holder.getsockname()[1]
        result = subprocess.run(
            ["make", "run", f"RUN_PORT={port}"],
            cwd=settings.BASE_DIR,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    assert result.returncode != 0
    assert f"make run: 127.0.0.1:{port} is already in use" in result.stderr
    assert "manage.py" not in result.stdout + result.stderr
    assert not database.exists()
