"""The history and the resources around a question, to the exact record: the /reset marker a typed
`/reset` leaves, the very first message of a database in its user's history, a failed question
read back through aiMessages (with the words it gets when no error was kept), the records'
fields, and the group and the largest record id a question can be about."""

import pytest
from django.core.management.color import no_style
from django.db import connection

from chat.models import Message, Role, State
from chat.services import chat_records
from codesuggest.api.params import INT_MAX
from projects.models import Project
from tests.chat.conftest import ask, history, sent_messages, system_prompt
from tests.graphql.conftest import CHAT_MUTATION, data_of, graphql

pytestmark = pytest.mark.django_db(transaction=True)

ANSWER = "Here is the function."  # what the fake chat model answers
AI_MESSAGES = "query { aiMessages { nodes { requestId role content errors timestamp } } }"


def typed(api, token: str, text: str) -> None:
    response = graphql(
        api,
        CHAT_MUTATION,
        {"question": text, "platformOrigin": "vs_code_extension"},
        token=token,
    )
    assert data_of(response)["aiAction"]["errors"] == []


def test_a_typed_reset_leaves_a_reset_marker(api, tokens, chat_model, world):
    ask(api, tokens["alice"], "First?")

    typed(api, tokens["alice"], "  /reset ")

    assert history(world.alice) == [("user", "First?"), ("assistant", ANSWER), ("reset", "/reset")]


@pytest.mark.django_db(transaction=True, reset_sequences=True)
def test_the_first_message_of_a_database_is_in_its_users_history(api, tokens, chat_model, world):
    ask(api, tokens["alice"], "First?")
    assert Message.objects.get(content="First?").pk == 1

    ask(api, tokens["alice"], "Second?")

    assert sent_messages(chat_model) == [
        ("user", "First?"),
        ("assistant", ANSWER),
        ("user", "Second?"),
    ]


def test_a_failed_question_without_its_error_reads_as_not_answered(api, tokens, world):
    question = Message.objects.create(
        user=world.alice, role=Role.USER, content="Hi?", state=State.FAILED, error=""
    )

    nodes = data_of(graphql(api, AI_MESSAGES, {}, token=tokens["alice"]))["aiMessages"]["nodes"]

    request_id = str(question.request_id)
    asked, failed = nodes
    assert (asked["requestId"], asked["role"], asked["content"]) == (request_id, "USER", "Hi?")
    assert asked["errors"] == []
    assert failed["requestId"] == request_id
    assert failed["role"] == "ASSISTANT"
    assert failed["content"] == "The question could not be answered"
    assert failed["errors"] == ["The question could not be answered"]
    # When it failed: the question's last change, not a blank.
    assert failed["timestamp"].endswith("Z")
    assert failed["timestamp"] >= asked["timestamp"]


def test_records_carry_no_error_but_a_failures(world):
    answered = Message.objects.create(user=world.alice, role=Role.USER, content="One?")
    Message.objects.create(user=world.alice, role=Role.ASSISTANT, content=ANSWER, question=answered)
    failed = Message.objects.create(
        user=world.alice, role=Role.USER, content="Two?", state=State.FAILED, error="Too slow"
    )

    records = chat_records(user=world.alice, request_ids=None, roles=None)

    assert [(r.role, r.content, r.error) for r in records] == [
        ("user", "One?", ""),
        ("assistant", ANSWER, ""),
        ("user", "Two?", ""),
        ("assistant", "Too slow", "Too slow"),
    ]
    assert records[-1].id is None
    assert records[-1].request_id == str(failed.request_id)
    failed.refresh_from_db()
    assert records[-1].created_at == failed.updated_at


def test_a_group_question_stores_the_group(api, tokens, chat_model, world):
    ask(api, tokens["bob"], "What is in it?", resource_type="group", resource_id=world.group.pk)

    question = Message.objects.get(user=world.bob, role=Role.USER)
    assert (question.resource_type, question.resource_id) == ("group", str(world.group.pk))
    assert question.project_id is None
    assert question.resource_description == 'the group "Acme" (acme)'


@pytest.fixture
def biggest(world):
    """A project whose id is the largest a bigint holds."""
    project = Project.objects.create(pk=INT_MAX, name="Big", path="big", group=world.group)
    yield project
    # SQLite's AUTOINCREMENT goes on from the largest id it ever gave, and past this one it
    # refuses every insert ("database or disk is full"): the later tests' projects with it.
    Project.objects.filter(pk=INT_MAX).delete()
    if connection.vendor == "sqlite":
        # It then goes on from the largest id left in the table (PostgreSQL's sequence never
        # moved: an explicit id does not advance it).
        sequence = {"table": Project._meta.db_table, "column": "id"}
        with connection.cursor() as cursor:
            for sql in connection.ops.sequence_reset_by_name_sql(no_style(), [sequence]):
                cursor.execute(sql)


def test_a_project_with_the_largest_id_a_bigint_holds_can_be_asked_about(
    api, tokens, chat_model, world, biggest
):
    response = ask(
        api, tokens["bob"], "What is in it?", resource_type="project", resource_id=str(INT_MAX)
    )

    assert response.status_code == 201
    assert 'the project "Big" (acme/big)' in system_prompt(chat_model)
    question = Message.objects.get(user=world.bob, role=Role.USER)
    assert question.project_id == biggest.pk == 9_223_372_036_854_775_807
