"""What asking a question stores, and what it leaves when it is refused (`question_submit`, behind
POST /api/v4/chat/completions and GraphQL's aiAction; the task runs eagerly here): every field as
asked and a blank for each left out, the /reset markers around a question asked with a clean
history, a subscription used again that streams only its new answer, and what is (not) stored
when the rate limit, the answer relay or the broker refuses the question."""

import re
import time
import uuid

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

from chat.models import Message, Role
from tests.chat.conftest import ask, history, read_events, sent_messages
from tests.chat.worker import use_broker
from tests.graphql.conftest import CHAT_MUTATION, data_of, graphql
from tests.services import free_port

pytestmark = pytest.mark.django_db(transaction=True)

ANSWER = "Here is the function."  # what the fake chat model answers


def subscription_events(api, token: str, subscription_id: str) -> list:
    return list(read_events(api.get(f"/api/v4/chat/subscriptions/{subscription_id}", token=token)))


def wait_for_answer(question: Message, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        question.refresh_from_db()
        if question.state != "pending":
            return
        time.sleep(0.02)
    raise AssertionError("the question was not answered in time")


def test_a_question_is_stored_with_everything_it_was_asked_with(api, tokens, chat_model, world):
    context = [{"category": "file", "id": "app/user.rb", "content": "class User\nend"}]

    response = ask(
        api,
        tokens["bob"],
        "What does User do?",
        resource_type="project",
        resource_id=world.project.pk,
        additional_context=context,
        referer_url="https://gitlab.example.com/acme/platform/tools",
        client_subscription_id="editor-7",
    )

    assert response.status_code == 201
    question = Message.objects.get(user=world.bob, role=Role.USER)
    assert question.content == "What does User do?"
    assert (question.state, question.error) == ("done", "")
    assert (question.resource_type, question.resource_id) == ("project", str(world.project.pk))
    assert question.project_id == world.project.pk
    assert question.resource_description == 'the project "Tools" (acme/platform/tools)'
    assert question.additional_context == [{**context[0], "metadata": {}}]
    assert question.referer_url == "https://gitlab.example.com/acme/platform/tools"
    assert question.client_subscription_id == "editor-7"
    assert question.with_clean_history is False
    assert question.dispatched_at is not None


def test_a_question_asked_with_nothing_else_stores_blanks(api, tokens, chat_model, world):
    ask(api, tokens["alice"], "Plain?")

    question = Message.objects.get(user=world.alice, role=Role.USER)
    assert (question.resource_type, question.resource_id, question.project_id) == ("", "", None)
    assert question.resource_description == ""
    assert question.additional_context == []
    assert question.referer_url == ""
    assert question.client_subscription_id == ""
    assert question.with_clean_history is False


def test_a_commit_question_stores_the_project_it_is_in(api, tokens, chat_model, world):
    ask(
        api,
        tokens["bob"],
        resource_type="commit",
        resource_id="0123abc",
        project_id=world.project.pk,
    )

    question = Message.objects.get(user=world.bob, role=Role.USER)
    assert (question.resource_type, question.resource_id) == ("commit", "0123abc")
    assert question.project_id == world.project.pk
    assert question.resource_description == "the commit 0123abc in the project acme/platform/tools"


def test_a_graphql_question_keeps_the_conversation_and_stores_no_clean_history(
    api, tokens, chat_model, world
):
    ask(api, tokens["alice"], "First?")

    response = graphql(
        api,
        CHAT_MUTATION,
        {
            "question": "Second?",
            "resourceId": None,
            "currentFileContext": None,
            "clientSubscriptionId": None,
            "platformOrigin": "vs_code_extension",
        },
        token=tokens["alice"],
    )

    assert data_of(response)["aiAction"]["errors"] == []
    # aiAction returns before the answer, which a thread of this process gives.
    second = Message.objects.get(user=world.alice, content="Second?")
    wait_for_answer(second)
    assert second.with_clean_history is False
    assert second.client_subscription_id == ""
    assert sent_messages(chat_model) == [
        ("user", "First?"),
        ("assistant", ANSWER),
        ("user", "Second?"),
    ]
    assert [role for role, _ in history(world.alice)] == ["user", "assistant", "user", "assistant"]


def test_a_question_with_a_clean_history_is_fenced_by_reset_markers(api, tokens, chat_model, world):
    ask(api, tokens["alice"], "First?")

    ask(api, tokens["alice"], "Private?", with_clean_history=True)

    assert history(world.alice) == [
        ("user", "First?"),
        ("assistant", ANSWER),
        ("reset", "/reset"),
        ("user", "Private?"),
        ("assistant", ANSWER),
        ("reset", "/reset"),
    ]
    private = Message.objects.get(user=world.alice, content="Private?")
    assert private.with_clean_history is True
    # The markers are alice's: bob's conversation is untouched by them.
    assert not Message.objects.filter(user=world.bob).exists()


def test_a_subscription_used_again_streams_only_the_new_answer(api, tokens, chat_model, world):
    chat_model.chat_text = "The first answer."
    ask(api, tokens["alice"], "First?", client_subscription_id="editor-1")
    chat_model.chat_text = "The second answer."

    ask(api, tokens["alice"], "Second?", client_subscription_id="editor-1")

    events = subscription_events(api, tokens["alice"], "editor-1")
    assert [event for event, _ in events if event in ("start", "done")] == ["start", "done"]
    assert events[-1][1]["content"] == "The second answer."
    assert "first" not in "".join(data.get("content", "") for _, data in events)


def test_another_users_subscription_of_the_same_name_is_left_alone(api, tokens, chat_model):
    ask(api, tokens["alice"], "Alice's?", client_subscription_id="editor-1")

    ask(api, tokens["bob"], "Bob's?", client_subscription_id="editor-1")

    alices = subscription_events(api, tokens["alice"], "editor-1")
    assert alices[-1][0] == "done"
    assert alices[0] == ("start", {"attempt": 1})


# Refused: the rate limit, the relay, the broker ---------------------------------------------------


def test_the_question_past_the_limit_is_refused_and_not_stored(
    api, tokens, chat_model, world, settings
):
    settings.CHAT_RATE_LIMIT = 2
    assert ask(api, tokens["alice"], "One?").status_code == 201
    assert ask(api, tokens["alice"], "Two?").status_code == 201

    refused = ask(api, tokens["alice"], "Three?")

    assert refused.status_code == 429
    assert [content for role, content in history(world.alice) if role == "user"] == ["One?", "Two?"]
    assert len(chat_model.requests) == 2
    # The limit is alice's own: bob still has his.
    assert ask(api, tokens["bob"], "Bob's?").status_code == 201


def test_a_subscription_the_relay_cannot_reach_stores_and_asks_nothing(
    api, tokens, chat_model, settings
):
    settings.CHAT_REDIS_URL = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there

    response = ask(api, tokens["alice"], "Anyone?", client_subscription_id="editor-1")

    assert response.status_code == 503
    assert response.json() == {
        "message": "503 Service Unavailable - chat cannot reach its answer relay (Redis); "
        "nothing was asked"
    }
    assert response["Retry-After"] == "5"
    assert not Message.objects.exists()
    assert chat_model.requests == []


@pytest.fixture
def broker_down():
    """This process sends its tasks to a broker that nothing answers, as a web process whose
    Redis broker went away; the answer relay stays in this process's cache."""
    port = free_port()
    use_broker(f"redis://127.0.0.1:{port}/0")
    yield port
    use_broker(None)


def test_a_question_the_broker_cannot_take_is_failed_and_says_so(
    api, tokens, chat_model, world, broker_down, caplog
):
    response = ask(api, tokens["alice"], "Anyone?", client_subscription_id="editor-1")

    assert response.status_code == 503
    assert response.json() == {
        "message": "503 Service Unavailable - chat cannot queue questions right now"
    }
    assert response["Retry-After"] == "5"
    question = Message.objects.get(user=world.alice)
    assert (question.role, question.content) == ("user", "Anyone?")
    assert (question.state, question.error) == ("failed", "The question could not be queued")
    assert chat_model.requests == []
    [logged] = [r for r in caplog.records if r.name == "chat.services"]
    assert logged.levelname == "ERROR"
    assert re.fullmatch(
        rf"Chat question {question.pk} could not be queued: OperationalError: "
        rf"Error \d+ connecting to 127\.0\.0\.1:{broker_down}\. Connection refused\.",
        logged.getMessage(),
    ), logged.getMessage()
    # Whoever reads the subscription hears of it at once, for this request.
    events = subscription_events(api, tokens["alice"], "editor-1")
    assert events == [
        (
            "error",
            {"message": "The question could not be queued", "request_id": str(question.request_id)},
        )
    ]


def test_a_question_answered_before_sending_it_failed_is_answered_not_failed(
    api, tokens, chat_model, world, broker_down, monkeypatch
):
    """The task went out and a worker answered it before the call that sent it raised, as when a
    Redis broker's connection drops after it took the task and before it replied."""
    from chat.tasks import answer_question

    def sent_and_answered_then_failed(question_id):
        answer_question.apply(args=(question_id,))
        raise RedisConnectionError("Connection closed by server.")

    monkeypatch.setattr(answer_question, "delay", sent_and_answered_then_failed)

    response = ask(api, tokens["alice"], "Anyone?")

    assert response.status_code == 201
    question = Message.objects.get(user=world.alice, role="user")
    assert (question.state, question.error) == ("done", "")
    assert response.json() == question.answers.get().content


def test_a_question_the_broker_cannot_take_is_still_in_the_history_as_failed(
    api, tokens, chat_model, world, broker_down
):
    ask(api, tokens["alice"], "Anyone?")
    query = "query { aiMessages { nodes { requestId role content errors } } }"

    nodes = data_of(graphql(api, query, {}, token=tokens["alice"]))["aiMessages"]["nodes"]

    question = Message.objects.get(user=world.alice)
    request_id = str(question.request_id)
    assert uuid.UUID(request_id)
    assert nodes == [
        {"requestId": request_id, "role": "USER", "content": "Anyone?", "errors": []},
        {
            "requestId": request_id,
            "role": "ASSISTANT",
            "content": "The question could not be queued",
            "errors": ["The question could not be queued"],
        },
    ]
