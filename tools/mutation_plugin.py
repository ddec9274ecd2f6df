"""pytest plugin for the mutation runs (tools/mutation.py; pyproject.toml loads it with `-p`).

mutmut runs each mutant's tests in a process forked from its own, several at once. Settings name
the SQLite test database after the process that imported them, which every fork inherits: two
mutants would create, use and delete one file together. Each process gets its own here.
"""

import os
from pathlib import Path

import pytest


def pytest_configure(config: pytest.Config) -> None:
    from django.conf import settings

    database = settings.DATABASES["default"]
    if database["ENGINE"] == "django.db.backends.sqlite3":
        name = Path(settings.BASE_DIR) / "var" / f"test-{os.getpid()}.sqlite3"
        database.setdefault("TEST", {})["NAME"] = str(name)
