"""No secret in a chat question, its context or the conversation so far reaches the chat model,
while the rest does (codesuggest/providers/redaction.py); the chat task answers in-process."""

import pytest

from codesuggest.providers.redaction import MARKER
from tests.chat.conftest import ask, sent_messages, system_prompt
from tests.fake_secrets import PROGRAM, masked_program, secrets_in

pytestmark = pytest.mark.django_db(transaction=True)

QUESTION = 'Why does the login fail?\npassword = "correct-horse-battery-staple"'
MASKED_QUESTION = f'Why does the login fail?\npassword = "{MARKER}"'


def sent(chat_model) -> str:
    return chat_model.last.body.decode()


def test_a_question_reaches_the_model_without_its_secret(api, tokens, chat_model):
    response = ask(api, tokens["alice"], QUESTION)

    assert response.status_code == 201
    assert secrets_in(sent(chat_model)) == []
    assert sent_messages(chat_model) == [("user", MASKED_QUESTION)]


def test_the_files_a_question_comes_with_reach_the_model_without_their_secrets(
    api, tokens, chat_model
):
    context = [{"category": "file", "id": "app/settings.py", "content": PROGRAM}]

    ask(api, tokens["alice"], "What does this file set up?", additional_context=context)

    assert secrets_in(sent(chat_model)) == []
    assert masked_program() in system_prompt(chat_model)


def test_the_conversation_so_far_reaches_the_model_without_its_secrets(api, tokens, chat_model):
    ask(api, tokens["alice"], QUESTION)

    ask(api, tokens["alice"], "And now?")

    assert secrets_in(sent(chat_model)) == []
    assert sent_messages(chat_model) == [
        ("user", MASKED_QUESTION),
        ("assistant", "Here is the function."),
        ("user", "And now?"),
    ]


def test_a_file_cut_to_fit_the_prompt_is_cut_at_a_line_end(api, tokens, chat_model):
    # A line cut in two may hold the head of a secret, which no longer looks like one.
    content = "x = 1\n" * 10_000 + 'password = "Sup3rS3cretValue000001"\n'
    context = [{"category": "file", "id": "app/settings.py", "content": content}]

    ask(api, tokens["alice"], "What does this file set up?", additional_context=context)

    assert "x = 1\n[… truncated]\n</context>" in system_prompt(chat_model)
    assert "Sup3rS3cr" not in sent(chat_model)


def test_each_file_a_question_comes_with_is_masked_as_its_own_type_says(api, tokens, chat_model):
    # A bare `password: value` is a secret in YAML and .env files, not in code.
    context = [
        {"category": "file", "id": ".env", "content": "SMTP_PASSWORD=EnvFileSecretValue-77"},
        {
            "category": "file",
            "id": "database.yml",
            "content": "password: YamlSecretValue-88",
            "metadata": {"relativePath": "config/database.yml"},
        },
    ]

    ask(api, tokens["alice"], "Why does the mail fail?", additional_context=context)

    assert "EnvFileSecretValue" not in sent(chat_model)
    assert "YamlSecretValue" not in sent(chat_model)
    assert f"SMTP_PASSWORD={MARKER}" in system_prompt(chat_model)
    assert f"password: {MARKER}" in system_prompt(chat_model)


def test_a_question_quoting_a_configuration_file_reaches_the_model_without_its_secrets(
    api, tokens, chat_model
):
    question = (
        "My .env has DB_PASSWORD=Hist0rySecretValue-42 and the app says:\npassword: Yaml5ecret-88"
    )

    ask(api, tokens["alice"], question)

    assert sent_messages(chat_model) == [
        ("user", f"My .env has DB_PASSWORD={MARKER} and the app says:\npassword: {MARKER}")
    ]


def test_each_file_of_a_git_diff_is_masked_as_its_own_type_says(api, tokens, chat_model):
    diff = "diff --git a/.env b/.env\n--- a/.env\n+++ b/.env\n@@ -0,0 +1 @@\n"
    diff += "+DB_PASSWORD=correcthorsebatterystaple\n"
    context = [{"category": "local_git", "id": "git diff", "content": diff}]

    ask(api, tokens["alice"], "Why does the login fail?", additional_context=context)

    assert "correcthorse" not in sent(chat_model)
    assert f"+DB_PASSWORD={MARKER}" in system_prompt(chat_model)
