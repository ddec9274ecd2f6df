"""A question's lease (chat/leases.py) with the answer relay in Redis, as deployed: the task steps
aside from a question another worker is answering, and the periodic sweep leaves such a question
to its worker however long ago it was dispatched. What the sweep logs, to the word."""

from datetime import timedelta

import pytest
from django.utils import timezone

from chat import leases
from chat.models import Message, Role, State
from chat.services import questions_sweep
from chat.tasks import answer_question

pytestmark = pytest.mark.django_db(transaction=True)

LEASE = 15


@pytest.fixture
def relay_in_redis(own_redis, settings):
    settings.CHAT_REDIS_URL = own_redis.url
    settings.CHAT_LEASE_SECONDS = LEASE
    settings.CHAT_QUESTION_DEADLINE = 600
    return own_redis


def pending_question(user, *, dispatched_ago: float) -> Message:
    question = Message.objects.create(
        user=user, role=Role.USER, content="Still there?", state=State.PENDING
    )
    Message.objects.filter(pk=question.pk).update(
        dispatched_at=timezone.now() - timedelta(seconds=dispatched_ago)
    )
    return question


@pytest.mark.services
def test_the_task_steps_aside_from_a_question_another_worker_is_answering(
    world, chat_model, relay_in_redis
):
    question = pending_question(world.alice, dispatched_ago=1)
    other = pending_question(world.alice, dispatched_ago=1)

    with leases.answering(question.pk) as ours:  # another worker, answering it right now
        assert ours
        answer_question.apply(args=[question.pk])
        # A lease is the question's own: another question is answered meanwhile.
        answer_question.apply(args=[other.pk])

    question.refresh_from_db()
    other.refresh_from_db()
    assert question.state == State.PENDING
    assert other.state == State.DONE
    assert len(chat_model.requests) == 1
    assert not Message.objects.filter(role=Role.ASSISTANT, question=question).exists()


@pytest.mark.services
def test_the_sweep_leaves_a_question_to_the_worker_that_holds_its_lease(
    world, chat_model, relay_in_redis
):
    held = pending_question(world.alice, dispatched_ago=2 * LEASE + 5)

    with leases.answering(held.pk):
        assert questions_sweep() == (0, 0)

    held.refresh_from_db()
    assert held.state == State.PENDING
    assert chat_model.requests == []


def test_the_sweep_logs_what_it_did_in_one_line(world, settings, caplog):
    settings.CHAT_QUESTION_DEADLINE = 600
    late = pending_question(world.alice, dispatched_ago=700)
    Message.objects.filter(pk=late.pk).update(created_at=timezone.now() - timedelta(seconds=700))

    assert questions_sweep() == (1, 0)

    logged = [r for r in caplog.records if r.name == "chat.services"]
    assert [(r.levelname, r.getMessage()) for r in logged] == [
        ("WARNING", "Chat sweep: 1 questions failed past their deadline, 0 dispatched again")
    ]
