"""pytest plugin for the mutation runs (tools/mutation.py; pyproject.toml loads it with `-p`).

mutmut runs each mutant's tests in a process forked from its own, several at once. Settings name
the SQLite test database after the process that imported them, which every fork inherits: two
mutants would create, use and delete one file together. Each process gets its own here, a copy
of the database tools/mutation.py migrated once: migrating anew took most of each mutant's time.
"""

import os
import shutil
from pathlib import Path

import pytest

TEMPLATE = "test-template.sqlite3"


def pytest_configure(config: pytest.Config) -> None:
    from django.conf import settings

    database = settings.DATABASES["default"]
    if database["ENGINE"] != "django.db.backends.sqlite3":
        return
    folder = Path(settings.BASE_DIR) / "var"
    name = folder / f"test-{os.getpid()}.sqlite3"
    database.setdefault("TEST", {})["NAME"] = str(name)
    if (folder / TEMPLATE).exists():
        shutil.copyfile(folder / TEMPLATE, name)
        # Kept, not created: the migrations then find nothing left to do.
        config.option.reuse_db = True
        _remove_copies_of_ended_processes(folder)


def _remove_copies_of_ended_processes(folder: Path) -> None:
    # Not removed by the process itself: it writes its buffered usage events at exit.
    for path in folder.glob("test-*.sqlite3*"):
        pid = path.name.removeprefix("test-").partition(".")[0]
        if pid.isdigit() and not Path(f"/proc/{pid}").exists():
            path.unlink(missing_ok=True)
