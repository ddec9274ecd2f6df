"""A project's Git source, indexed by the Celery task (run eagerly here; by a real worker in
test_git_indexing_worker.py): cloned, then fetched again, and only changed files read."""

import logging
from io import StringIO

from django.core.management import call_command

from projects.models import IndexState, Project, ProjectIndex
from projects.tasks import index_project, refresh_git_indexes
from tests.projects.conftest import code

WINDOWS_PER_FILE = 2  # code()'s 30 lines


def with_source(project: Project, url: str, branch: str = "") -> ProjectIndex:
    return ProjectIndex.objects.create(project=project, git_url=url, git_branch=branch)


def index(project: Project) -> ProjectIndex:
    index_project.delay(project.pk)
    return ProjectIndex.objects.get(project=project)


def test_it_clones_the_branch_and_records_files_chunks_and_commit(world, remote):
    with_source(world.project, remote.url, "main")

    record = index(world.project)

    assert record.state == IndexState.DONE, record.error
    assert (record.files, record.chunks, record.files_read) == (3, 3 * WINDOWS_PER_FILE, 3)
    assert record.indexed_at is not None
    assert record.error == ""


def test_it_records_the_commit_it_indexed(world, remote):
    newest = remote.commit({"orders.py": code("orders", 40)})
    with_source(world.project, remote.url)

    assert index(world.project).commit == newest


def test_a_second_run_without_a_new_commit_reads_no_file(world, remote):
    with_source(world.project, remote.url)
    first = index(world.project)

    second = index(world.project)

    assert second.state == IndexState.DONE
    assert second.files_read == 0
    assert (second.files, second.chunks, second.commit) == (3, first.chunks, first.commit)


def test_a_commit_changing_one_file_reads_that_file_alone(world, remote):
    with_source(world.project, remote.url)
    index(world.project)
    newest = remote.commit({"billing.py": code("billing", 50)})

    record = index(world.project)

    assert (record.files_read, record.files, record.commit) == (1, 3, newest)
    assert record.chunks == 2 * WINDOWS_PER_FILE + 4  # 50 lines: windows at 1, 11, 21 and 31


def test_a_file_deleted_upstream_leaves_the_index(world, remote):
    with_source(world.project, remote.url)
    index(world.project)
    remote.commit({"ui.py": None})

    record = index(world.project)

    assert (record.files_read, record.files_removed, record.files) == (0, 1, 2)
    assert record.chunks == 2 * WINDOWS_PER_FILE


def test_it_follows_the_branch_it_is_given(world, remote):
    release = remote.commit({"release_notes.py": code("release")}, branch="release")
    with_source(world.project, remote.url, "release")

    record = index(world.project)

    assert (record.commit, record.files) == (release, 4)


def test_an_empty_branch_means_the_default_branch(world, remote):
    remote.commit({"release_notes.py": code("release")}, branch="release")
    with_source(world.project, remote.url)

    assert index(world.project).files == 3


def test_a_url_that_cannot_be_fetched_is_recorded_and_the_old_index_kept(world, remote, tmp_path):
    with_source(world.project, remote.url)
    index(world.project)
    ProjectIndex.objects.update(git_url=f"file://{tmp_path}/nowhere.git")

    record = index(world.project)

    assert record.state == IndexState.FAILED
    assert record.error == (
        f"git fetch: fatal: '{tmp_path}/nowhere.git' does not appear to be a git repository"
    )
    assert (record.files, record.chunks) == (3, 3 * WINDOWS_PER_FILE)


def test_a_branch_that_does_not_exist_is_recorded(world, remote):
    with_source(world.project, remote.url, "no-such-branch")

    record = index(world.project)

    assert record.state == IndexState.FAILED
    assert "no-such-branch" in record.error


def test_credentials_in_the_url_never_reach_the_error_or_the_log(world, remote, caplog):
    # Port 9 (discard) refuses at once: no network is needed to fail.
    with_source(world.project, "https://alice:s3cret-token@127.0.0.1:9/acme/tools.git")

    with caplog.at_level(logging.DEBUG):
        record = index(world.project)

    assert record.state == IndexState.FAILED
    assert "127.0.0.1" in record.error
    assert "s3cret-token" not in record.error
    assert "s3cret-token" not in caplog.text


def test_a_file_url_is_refused_unless_the_operator_allows_it(world, remote, settings):
    settings.INDEX_ALLOW_FILE_URLS = False
    with_source(world.project, remote.url)  # saved before the operator said no

    record = index(world.project)

    assert record.state == IndexState.FAILED
    assert record.error == "Use a https://, http://, ssh:// or user@host:path URL."
    assert not (settings.LOCAL_ENGINE_DIR / "checkouts").exists()


def test_a_project_without_a_git_source_is_left_alone(world, remote):
    index_project.delay(world.project.pk)

    assert not ProjectIndex.objects.exists()


def test_the_schedule_indexes_every_project_with_a_git_source(world, remote, settings):
    with_source(world.project, remote.url)
    ProjectIndex.objects.create(project=world.public_project)  # indexed by hand, no source

    refresh_git_indexes.delay()

    assert ProjectIndex.objects.get(project=world.project).state == IndexState.DONE
    assert ProjectIndex.objects.get(project=world.public_project).state == IndexState.NEVER
    schedule = settings.CELERY_BEAT_SCHEDULE["refresh-git-indexes"]
    assert schedule["task"] == "projects.tasks.refresh_git_indexes"
    assert schedule["schedule"] == settings.INDEX_REFRESH_SECONDS


def test_a_run_that_finds_the_project_being_indexed_skips_it(world, remote, tmp_path, caplog):
    with_source(world.project, remote.url)
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    (checkout / "local.py").write_text(code("local"))

    class TaskStartedMidway(StringIO):
        """index_repository's progress output: its first line queues the task, which runs at
        once (eagerly) while the command indexes."""

        def write(self, text: str) -> int:
            if not self.getvalue():
                index_project.delay(world.project.pk)
            return super().write(text)

    with caplog.at_level(logging.INFO):
        call_command(
            "index_repository", "acme/platform/tools", str(checkout), verbosity=3,
            stderr=TaskStartedMidway(),
        )  # fmt: skip

    assert "acme/platform/tools is being indexed already; this run skips it" in caplog.text
    record = ProjectIndex.objects.get(project=world.project)
    assert (record.state, record.files, record.commit) == (IndexState.DONE, 1, "")
