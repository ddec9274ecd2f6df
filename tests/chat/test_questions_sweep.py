"""The periodic sweep (`chat.tasks.sweep_pending_questions`): every question ends. One still
pending past CHAT_QUESTION_DEADLINE is failed; one last dispatched more than twice the lease ago,
that no worker holds, is dispatched again (here, without a broker, to a thread of this process);
anything else is left alone. tests/faults runs it against a worker that dies."""

from datetime import timedelta

import pytest
from django.utils import timezone

from chat.models import Message, Role, State
from chat.tasks import sweep_pending_questions
from tests.chat.test_chat_worker import wait_until

pytestmark = pytest.mark.django_db(transaction=True)

DEADLINE = 600
LEASE = 15


@pytest.fixture(autouse=True)
def _timings(settings):
    settings.CHAT_QUESTION_DEADLINE = DEADLINE
    settings.CHAT_LEASE_SECONDS = LEASE


def question(user, *, age: float, dispatched_ago: float | None, state=State.PENDING) -> Message:
    """A question asked `age` seconds ago and last handed to a worker `dispatched_ago` seconds
    ago (None: never)."""
    message = Message.objects.create(user=user, role=Role.USER, content="Still there?", state=state)
    now = timezone.now()
    dispatched_at = None if dispatched_ago is None else now - timedelta(seconds=dispatched_ago)
    Message.objects.filter(pk=message.pk).update(
        created_at=now - timedelta(seconds=age), dispatched_at=dispatched_at
    )
    return message


def sweep() -> tuple[int, int]:
    return sweep_pending_questions.apply().get()


def state_of(message: Message) -> tuple[str, str]:
    message.refresh_from_db()
    return message.state, message.error


def test_it_fails_a_question_pending_past_its_deadline(world, chat_model, caplog):
    late = question(world.alice, age=DEADLINE + 5, dispatched_ago=DEADLINE + 5)

    assert sweep() == (1, 0)

    assert state_of(late) == (State.FAILED, "The chat model did not answer in time")
    assert chat_model.requests == []
    assert "Chat sweep: 1 questions failed past their deadline, 0 dispatched again" in caplog.text


def test_it_dispatches_again_a_question_whose_worker_went_quiet(world, chat_model, caplog):
    orphan = question(world.alice, age=2 * LEASE + 5, dispatched_ago=2 * LEASE + 5)

    assert sweep() == (0, 1)

    wait_until(lambda: state_of(orphan)[0] == State.DONE, message="the question to be answered")
    answer = Message.objects.get(role=Role.ASSISTANT, question=orphan)
    assert answer.content == "Here is the function."
    assert len(chat_model.requests) == 1
    orphan.refresh_from_db()
    assert orphan.dispatched_at > timezone.now() - timedelta(seconds=LEASE)
    assert "Chat sweep: 0 questions failed past their deadline, 1 dispatched again" in caplog.text


def test_a_question_past_its_deadline_is_failed_not_dispatched_again(world, chat_model):
    both = question(world.alice, age=DEADLINE + 5, dispatched_ago=2 * LEASE + 5)

    assert sweep() == (1, 0)

    assert state_of(both) == (State.FAILED, "The chat model did not answer in time")
    assert chat_model.requests == []


def test_it_leaves_alone_what_may_still_be_answered_and_what_has_ended(world, chat_model, caplog):
    # Dispatched within twice the lease: its worker may not have picked it up yet.
    recent = question(world.alice, age=DEADLINE - 5, dispatched_ago=2 * LEASE - 5)
    # Never dispatched: the request that stored it is still handing it over.
    undispatched = question(world.alice, age=2 * LEASE + 5, dispatched_ago=None)
    answered = question(
        world.alice, age=DEADLINE + 5, dispatched_ago=DEADLINE + 5, state=State.DONE
    )

    assert sweep() == (0, 0)

    assert state_of(recent) == (State.PENDING, "")
    assert state_of(undispatched) == (State.PENDING, "")
    assert state_of(answered) == (State.DONE, "")
    assert chat_model.requests == []
    assert "Chat sweep" not in caplog.text
