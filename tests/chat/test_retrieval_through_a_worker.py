"""Retrieval in chat answered by a real Celery worker process, as deployed: the worker reads the
index `index_repository` wrote in the LOCAL_ENGINE_DIR it shares with the web side
(docs/operations.md), and the snippets reach the prompt the model server receives."""

from pathlib import Path

import pytest

from tests.chat.conftest import ask, system_prompt
from tests.chat.test_retrieval import QUESTION
from tests.chat.worker import Worker
from tests.completions.test_retrieval import SNIPPET_LINE, checkout, index  # noqa: F401
from tests.faults.test_chat_faults import broker  # noqa: F401  (fixtures used by name)
from tests.services import own_redis  # noqa: F401

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def worker(broker, openai_server, checkout, settings, tmp_path):  # noqa: F811
    """A worker started after the checkout was indexed, in the same LOCAL_ENGINE_DIR."""
    worker = Worker(
        broker_url=broker.url,
        model_url=openai_server.url,
        log_dir=tmp_path,
        env={"LOCAL_ENGINE_DIR": str(settings.LOCAL_ENGINE_DIR)},
    )
    worker.start()
    yield worker
    worker.stop()


def ask_about(api, token, project):
    return ask(api, token, QUESTION, resource_type="project", resource_id=project.pk)


def test_a_worker_answers_a_question_about_an_indexed_project_with_its_snippets(
    api, tokens, worker, openai_server, world
):
    response = ask_about(api, tokens["bob"], world.project)

    assert response.status_code == 201, worker.log()
    assert SNIPPET_LINE in system_prompt(openai_server)


def test_a_worker_leaves_out_a_file_the_project_excludes(api, tokens, worker, openai_server, world):
    world.project.context_exclusions = "billing/rates.py"
    world.project.save()

    response = ask_about(api, tokens["bob"], world.project)

    assert response.status_code == 201, worker.log()
    assert SNIPPET_LINE not in system_prompt(openai_server)


def test_a_worker_reads_an_index_written_while_it_runs(
    api,
    tokens,
    checkout: Path,  # noqa: F811
    worker,
    openai_server,
    world,
):
    ask_about(api, tokens["bob"], world.project)  # the worker opens the index

    (checkout / "billing" / "rates.py").write_text(
        "def shipping_rate(parcel_weight, destination_zone):\n"
        "    return parcel_weight * 2.5  # reindexed_rate\n"
    )
    index(checkout)
    response = ask_about(api, tokens["bob"], world.project)

    assert response.status_code == 201, worker.log()
    assert "reindexed_rate" in system_prompt(openai_server)
