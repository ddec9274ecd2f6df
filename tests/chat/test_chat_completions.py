"""POST /api/v4/chat/completions: gating, validation, resources, history — the chat task runs
eagerly here; tests/chat/test_chat_worker.py runs the same paths through a real worker."""

import pytest

from chat.models import Message, Role
from projects.models import User
from tests.chat.conftest import CHAT, ask, history, sent_messages, system_prompt
from tests.conftest import make_token
from tests.fake_servers import Reply

pytestmark = pytest.mark.django_db(transaction=True)


def test_it_answers_with_201_and_a_bare_json_string(api, tokens, chat_model):
    response = ask(api, tokens["alice"])

    assert response.status_code == 201
    assert response.json() == "Here is the function."
    assert response.content == b'"Here is the function."'


def test_it_sends_the_system_prompt_and_the_question(api, tokens, chat_model):
    ask(api, tokens["alice"], "What is a monad?")

    assert chat_model.last.path == "/v1/chat/completions"
    assert chat_model.last.json["model"] == "test-chat-model"
    assert "GitLab Duo Chat" in system_prompt(chat_model)
    assert sent_messages(chat_model) == [("user", "What is a monad?")]


def test_it_keeps_the_question_and_the_answer_in_the_history(api, tokens, chat_model, world):
    ask(api, tokens["alice"], "What is a monad?", referer_url="https://example.com/x")

    question, answer = Message.objects.filter(user=world.alice)
    assert (question.role, question.content, question.state) == ("user", "What is a monad?", "done")
    assert (answer.role, answer.content) == ("assistant", "Here is the function.")
    assert answer.question == question
    assert answer.request_id == question.request_id
    assert question.referer_url == "https://example.com/x"


def test_it_gives_the_model_the_conversation_so_far(api, tokens, chat_model):
    ask(api, tokens["alice"], "First?")
    ask(api, tokens["alice"], "Second?")

    assert sent_messages(chat_model) == [
        ("user", "First?"),
        ("assistant", "Here is the function."),
        ("user", "Second?"),
    ]


def test_it_answers_with_clean_history_and_leaves_no_trace(api, tokens, chat_model, world):
    ask(api, tokens["alice"], "First?")
    ask(api, tokens["alice"], "Private?", with_clean_history=True)
    assert sent_messages(chat_model) == [("user", "Private?")]

    ask(api, tokens["alice"], "Third?")

    assert sent_messages(chat_model) == [("user", "Third?")]
    roles = [role for role, _ in history(world.alice)]
    assert roles == [
        "user",
        "assistant",
        "reset",
        "user",
        "assistant",
        "reset",
        "user",
        "assistant",
    ]


def test_it_never_gives_the_model_another_users_messages(api, tokens, chat_model):
    ask(api, tokens["alice"], "Alice's secret?")

    ask(api, tokens["bob"], "Bob's question?")

    assert sent_messages(chat_model) == [("user", "Bob's question?")]


def test_it_gives_the_model_at_most_the_50_most_recent_messages(api, tokens, chat_model, world):
    for number in range(30):
        question = Message.objects.create(user=world.alice, role=Role.USER, content=f"q{number}")
        Message.objects.create(
            user=world.alice, role=Role.ASSISTANT, content=f"a{number}", question=question
        )

    ask(api, tokens["alice"], "Now?")

    sent = sent_messages(chat_model)
    assert len(sent) == 51
    assert sent[0] == ("user", "q5")
    assert sent[-2:] == [("assistant", "a29"), ("user", "Now?")]


def test_it_drops_the_oldest_history_to_fit_the_context_window(api, tokens, chat_model, world):
    long = "x" * 20_000  # ~5,000 tokens a message
    for number in range(3):
        question = Message.objects.create(user=world.alice, role=Role.USER, content=f"q{number}")
        Message.objects.create(
            user=world.alice, role=Role.ASSISTANT, content=long, question=question
        )

    ask(api, tokens["alice"], "Now?")

    assert [content for _, content in sent_messages(chat_model)][::2] == ["q1", "q2", "Now?"]


def test_it_caps_stored_messages_at_20000_characters(api, tokens, chat_model, world):
    chat_model.chat_text = "y" * 25_000

    response = ask(api, tokens["alice"])

    assert len(response.json()) == 20_000
    assert len(Message.objects.get(user=world.alice, role="assistant").content) == 20_000


def test_it_describes_additional_context_to_the_model(api, tokens, chat_model, world):
    context = [
        {"category": "file", "id": "app/models/user.rb", "content": "class User\nend"},
        {"category": "snippet", "id": "42", "content": "puts 1", "metadata": {"lang": "ruby"}},
    ]

    ask(api, tokens["alice"], "Explain", additional_context=context)

    prompt = system_prompt(chat_model)
    assert (
        '<context category="file" id="app/models/user.rb">\nclass User\nend\n</context>' in prompt
    )
    assert '<context category="snippet" id="42">\nputs 1\n</context>' in prompt
    stored = Message.objects.get(user=world.alice, role="user").additional_context
    assert stored[0]["metadata"] == {}
    assert stored[1]["metadata"] == {"lang": "ruby"}


def test_it_describes_a_project_to_the_model(api, tokens, chat_model, world):
    ask(api, tokens["bob"], resource_type="project", resource_id=world.project.pk)

    assert 'the project "Tools" (acme/platform/tools)' in system_prompt(chat_model)
    question = Message.objects.get(user=world.bob, role="user")
    assert (question.resource_type, question.resource_id) == ("project", str(world.project.pk))


def test_it_describes_a_group_to_the_model(api, tokens, chat_model, world):
    ask(api, tokens["bob"], resource_type="group", resource_id=str(world.subgroup.pk))

    assert 'the group "Platform" (acme/platform)' in system_prompt(chat_model)


def test_it_describes_a_commit_in_a_project(api, tokens, chat_model, world):
    response = ask(
        api,
        tokens["bob"],
        resource_type="commit",
        resource_id="0123abc",
        project_id=world.project.pk,
    )

    assert response.status_code == 201
    assert "the commit 0123abc in the project acme/platform/tools" in system_prompt(chat_model)


def test_it_lets_an_outsider_ask_about_a_public_project(api, tokens, chat_model, world):
    response = ask(
        api, tokens["charlie"], resource_type="project", resource_id=world.public_project.pk
    )

    assert response.status_code == 201


def test_it_ignores_a_resource_type_without_an_id(api, tokens, chat_model):
    response = ask(api, tokens["alice"], resource_type="issue")

    assert response.status_code == 201
    assert "currently looking at" not in system_prompt(chat_model)


def test_it_retries_a_model_server_that_is_briefly_down(api, tokens, chat_model, settings):
    # The provider tries 3 times itself; the task then tries again.
    chat_model.script(*[Reply(status=503)] * 3)

    response = ask(api, tokens["alice"])

    assert response.status_code == 201
    assert len(chat_model.requests) == 4


def test_it_gives_up_at_once_when_the_model_server_refuses_the_request(
    api, tokens, chat_model, world
):
    chat_model.script(Reply(status=400, json={"error": {"message": "bad"}}))

    response = ask(api, tokens["alice"])

    assert response.status_code == 503
    assert response.json() == {"message": "The openai model server answered 400"}
    assert len(chat_model.requests) == 1
    assert Message.objects.get(user=world.alice, role="user").state == "failed"


# Gating and validation: nothing reaches the model ---------------------------------------------


def test_it_requires_a_credential(api, chat_model):
    response = api.post(CHAT, {"content": ""})

    assert response.status_code == 401
    assert response.json() == {"message": "401 Unauthorized"}


def test_it_requires_the_api_or_ai_features_scope(api, world, chat_model):
    token = make_token(world.alice, scopes=("read_api",))

    response = ask(api, token)

    assert response.status_code == 403
    assert response.json()["scope"] == "ai_features api"


def test_it_accepts_the_ai_features_scope(api, world, chat_model):
    response = ask(api, make_token(world.alice, scopes=("ai_features",)))

    assert response.status_code == 201


def test_it_hides_chat_from_a_user_without_chat_access(api, tokens, chat_model, world):
    User.objects.filter(pk=world.bob.pk).update(chat_access=False)

    response = api.post(CHAT, {}, token=tokens["bob"])  # 404 before validation

    assert response.status_code == 404
    assert response.json() == {"message": "404 Not Found"}
    assert not Message.objects.exists()


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({}, "content is missing"),
        ({"content": ""}, "content is empty"),
        ({"content": "   "}, "content is empty"),
        ({"content": "x" * 1001}, "content must be less than 1000 characters"),
        ({"content": ["x"]}, "content is invalid"),
        ({"content": "x", "resource_type": "wiki"}, "resource_type does not have a valid value"),
        (
            {"content": "x", "referer_url": "u" * 1001},
            "referer_url must be less than 1000 characters",
        ),
        (
            {"content": "x", "client_subscription_id": "s" * 501},
            "client_subscription_id must be less than 500 characters",
        ),
        ({"content": "x", "with_clean_history": "maybe"}, "with_clean_history is invalid"),
        ({"content": "x", "project_id": "abc"}, "project_id is invalid"),
        ({"content": "x", "additional_context": {"a": 1}}, "additional_context is invalid"),
        ({"content": "x", "additional_context": ["file"]}, "additional_context[0] is invalid"),
        (
            {"content": "x", "additional_context": [{}]},
            "additional_context[0][category] is missing, additional_context[0][id] is missing, "
            "additional_context[0][content] is missing",
        ),
        (
            {
                "content": "x",
                "additional_context": [{"category": "wiki", "id": "1", "content": "c"}],
            },
            "additional_context[0][category] does not have a valid value",
        ),
        (
            {
                "content": "x",
                "additional_context": [{"category": "file", "id": " ", "content": "c"}],
            },
            "additional_context[0][id] is empty",
        ),
        (
            {
                "content": "x",
                "additional_context": [{"category": "file", "id": "i" * 256, "content": "c"}],
            },
            "additional_context[0][id] must be less than 255 characters",
        ),
        (
            {
                "content": "x",
                "additional_context": [{"category": "file", "id": "1", "content": ""}],
            },
            "additional_context[0][content] is empty",
        ),
        (
            {
                "content": "x",
                "additional_context": [
                    {"category": "file", "id": "1", "content": "c", "metadata": "m"}
                ],
            },
            "additional_context[0][metadata] is invalid",
        ),
        (
            {"content": "", "resource_type": "wiki"},
            "content is empty, resource_type does not have a valid value",
        ),
    ],
)
def test_it_rejects_invalid_parameters(api, tokens, chat_model, body, error):
    response = api.post(CHAT, body, token=tokens["alice"])

    assert response.status_code == 400
    assert response.json() == {"error": error}
    assert not Message.objects.exists()
    assert chat_model.requests == []


def test_it_takes_the_content_limit_from_the_settings(api, tokens, chat_model, settings):
    settings.CHAT_MAX_CONTENT_LENGTH = 5

    response = ask(api, tokens["alice"], "123456")

    assert response.json() == {"error": "content must be less than 5 characters"}


def test_it_rejects_malformed_json(api, tokens, chat_model):
    response = api.post(CHAT, "{not json", token=tokens["alice"])

    assert response.status_code == 400
    assert "error" in response.json()


# Resources --------------------------------------------------------------------------------------

NOT_FOUND = {"message": "404 Not Found"}  # chat is not for this user
# A resource that does not exist, and one the user may not see: alike, so that no one learns
# which private ids exist (GitLab tells them apart; docs/api.md#resources).
RECORD_NOT_FOUND = {"message": "404 Not found"}


def test_it_refuses_a_commit_without_a_project_id(api, tokens, chat_model):
    response = ask(api, tokens["alice"], resource_type="commit", resource_id="0123abc")

    assert response.status_code == 404
    assert response.json() == RECORD_NOT_FOUND


def test_it_answers_an_outsider_about_a_private_project_as_about_a_missing_one(
    api, tokens, chat_model, world
):
    hidden = ask(api, tokens["charlie"], resource_type="project", resource_id=world.project.pk)
    missing = ask(api, tokens["charlie"], resource_type="project", resource_id=999_999)

    assert (hidden.status_code, hidden.json()) == (404, RECORD_NOT_FOUND)
    assert (missing.status_code, missing.json()) == (404, RECORD_NOT_FOUND)
    assert chat_model.requests == []


def test_it_says_a_missing_project_is_not_found(api, tokens, chat_model):
    response = ask(api, tokens["alice"], resource_type="project", resource_id=999_999)

    assert response.json() == RECORD_NOT_FOUND


def test_it_says_a_project_id_that_is_not_a_number_is_not_found(api, tokens, chat_model):
    response = ask(api, tokens["alice"], resource_type="project", resource_id="acme/tools")

    assert response.json() == RECORD_NOT_FOUND


def test_it_answers_an_outsider_about_a_private_group_as_about_a_missing_one(
    api, tokens, chat_model, world
):
    hidden = ask(api, tokens["charlie"], resource_type="group", resource_id=world.subgroup.pk)
    missing = ask(api, tokens["charlie"], resource_type="group", resource_id=999_999)

    assert (hidden.status_code, hidden.json()) == (404, RECORD_NOT_FOUND)
    assert (missing.status_code, missing.json()) == (404, RECORD_NOT_FOUND)


def test_it_shows_a_group_to_a_member_of_one_of_its_projects(api, tokens, chat_model, world):
    from projects.models import Membership

    Membership.objects.create(user=world.charlie, project=world.project)

    response = ask(api, tokens["charlie"], resource_type="group", resource_id=world.group.pk)

    assert response.status_code == 201


def test_it_says_a_missing_group_is_not_found(api, tokens, chat_model):
    response = ask(api, tokens["alice"], resource_type="group", resource_id=999_999)

    assert response.json() == RECORD_NOT_FOUND


def test_it_answers_an_outsider_about_a_commit_of_a_private_project_as_of_a_missing_one(
    api, tokens, chat_model, world
):
    def commit_in(project_id):
        return ask(
            api,
            tokens["charlie"],
            resource_type="commit",
            resource_id="0123abc",
            project_id=project_id,
        )

    hidden, missing = commit_in(world.project.pk), commit_in(999_999)

    assert (hidden.status_code, hidden.json()) == (404, RECORD_NOT_FOUND)
    assert (missing.status_code, missing.json()) == (404, RECORD_NOT_FOUND)


def test_it_says_a_commit_in_a_missing_project_is_not_found(api, tokens, chat_model):
    response = ask(
        api, tokens["alice"], resource_type="commit", resource_id="0123abc", project_id=999_999
    )

    assert response.json() == RECORD_NOT_FOUND


def test_it_says_a_malformed_commit_sha_is_not_found(api, tokens, chat_model, world):
    response = ask(
        api,
        tokens["alice"],
        resource_type="commit",
        resource_id="main",
        project_id=world.project.pk,
    )

    assert response.json() == RECORD_NOT_FOUND


@pytest.mark.parametrize("resource_type", ["issue", "epic", "merge_request"])
def test_it_says_records_it_does_not_store_are_not_found(api, tokens, chat_model, resource_type):
    response = ask(api, tokens["alice"], resource_type=resource_type, resource_id=1)

    assert response.status_code == 404
    assert response.json() == RECORD_NOT_FOUND


def test_it_checks_permission_before_resources(api, tokens, chat_model, world):
    User.objects.filter(pk=world.charlie.pk).update(chat_access=False)

    response = ask(api, tokens["charlie"], resource_type="issue", resource_id=1)

    assert response.json() == NOT_FOUND


def test_it_validates_before_resolving_resources(api, tokens, chat_model, world):
    response = api.post(
        CHAT, {"resource_type": "project", "resource_id": 999_999}, token=tokens["alice"]
    )

    assert response.json() == {"error": "content is missing"}


def test_a_question_about_a_project_is_not_stored_when_it_is_refused(api, tokens, chat_model):
    response = ask(api, tokens["alice"], resource_type="project", resource_id=999_999)

    assert response.status_code == 404
    assert not Message.objects.exists()
    assert chat_model.requests == []
