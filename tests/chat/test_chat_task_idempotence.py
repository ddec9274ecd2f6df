"""The chat task is safe to run twice (acks_late: a broker redelivers a message whose worker
died, and the sweep dispatches a question again): the model is asked once and one answer is
stored, however many times the task runs."""

import pytest

from chat.models import Message, Role, State
from chat.tasks import answer_question

pytestmark = pytest.mark.django_db(transaction=True)


def test_running_the_task_twice_asks_the_model_once_and_stores_one_answer(world, chat_model):
    # A question as the web process leaves it for the workers: stored, pending, dispatched.
    question = Message.objects.create(
        user=world.alice, role=Role.USER, content="What is a monad?", state=State.PENDING
    )

    # As a worker runs a delivered message, twice: the second delivery of the same message.
    answer_question.apply(args=[question.pk])
    answer_question.apply(args=[question.pk])

    assert len(chat_model.requests) == 1
    answers = Message.objects.filter(role=Role.ASSISTANT, question=question)
    assert [answer.content for answer in answers] == ["Here is the function."]
    question.refresh_from_db()
    assert question.state == State.DONE
