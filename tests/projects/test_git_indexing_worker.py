"""A project's Git source indexed by a real Celery worker process, as deployed: the task goes
through the broker, the worker clones into the LOCAL_ENGINE_DIR it shares with the web side,
and records the run in the database the admin reads."""

import time

import pytest

from projects.indexing import checkout_directory
from projects.models import IndexState, ProjectIndex
from projects.tasks import index_project
from tests.chat.worker import Worker
from tests.faults.test_chat_faults import broker  # noqa: F401  (a fixture used by name)
from tests.projects.conftest import code
from tests.projects.test_admin import PROJECTS
from tests.services import own_redis  # noqa: F401

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def indexing_worker(broker, model_server, remote, settings, tmp_path):  # noqa: F811
    worker = Worker(
        broker_url=broker.url,
        model_url=model_server.url,  # unused: the worker starts as deployed
        log_dir=tmp_path,
        env={"LOCAL_ENGINE_DIR": str(settings.LOCAL_ENGINE_DIR), "INDEX_ALLOW_FILE_URLS": "true"},
    )
    worker.start()
    yield worker
    worker.stop()


def indexed(project, worker: Worker, after: float = 0.0, timeout: float = 30) -> ProjectIndex:
    """The project's record once a run started after `after` (a timestamp) has ended."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        record = ProjectIndex.objects.get(project=project)
        ended = record.state in (IndexState.DONE, IndexState.FAILED)
        if ended and record.started_at and record.started_at.timestamp() > after:
            return record
        time.sleep(0.1)
    raise AssertionError(f"The worker did not index {project}:\n{worker.log()}")


def test_a_worker_clones_the_source_then_reads_only_what_a_commit_changed(
    world, remote, indexing_worker
):
    ProjectIndex.objects.create(project=world.project, git_url=remote.url)

    index_project.delay(world.project.pk)
    first = indexed(world.project, indexing_worker)
    newest = remote.commit({"ui.py": code("ui", 50)})
    index_project.delay(world.project.pk)
    second = indexed(world.project, indexing_worker, after=first.started_at.timestamp())

    assert (first.state, first.files_read, first.files, first.chunks) == ("done", 3, 3, 6)
    assert (second.files_read, second.files, second.chunks, second.commit) == (1, 3, 8, newest)


def test_a_project_deleted_while_it_is_indexed_stops_the_run_and_loses_its_checkout(
    world, remote, indexing_worker
):
    remote.commit({f"module_{number}.py": code(f"module_{number}") for number in range(3000)})
    ProjectIndex.objects.create(project=world.project, git_url=remote.url)
    checkout = checkout_directory(world.project)

    index_project.delay(world.project.pk)
    reading(world.project, indexing_worker)
    world.project.delete()

    log = ended(indexing_worker, "is forgotten")
    assert "was deleted while being indexed" in log
    assert "raised unexpected" not in log
    assert not checkout.exists()


def test_the_admin_tells_a_run_whose_worker_was_killed_from_a_run_going_on(
    world, remote, indexing_worker, admin_client
):
    remote.commit({f"module_{number}.py": code(f"module_{number}") for number in range(3000)})
    ProjectIndex.objects.create(project=world.project, git_url=remote.url)

    index_project.delay(world.project.pk)
    reading(world.project, indexing_worker)
    while_running = admin_client.get(PROJECTS).content.decode()
    indexing_worker.kill()
    after_the_kill = admin_client.get(PROJECTS).content.decode()

    assert "Reading files: " in while_running
    assert "Interrupted" not in while_running
    assert (
        "Interrupted (reading files): the process running it stopped. It runs again when the "
        "broker hands the task out again, or on schedule."
    ) in after_the_kill
    assert ProjectIndex.objects.get(project=world.project).state == IndexState.READING


def reading(project, worker: Worker, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while ProjectIndex.objects.filter(project=project, state=IndexState.READING).count() == 0:
        assert time.monotonic() < deadline, worker.log()
        time.sleep(0.05)


def ended(worker: Worker, words: str, timeout: float = 30) -> str:
    """The worker's log, once the words are in it."""
    deadline = time.monotonic() + timeout
    while words not in worker.log():
        assert time.monotonic() < deadline, worker.log()
        time.sleep(0.1)
    return worker.log()
