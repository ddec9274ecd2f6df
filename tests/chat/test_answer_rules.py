"""How a question ends (`question_answer` and `question_fail`, as the chat task calls them; the
task runs eagerly here): what a subscription is sent and in which order, what the model is asked
for, what the stored answer carries from its question, what a failure stores and tells, and that a
question that has ended stays as it ended."""

import pytest

from chat.models import Message, Role, State
from chat.prompts import ANSWER_TOKENS
from chat.services import question_fail
from chat.tasks import answer_question
from tests.chat.conftest import ask, history, read_events
from tests.fake_servers import Reply, pieces

pytestmark = pytest.mark.django_db(transaction=True)

ANSWER = "Here is the function."  # what the fake chat model answers


def subscription_events(api, token: str, subscription_id: str) -> list:
    return list(read_events(api.get(f"/api/v4/chat/subscriptions/{subscription_id}", token=token)))


# Answered -----------------------------------------------------------------------------------------


def test_a_subscription_is_sent_the_start_each_piece_then_the_whole_answer(
    api, tokens, chat_model, world
):
    ask(api, tokens["alice"], "Hi?", client_subscription_id="editor-1")

    question = Message.objects.get(user=world.alice, role=Role.USER)
    assert subscription_events(api, tokens["alice"], "editor-1") == [
        ("start", {"attempt": 1}),
        *[("chunk", {"content": piece}) for piece in pieces(ANSWER)],
        ("done", {"content": ANSWER, "request_id": str(question.request_id)}),
    ]


def test_a_retried_answer_streams_again_from_the_start_with_its_attempt(
    api, tokens, chat_model, world
):
    # The provider tries 3 times itself, then the task tries again: its second attempt.
    chat_model.script(*[Reply(status=503)] * 3)

    response = ask(api, tokens["alice"], "Hi?", client_subscription_id="editor-1")

    assert response.status_code == 201
    question = Message.objects.get(user=world.alice, role=Role.USER)
    assert subscription_events(api, tokens["alice"], "editor-1") == [
        ("start", {"attempt": 1}),
        ("start", {"attempt": 2}),
        *[("chunk", {"content": piece}) for piece in pieces(ANSWER)],
        ("done", {"content": ANSWER, "request_id": str(question.request_id)}),
    ]


def test_an_unstreamed_answer_is_asked_for_whole_and_within_the_answer_budget(
    api, tokens, chat_model
):
    response = ask(api, tokens["alice"], "Hi?")

    assert response.json() == ANSWER
    assert chat_model.last.json["stream"] is False
    assert chat_model.last.json["max_tokens"] == ANSWER_TOKENS


def test_a_streamed_answer_is_asked_for_within_the_answer_budget(api, tokens, chat_model):
    ask(api, tokens["alice"], "Hi?", client_subscription_id="editor-1")

    assert chat_model.last.json["stream"] is True
    assert chat_model.last.json["max_tokens"] == ANSWER_TOKENS


def test_the_answer_carries_its_questions_request_and_resource(api, tokens, chat_model, world):
    ask(
        api,
        tokens["bob"],
        "What changed?",
        resource_type="commit",
        resource_id="0123abc",
        project_id=world.project.pk,
    )

    question = Message.objects.get(user=world.bob, role=Role.USER)
    answer = Message.objects.get(user=world.bob, role=Role.ASSISTANT)
    assert answer.content == ANSWER
    assert answer.question == question
    assert answer.request_id == question.request_id
    assert (answer.resource_type, answer.resource_id) == ("commit", "0123abc")
    assert answer.project_id == world.project.pk
    assert (answer.state, answer.error) == ("done", "")
    assert (question.state, question.error) == ("done", "")


def test_an_answer_about_nothing_in_particular_carries_no_resource(api, tokens, chat_model, world):
    ask(api, tokens["alice"], "Hi?")

    answer = Message.objects.get(user=world.alice, role=Role.ASSISTANT)
    assert (answer.resource_type, answer.resource_id, answer.project_id) == ("", "", None)


def test_the_task_answers_only_the_question_it_is_given(world, chat_model):
    first = Message.objects.create(
        user=world.alice, role=Role.USER, content="First?", state=State.PENDING
    )
    second = Message.objects.create(
        user=world.alice, role=Role.USER, content="Second?", state=State.PENDING
    )

    answer_question.apply(args=[second.pk])

    assert [(m.role, m.content) for m in Message.objects.filter(role=Role.ASSISTANT)] == [
        ("assistant", ANSWER)
    ]
    assert Message.objects.get(role=Role.ASSISTANT).question == second
    first.refresh_from_db()
    assert first.state == State.PENDING


# Failed -------------------------------------------------------------------------------------------


def test_a_failed_answer_tells_its_subscription_why_and_for_which_request(
    api, tokens, chat_model, world
):
    chat_model.script(Reply(status=400, json={"error": {"message": "bad"}}))

    response = ask(api, tokens["alice"], "Hi?", client_subscription_id="editor-1")

    assert response.status_code == 503
    assert response.json() == {"message": "The openai model server answered 400"}
    question = Message.objects.get(user=world.alice)
    assert (question.state, question.error) == ("failed", "The openai model server answered 400")
    assert subscription_events(api, tokens["alice"], "editor-1") == [
        ("start", {"attempt": 1}),
        (
            "error",
            {
                "message": "The openai model server answered 400",
                "request_id": str(question.request_id),
            },
        ),
    ]


@pytest.mark.parametrize("text", ["   ", "\n\n"], ids=["spaces", "blank lines"])
def test_a_blank_answer_fails_the_question_and_keeps_nothing(api, tokens, chat_model, world, text):
    chat_model.chat_text = text

    response = ask(api, tokens["alice"], "Hi?")

    assert response.status_code == 503
    assert response.json() == {"message": "The chat model returned an empty answer"}
    question = Message.objects.get(user=world.alice)
    assert (question.state, question.error) == ("failed", "The chat model returned an empty answer")


def test_a_failure_is_stored_cut_at_500_characters(world):
    question = Message.objects.create(
        user=world.alice, role=Role.USER, content="Hi?", state=State.PENDING
    )

    question_fail(question_id=question.pk, error="e" * 499 + "!" + "x" * 100)

    question.refresh_from_db()
    assert question.state == State.FAILED
    assert question.error == "e" * 499 + "!"


def test_a_failed_question_with_a_clean_history_still_ends_its_conversation(world):
    question = Message.objects.create(
        user=world.alice,
        role=Role.USER,
        content="Private?",
        state=State.PENDING,
        with_clean_history=True,
    )

    question_fail(question_id=question.pk, error="The chat model did not answer in time")

    assert history(world.alice) == [("user", "Private?"), ("reset", "/reset")]


# A question that has ended stays as it ended ------------------------------------------------------


def test_a_late_failure_of_an_answered_question_changes_nothing(api, tokens, chat_model, world):
    ask(api, tokens["alice"], "Hi?", client_subscription_id="editor-1")
    question = Message.objects.get(user=world.alice, role=Role.USER)
    before = subscription_events(api, tokens["alice"], "editor-1")

    question_fail(question_id=question.pk, error="The chat model did not answer in time")

    question.refresh_from_db()
    assert (question.state, question.error) == ("done", "")
    assert history(world.alice) == [("user", "Hi?"), ("assistant", ANSWER)]
    assert subscription_events(api, tokens["alice"], "editor-1") == before


def test_a_second_failure_keeps_the_first(world):
    question = Message.objects.create(
        user=world.alice, role=Role.USER, content="Hi?", state=State.PENDING
    )

    question_fail(question_id=question.pk, error="The chat model failed")
    question_fail(question_id=question.pk, error="The chat model did not answer in time")

    question.refresh_from_db()
    assert (question.state, question.error) == ("failed", "The chat model failed")


def test_failing_a_question_that_was_deleted_does_nothing(world):
    question = Message.objects.create(
        user=world.alice, role=Role.USER, content="Hi?", state=State.PENDING
    )
    Message.objects.filter(pk=question.pk).delete()  # /clear, or the purge

    question_fail(question_id=question.pk, error="The chat model failed")

    assert not Message.objects.exists()
