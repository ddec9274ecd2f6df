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


def test_a_file_cut_to_fit_the_prompt_is_cut_at_a_line_end_not_through_a_secret(
    api, tokens, chat_model
):
    # Longer than the prompt's room: wherever a cut falls in the last line, the secret it cuts
    # in two would no longer look like one.
    line_of_secrets = "".join(f'password_{n} = "Sup3rS3cretValue{n:06d}"; ' for n in range(3000))
    content = "x = 1\n" * 100 + line_of_secrets
    context = [{"category": "file", "id": "app/settings.py", "content": content}]

    ask(api, tokens["alice"], "What does this file set up?", additional_context=context)

    assert "Sup3rS3cr" not in sent(chat_model)
    assert "x = 1\n[… truncated]" in system_prompt(chat_model)
