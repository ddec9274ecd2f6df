"""Every chat question ends, answered or failed, whatever fails around it: a worker killed
mid-answer, database connections dropped, the broker down when the question is asked, a
question nobody will ever answer. Real worker processes and a Redis server of the test's own."""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from chat.models import Message
from chat.tasks import sweep_pending_questions
from tests.chat.conftest import ask, history, read_events
from tests.chat.test_chat_worker import in_thread, wait_until
from tests.chat.worker import Worker, use_broker
from tests.conftest import Api
from tests.fake_servers import Reply
from tests.services import database_is_postgresql

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

ANSWER = "Use the class keyword."


@pytest.fixture
def model(openai_server):
    openai_server.chat_text = ANSWER
    return openai_server


@pytest.fixture
def broker(own_redis, settings):
    """This process asks through a Redis of the test's own, as a web process would."""
    settings.CHAT_REDIS_URL = own_redis.url
    settings.CHAT_TIMEOUT = 15.0
    use_broker(own_redis.url)
    yield own_redis
    use_broker(None)


def start_worker(broker, model, tmp_path, **env: str) -> Worker:
    worker = Worker(
        broker_url=broker.url,
        model_url=model.url,
        log_dir=tmp_path,
        # As deployed: a killed worker's message comes back only after the visibility timeout,
        # far too late; the sweep (Celery beat) must recover the question.
        beat=True,
        env={"CELERY_BROKER_VISIBILITY_TIMEOUT": "3600", "CHAT_SWEEP_SECONDS": "1", **env},
    )
    worker.start()
    return worker


@pytest.fixture
def tokens(world):
    from tests.conftest import make_token

    return {name: make_token(getattr(world, name)) for name in ("alice", "bob")}


def states(user) -> list[str]:
    return list(Message.objects.filter(user=user, role="user").values_list("state", flat=True))


def test_a_killed_workers_question_is_answered_by_the_next_within_seconds(
    broker, model, tokens, world, tmp_path
):
    worker = start_worker(broker, model, tmp_path, CHAT_LEASE_SECONDS="2")
    try:
        model.script(Reply(default=True, delay=5.0))  # the first worker will not see it end
        thread, result = in_thread(ask, Api(), tokens["alice"], "Will this survive?")
        wait_until(lambda: len(model.requests) == 1, message="the model to be asked")

        worker.kill()
        worker.start()
        thread.join(30)

        assert result["value"].status_code == 201, worker.log()
        assert result["value"].json() == ANSWER
        assert len(model.requests) == 2
        assert history(world.alice) == [("user", "Will this survive?"), ("assistant", ANSWER)]
    finally:
        worker.stop()


def test_database_connections_dropped_mid_answer_cost_a_retry_not_the_question(
    broker, model, tokens, world, tmp_path
):
    if not database_is_postgresql():
        pytest.skip("terminating connections needs PostgreSQL")
    worker = start_worker(broker, model, tmp_path)
    try:
        model.script(Reply(default=True, delay=1.5))
        thread, result = in_thread(ask, Api(), tokens["alice"], "Still there?")
        wait_until(lambda: len(model.requests) == 1, message="the model to be asked")

        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        thread.join(30)

        assert result["value"].status_code == 201, worker.log()
        assert result["value"].json() == ANSWER
        assert history(world.alice) == [("user", "Still there?"), ("assistant", ANSWER)]
    finally:
        worker.stop()


def test_a_question_asked_while_the_broker_is_down_fails_at_once(broker, tokens, world, api):
    broker.kill()

    response = ask(api, tokens["alice"], "Anyone?")

    assert response.status_code == 503
    assert response.json() == {
        "message": "503 Service Unavailable - chat cannot queue questions right now"
    }
    assert states(world.alice) == ["failed"]


def test_a_stream_asked_for_while_redis_is_down_stores_nothing(broker, tokens, world, api):
    broker.kill()

    response = ask(api, tokens["alice"], "Anyone?", client_subscription_id="sub-1")

    assert response.status_code == 503
    assert response.json() == {
        "message": "503 Service Unavailable - chat cannot reach its answer relay (Redis); "
        "nothing was asked"
    }
    assert history(world.alice) == []


def test_the_sweep_fails_a_question_nobody_answered_and_tells_its_stream(
    broker, tokens, world, api, settings
):
    settings.CHAT_TIMEOUT = 0.5  # no worker runs: the question waits in the queue
    response = ask(api, tokens["alice"], "Hello?", client_subscription_id="sub-2")
    assert response.status_code == 504
    assert states(world.alice) == ["pending"]

    past_deadline = timezone.now() - timedelta(seconds=settings.CHAT_QUESTION_DEADLINE + 1)
    Message.objects.filter(user=world.alice).update(created_at=past_deadline)
    assert sweep_pending_questions.apply().get() == (1, 0)

    assert states(world.alice) == ["failed"]
    assert not Message.objects.filter(role="assistant").exists()
    events = list(read_events(api.get("/api/v4/chat/subscriptions/sub-2", token=tokens["alice"])))
    assert events[-1] == (
        "error",
        {
            "message": "The chat model did not answer in time",
            "request_id": events[-1][1]["request_id"],
        },
    )


def test_the_sweep_dispatches_again_a_question_the_broker_lost(
    broker, model, tokens, world, tmp_path, settings
):
    settings.CHAT_TIMEOUT = 0.5
    ask(Api(), tokens["alice"], "Lost?")
    # Redis restarted without its data: the queued message is gone, the question is pending.
    broker.kill()
    broker.start()
    Message.objects.filter(user=world.alice).update(
        dispatched_at=timezone.now() - timedelta(minutes=5)
    )
    worker = start_worker(broker, model, tmp_path)
    try:
        wait_until(
            lambda: states(world.alice) == ["done"], timeout=20, message="the sweep's dispatch"
        )
    finally:
        worker.stop()
    assert history(world.alice) == [("user", "Lost?"), ("assistant", ANSWER)]
