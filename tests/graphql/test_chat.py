"""POST /api/graphql: Duo Chat as GitLab's language server uses it, the `chat` mutation
(aiAction) then `getAiMessages` (aiMessages). aiAction returns before the answer, as GitLab's
does; `asked` waits for it."""

import time
import uuid

import pytest

from chat import relay
from chat.models import Message, Role
from projects.models import User
from tests.chat.conftest import ask, history, sent_messages, system_prompt
from tests.conftest import make_token
from tests.fake_servers import Reply
from tests.graphql.conftest import CHAT_MUTATION, GET_AI_MESSAGES, data_of, graphql

pytestmark = pytest.mark.django_db(transaction=True)

RESOURCE_NOT_AVAILABLE = (
    "The resource that you are attempting to access does not exist or you don't have "
    "permission to perform this action"
)


def chat(api, token, question="How do I define a class in Ruby?", **variables):
    """The language server's `chat` mutation, with the variables it sends (17.5 and later add
    additionalContext, which this document does not declare)."""
    variables = {
        "question": question,
        "resourceId": None,
        "currentFileContext": None,
        "clientSubscriptionId": str(uuid.uuid4()),
        "platformOrigin": "vs_code_extension",
        "additionalContext": [],
        **variables,
    }
    return graphql(api, CHAT_MUTATION, variables, token=token)


def asked(response) -> str:
    """The request id of a question the mutation accepted, once it is answered (or failed)."""
    action = data_of(response)["aiAction"]
    assert action["errors"] == []
    questions = Message.objects.filter(request_id=action["requestId"], role=Role.USER)
    deadline = time.monotonic() + 10
    while questions.filter(state="pending").exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    return action["requestId"]


def messages(api, token, request_ids=None, roles=None):
    variables = {"requestIds": request_ids, "roles": roles}
    return data_of(graphql(api, GET_AI_MESSAGES, variables, token=token))["aiMessages"]["nodes"]


# Asking ------------------------------------------------------------------------------------------


def test_it_accepts_a_question_and_answers_with_its_request_id(api, tokens, chat_model, world):
    request_id = asked(chat(api, tokens["alice"], "What is a monad?"))

    question = Message.objects.get(user=world.alice, role=Role.USER)
    assert str(question.request_id) == request_id
    assert question.content == "What is a monad?"
    assert sent_messages(chat_model) == [("user", "What is a monad?")]


def test_it_answers_the_question_through_ai_messages(api, tokens, chat_model):
    request_id = asked(chat(api, tokens["alice"]))

    nodes = messages(api, tokens["alice"], [request_id], ["ASSISTANT"])

    assert len(nodes) == 1
    node = nodes[0]
    assert node["requestId"] == request_id
    assert node["role"] == "ASSISTANT"
    assert node["content"] == "Here is the function."
    assert node["contentHtml"] == "<p>Here is the function.</p>"
    assert node["errors"] == []
    assert node["extras"] == {"sources": []}
    assert node["timestamp"].endswith("Z")


def test_it_lists_the_question_and_the_answer_under_one_request_id(api, tokens, chat_model):
    request_id = asked(chat(api, tokens["alice"], "Hi?"))

    nodes = messages(api, tokens["alice"], [request_id])

    assert [(n["role"], n["content"]) for n in nodes] == [
        ("USER", "Hi?"),
        ("ASSISTANT", "Here is the function."),
    ]


def test_it_keeps_one_conversation_with_the_rest_api(api, tokens, chat_model):
    ask(api, tokens["alice"], "First, over REST?")

    asked(chat(api, tokens["alice"], "Second, over GraphQL?"))

    assert sent_messages(chat_model) == [
        ("user", "First, over REST?"),
        ("assistant", "Here is the function."),
        ("user", "Second, over GraphQL?"),
    ]


def test_it_gives_the_model_the_selected_text_of_the_current_file(api, tokens, chat_model):
    current_file = {
        "fileName": "app/models/user.rb",
        "selectedText": "class User < ApplicationRecord\nend",
        "contentAboveCursor": "# above",
        "contentBelowCursor": "# below",
    }

    asked(chat(api, tokens["alice"], "Explain this", currentFileContext=current_file))

    prompt = system_prompt(chat_model)
    assert (
        '<context category="file" id="app/models/user.rb" selected="true">\n'
        "class User < ApplicationRecord\nend\n</context>"
    ) in prompt
    assert "selected in their editor" in prompt


def test_it_gives_the_model_the_additional_context_of_a_document_that_declares_it(
    api, tokens, chat_model
):
    document = CHAT_MUTATION.replace(
        "$platformOrigin: String!)",
        "$platformOrigin: String!, $additionalContext: [AiAdditionalContextInput!])",
    ).replace("currentFile: $currentFileContext", "currentFile: $currentFileContext, "
              "additionalContext: $additionalContext")  # fmt: skip
    context = [{"category": "SNIPPET", "id": "helpers.py", "content": "def helper(): pass"}]

    response = graphql(
        api,
        document,
        {"question": "Hi?", "platformOrigin": "vs_code_extension", "additionalContext": context},
        token=tokens["alice"],
    )

    asked(response)
    assert '<context category="snippet" id="helpers.py">\ndef helper(): pass' in system_prompt(
        chat_model
    )


def test_it_publishes_the_answer_on_the_client_subscription(api, tokens, chat_model, world):
    request_id = asked(chat(api, tokens["alice"], clientSubscriptionId="editor-1"))

    *_, (event, data) = relay.stream_read(world.alice.pk, "editor-1", timeout=1)
    assert (event, data) == ("done", {"content": "Here is the function.", "request_id": request_id})


# Validation and limits, as the REST endpoint's ---------------------------------------------------


def test_it_refuses_a_question_longer_than_the_limit_in_the_payloads_errors(
    api, tokens, chat_model, settings
):
    settings.CHAT_MAX_CONTENT_LENGTH = 10

    response = chat(api, tokens["alice"], "x" * 11)

    assert data_of(response) == {
        "aiAction": {"requestId": None, "errors": ["content must be less than 10 characters"]}
    }
    assert chat_model.requests == []
    assert not Message.objects.exists()


def test_it_refuses_a_blank_question(api, tokens, chat_model):
    response = chat(api, tokens["alice"], "   ")

    assert data_of(response)["aiAction"]["errors"] == ["content is empty"]


def test_it_refuses_a_question_from_a_user_chat_was_withdrawn_from(api, tokens, chat_model, world):
    User.objects.filter(pk=world.bob.pk).update(chat_access=False)

    response = chat(api, tokens["bob"])

    body = response.json()
    assert body["data"] == {"aiAction": None}
    assert body["errors"][0]["message"] == RESOURCE_NOT_AVAILABLE
    assert chat_model.requests == []


def test_it_refuses_an_anonymous_question(api, world, chat_model):
    response = chat(api, None)

    assert response.json()["errors"][0]["message"] == RESOURCE_NOT_AVAILABLE


def test_it_refuses_a_question_from_a_read_api_token(api, world, chat_model):
    token = make_token(world.alice, ("read_api",))

    response = chat(api, token)

    assert "higher privileges" in response.json()["errors"][0]["message"]
    assert chat_model.requests == []


def test_it_accepts_a_question_from_an_ai_features_token(api, world, chat_model):
    token = make_token(world.alice, ("ai_features",))

    asked(chat(api, token))


# Resources ---------------------------------------------------------------------------------------


def test_it_describes_a_visible_project_to_the_model(api, tokens, chat_model, world):
    resource = f"gid://gitlab/Project/{world.project.pk}"

    asked(chat(api, tokens["bob"], resourceId=resource))

    assert 'the project "Tools" (acme/platform/tools)' in system_prompt(chat_model)


def test_it_describes_a_group_to_the_model(api, tokens, chat_model, world):
    asked(chat(api, tokens["bob"], resourceId=f"gid://gitlab/Group/{world.group.pk}"))

    assert 'the group "Acme" (acme)' in system_prompt(chat_model)


@pytest.mark.parametrize(
    "resource",
    [
        "gid://gitlab/Project/{private}",  # exists, but charlie may not see it
        "gid://gitlab/Project/999999",  # does not exist
        "gid://gitlab/Group/{subgroup}",  # hidden
        "gid://gitlab/Issue/1",  # a record this service does not keep
        "gid://gitlab/Vulnerability/1",  # a type chat does not know
    ],
)
def test_it_answers_hidden_and_missing_resources_alike(api, tokens, chat_model, world, resource):
    resource_id = resource.format(private=world.project.pk, subgroup=world.subgroup.pk)

    response = chat(api, tokens["charlie"], resourceId=resource_id)

    body = response.json()
    assert response.status_code == 200
    assert body["data"] == {"aiAction": None}
    assert [e["message"] for e in body["errors"]] == [RESOURCE_NOT_AVAILABLE]
    assert chat_model.requests == []


def test_it_refuses_a_resource_id_that_is_not_a_global_id(api, tokens, chat_model):
    response = chat(api, tokens["alice"], resourceId="42")

    assert set(response.json()) == {"errors"}
    assert "is not a valid Global ID" in response.json()["errors"][0]["message"]


def test_it_resolves_a_commit_inside_the_project_given(api, tokens, chat_model, world):
    document = (
        'mutation($r: AiModelID, $p: ProjectID) { aiAction(input: {chat: {content: "Hi", '
        "resourceId: $r}, projectId: $p}) { requestId errors } }"
    )
    variables = {
        "r": "gid://gitlab/Commit/0123abcd",
        "p": f"gid://gitlab/Project/{world.project.pk}",
    }

    asked(graphql(api, document, variables, token=tokens["bob"]))

    assert "the commit 0123abcd in the project acme/platform/tools" in system_prompt(chat_model)


@pytest.mark.parametrize("project", ["²", "٣", "9" * 5000, "12345678901234567890"])
def test_a_project_id_that_is_no_record_id_is_not_available(
    api, tokens, chat_model, world, project
):
    document = (
        'mutation($r: AiModelID, $p: ProjectID) { aiAction(input: {chat: {content: "Hi", '
        "resourceId: $r}, projectId: $p}) { requestId errors } }"
    )
    variables = {"r": "gid://gitlab/Commit/0123abcd", "p": f"gid://gitlab/Project/{project}"}

    response = graphql(api, document, variables, token=tokens["bob"])

    assert response.status_code == 200
    assert response.json()["errors"][0]["message"] == RESOURCE_NOT_AVAILABLE
    assert chat_model.requests == []


# /reset and /clear ----------------------------------------------------------------------------


def test_reset_starts_a_new_conversation_without_asking_the_model(api, tokens, chat_model, world):
    asked(chat(api, tokens["alice"], "First?"))
    chat_model.reset()

    asked(chat(api, tokens["alice"], "/reset"))

    assert chat_model.requests == []
    asked(chat(api, tokens["alice"], "After the reset?"))
    assert sent_messages(chat_model) == [("user", "After the reset?")]
    assert [role for role, _ in history(world.alice)] == [
        "user", "assistant", "reset", "user", "assistant"
    ]  # fmt: skip


def test_clear_deletes_the_users_history_and_only_theirs(api, tokens, chat_model, world):
    asked(chat(api, tokens["alice"], "Alice's question?"))
    asked(chat(api, tokens["bob"], "Bob's question?"))
    chat_model.reset()

    asked(chat(api, tokens["alice"], "/clear"))

    assert chat_model.requests == []
    assert messages(api, tokens["alice"]) == []
    assert history(world.alice) == [("reset", "/reset")]
    assert [n["content"] for n in messages(api, tokens["bob"])] == [
        "Bob's question?",
        "Here is the function.",
    ]


# aiMessages --------------------------------------------------------------------------------------


def test_it_shows_no_one_else_the_messages_of_a_request(api, tokens, chat_model):
    request_id = asked(chat(api, tokens["alice"], "Alice's secret?"))

    assert messages(api, tokens["bob"], [request_id]) == []
    assert messages(api, tokens["bob"]) == []


def test_it_has_no_assistant_message_until_the_answer_is_complete(api, tokens, world):
    question = Message.objects.create(
        user=world.alice, role=Role.USER, content="Hi?", state="pending"
    )

    nodes = messages(api, tokens["alice"], [str(question.request_id)])

    assert [n["role"] for n in nodes] == ["USER"]


def test_it_gives_a_failed_question_an_assistant_message_with_its_error(api, tokens, chat_model):
    chat_model.script(Reply(status=400, json={"error": {"message": "bad"}}))

    request_id = asked(chat(api, tokens["alice"]))

    [answer] = messages(api, tokens["alice"], [request_id], ["ASSISTANT"])
    assert answer["errors"] == ["The openai model server answered 400"]
    assert answer["contentHtml"] is None


def test_it_escapes_html_in_the_content_html(api, tokens, chat_model):
    chat_model.chat_text = "Use <script>alert(1)</script>\n\nThen **this**."

    request_id = asked(chat(api, tokens["alice"]))

    [answer] = messages(api, tokens["alice"], [request_id], ["ASSISTANT"])
    assert answer["contentHtml"] == (
        "<p>Use &lt;script&gt;alert(1)&lt;/script&gt;</p>\n\n<p>Then **this**.</p>"
    )


def test_it_filters_messages_by_role(api, tokens, chat_model):
    request_id = asked(chat(api, tokens["alice"], "Hi?"))

    users = messages(api, tokens["alice"], [request_id], ["USER"])
    system = messages(api, tokens["alice"], [request_id], ["SYSTEM"])

    assert [n["content"] for n in users] == ["Hi?"]
    assert system == []


def test_it_lists_the_whole_history_without_request_ids(api, tokens, chat_model):
    asked(chat(api, tokens["alice"], "One?"))
    asked(chat(api, tokens["alice"], "Two?"))

    nodes = messages(api, tokens["alice"])

    assert [n["content"] for n in nodes] == [
        "One?",
        "Here is the function.",
        "Two?",
        "Here is the function.",
    ]


def test_it_matches_nothing_for_a_request_id_that_is_not_one(api, tokens, chat_model):
    asked(chat(api, tokens["alice"]))

    assert messages(api, tokens["alice"], ["not-a-uuid"]) == []


def test_it_gives_each_message_an_id(api, tokens, chat_model):
    request_id = asked(chat(api, tokens["alice"]))
    query = "query($r: [ID!]) { aiMessages(requestIds: $r) { nodes { id type chunkId } } }"

    nodes = data_of(graphql(api, query, {"r": [request_id]}, token=tokens["alice"]))

    ids = [n["id"] for n in nodes["aiMessages"]["nodes"]]
    assert len(set(ids)) == 2
    assert None not in ids
    assert all(n["type"] is None and n["chunkId"] is None for n in nodes["aiMessages"]["nodes"])
