"""Running the projects app's commands (docs/operations.md#commands) in tests: in-process, or as a
deployment script does. Success is silent apart from create_token's plaintext; a failure is one
line on stderr and a non-zero exit."""

import os
import subprocess
import sys
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from tests.services import database_url_for_processes


def run(*args: str) -> str:
    """Run a command in-process; its stdout (stderr must stay empty)."""
    stdout, stderr = StringIO(), StringIO()
    call_command(*args, stdout=stdout, stderr=stderr)
    assert stderr.getvalue() == ""
    return stdout.getvalue()


def fails(*args: str) -> str:
    with pytest.raises(CommandError) as excinfo:
        call_command(*args, stdout=StringIO(), stderr=StringIO())
    return str(excinfo.value)


def manage(*args: str) -> subprocess.CompletedProcess:
    """Run a command as a process, with manage.py on the tests' database."""
    env = {
        **os.environ,
        "DJANGO_SECRET_KEY": "x",
        "DATABASE_URL": database_url_for_processes(),
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
