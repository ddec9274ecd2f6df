"""A Celery worker survives its broker's restarts: Redis killed and started again, several times,
with a question in flight each time, and the same worker process answers the next question."""

import signal

import pytest
import redis

from chat.models import Message
from tests.chat.conftest import ask
from tests.chat.test_chat_worker import in_thread, wait_until
from tests.chat.worker import Worker
from tests.conftest import Api
from tests.fake_servers import Reply
from tests.faults.test_chat_faults import broker  # noqa: F401  (fixtures used by name)
from tests.services import RedisServer, own_redis  # noqa: F401

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

ANSWER = "Use the class keyword."
RESTARTS = 3


@pytest.fixture
def worker(broker, openai_server, tmp_path):  # noqa: F811
    openai_server.chat_text = ANSWER
    worker = Worker(
        broker_url=broker.url, model_url=openai_server.url, log_dir=tmp_path, prefork=True
    )
    worker.start()
    yield worker
    worker.stop()


def losses(worker: Worker) -> int:
    return worker.log().count("Connection to broker lost")


def kill_subscription_first(redis_server: RedisServer, worker: Worker) -> None:
    """Kill Redis so that the worker sees its remote-control subscription closed before the
    connection that waits for tasks.

    A dying Redis closes its connections in an order of its own, and a worker that is busy
    reads them in that order later: the worker crashed (kombu 5.7.0) when the subscription came
    first while a task was unacknowledged. Frozen, the worker cannot reconnect the subscription
    in between; closing it first makes the order certain."""
    assert worker.process is not None
    worker.process.send_signal(signal.SIGSTOP)
    try:
        redis.Redis.from_url(redis_server.url).client_kill_filter(_type="pubsub")
        redis_server.kill()
    finally:
        worker.process.send_signal(signal.SIGCONT)


def wait_for_remote_control(redis_server: RedisServer, worker: Worker) -> None:
    """Wait until the worker listens for remote control, which it does once its event loop
    runs on a new connection; unless it died."""

    def listening() -> bool:
        clients = redis.Redis.from_url(redis_server.url).client_list(_type="pubsub")
        return any(int(client["psub"]) for client in clients)

    wait_until(lambda: listening() or worker.process.poll() is not None, message="a listener")
    assert worker.process.poll() is None, worker.log()


def restart_redis_mid_answer(
    redis_server: RedisServer, worker: Worker, model, token: str, question: str
) -> None:
    wait_for_remote_control(redis_server, worker)
    # One child answers (its message unacknowledged) while the worker waits for the next.
    model.script(Reply(default=True, delay=2.0))
    asked, lost = len(model.requests), losses(worker)
    thread, _ = in_thread(ask, Api(), token, question)
    wait_until(lambda: len(model.requests) > asked, message="the model asked")

    kill_subscription_first(redis_server, worker)
    wait_until(
        lambda: losses(worker) > lost or worker.process.poll() is not None,
        message="the worker to see Redis gone",
    )
    redis_server.start()
    thread.join(20)


def test_the_same_worker_answers_after_redis_restarts_with_questions_in_flight(
    broker,  # noqa: F811
    openai_server,
    tokens,
    world,
    worker,
):
    for restart in range(RESTARTS):
        restart_redis_mid_answer(
            broker, worker, openai_server, tokens["alice"], f"In flight {restart}?"
        )
    wait_for_remote_control(broker, worker)

    response = ask(Api(), tokens["alice"], "Still there?")

    assert response.status_code == 201, worker.log()
    assert response.json() == ANSWER
    assert worker.process.poll() is None
    assert worker.started == 1
    assert "Unrecoverable error" not in worker.log()
    # The children finished the questions caught in flight; the broker was not needed for that.
    questions = Message.objects.filter(user=world.alice, role="user")
    assert sorted(questions.values_list("state", flat=True)) == ["done"] * (RESTARTS + 1)
