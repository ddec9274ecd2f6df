"""`manage.py index_repository FULL_PATH DIRECTORY`: a checkout's code indexed for a project,
incrementally, with the run recorded for the admin (docs/operations.md#indexing)."""

import os
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from projects.models import IndexState, ProjectIndex
from tests.projects.conftest import code

PROJECT = "acme/platform/tools"


@pytest.fixture
def checkout(settings, tmp_path, world) -> Path:
    settings.LOCAL_ENGINE_DIR = tmp_path / "engine"
    checkout = tmp_path / "checkout"
    for name in ("orders", "billing", "ui"):
        (checkout / name).mkdir(parents=True)
        (checkout / name / f"{name}.py").write_text(code(name))
    return checkout


def index(checkout: Path, verbosity: int = 1) -> str:
    """Run the command; what it wrote on standard error."""
    stderr = StringIO()
    call_command("index_repository", PROJECT, str(checkout), verbosity=verbosity, stderr=stderr)
    return stderr.getvalue()


def test_it_records_the_files_and_chunks_it_indexed(checkout, world):
    index(checkout)

    record = ProjectIndex.objects.get(project=world.project)
    assert record.state == IndexState.DONE
    assert (record.files, record.chunks, record.files_read) == (3, 6, 3)
    assert record.indexed_at is not None
    assert (record.commit, record.git_url, record.error) == ("", "", "")


def test_indexing_again_reads_only_the_changed_file(checkout, world):
    index(checkout)
    (checkout / "billing" / "billing.py").write_text(code("billing", 50))

    said = index(checkout, verbosity=2)

    assert said == "1 indexed, 2 unchanged, 0 skipped, 0 removed\n"
    record = ProjectIndex.objects.get(project=world.project)
    assert (record.files_read, record.files, record.chunks) == (1, 3, 8)


def test_it_says_nothing_without_verbosity(checkout):
    assert index(checkout) == ""


def test_it_shows_its_progress_with_verbosity_3(checkout):
    said = index(checkout, verbosity=3).splitlines()

    assert said[0] == "0/3 files looked at"
    assert said[-3:] == [
        "3/3 files looked at",
        "3 indexed, 0 unchanged, 0 skipped, 0 removed",
        "3 files and 6 chunks in the index",
    ]


def test_files_that_cannot_be_read_are_skipped_and_counted(checkout, world):
    index(checkout)
    (checkout / "gone.py").symlink_to(checkout / "nowhere.py")
    os.mkfifo(checkout / "pipe.py")  # read, it would wait for a writer for ever

    assert index(checkout, verbosity=2) == "0 indexed, 3 unchanged, 2 skipped, 0 removed\n"

    record = ProjectIndex.objects.get(project=world.project)
    assert (record.state, record.files, record.chunks) == (IndexState.DONE, 3, 6)
