"""Context exclusion whatever name the client gives an excluded file: completions and chat match
the name normalised (separators, ".", "..", Unicode, Windows' trailing spaces and dots), and an
absolute name or URI by each of its tails, since the root of the editor's checkout is unknown."""

import pytest

from tests.chat.conftest import ask, chat_model, system_prompt  # noqa: F401
from tests.completions.conftest import COMPLETIONS, completion_body, upstream  # noqa: F401
from tests.completions.test_retrieval import (  # noqa: F401
    PROJECT,
    SNIPPET_LINE,
    checkout,
    suggestion_body,
)
from tests.conftest import make_token
from tests.fake_servers import openai_server  # noqa: F401  (the fake model servers' own)


def full_width(text: str) -> str:
    """`text` in the full-width forms of its ASCII characters, which NFKC folds back."""
    return "".join(chr(ord(character) + 0xFEE0) for character in text)


SECRET = "acme_discount: 0.42  # not for the model's eyes"
# A file next to the excluded ones, which no rule excludes.
NEIGHBOUR_NAME, NEIGHBOUR = "/home/dev/repo/config/settings.yml", "debug: no"
# The names an editor may give the files each rule excludes, none of them the rule's own.
NAMES_OF_EXCLUDED_FILES = {
    "config/credentials.yml": [
        "config//credentials.yml",
        "config/./credentials.yml",
        "app/../config/credentials.yml",
        "../repo/config/credentials.yml",
        "/home/dev/repo/config/credentials.yml",
        "C:\\repo\\config\\credentials.yml",
        "\\\\server\\share\\repo\\config\\credentials.yml",
        "file:///home/dev/repo/config/credentials.yml",
        "file:///c%3A/repo/config/credentials.yml",
        "vscode-remote://ssh-remote%2Bdev/home/dev/repo/config/credentials.yml",
        "config/credentials.yml ",
        "config/credentials.yml\r",
        "config/credentials.yml\t",
        "config/credentials.yml.",
        "config/credentials\u200b.yml",
        "config\u200d/credentials.yml",
        "\ufeffconfig/credentials.yml",
        "\ufeff/home/dev/repo/config/credentials.yml",
        f"{full_width('config')}/credentials.yml",
        "config\uff0fcredentials.yml",  # a full-width "/"
        "file:/home/dev/repo/config/credentials.yml",  # as Java's File.toURI() writes it
        "git:/home/dev/repo/config/credentials.yml?%7B%22ref%22%3A%22~%22%7D",  # VS Code's
        "file:///home/dev/repo/%EF%BD%83onfig/credentials.yml",  # a full-width "c", encoded
        "file:///home/dev/repo/config/credentials.yml%20",
        "file:///home/dev/repo/config/cred%E2%80%8Bentials.yml",
        "~/repo/config/credentials.yml",
        "config/credentials.yml::$DATA",  # Windows' name of the file's data
    ],
    "/config/credentials.yml": [
        "/home/dev/repo/config/credentials.yml",
        "C:\\repo\\config\\credentials.yml",
        "file:///home/dev/repo/config/credentials.yml",
        "config/./credentials.yml",
    ],
    "secrets/": [
        "secrets./keys.yml",
        "secrets /keys.yml",
        "secrets\u200b/keys.yml",
        f"{full_width('secrets')}/keys.yml",
    ],
}
EXCLUDED_NAMES = [(rule, name) for rule, names in NAMES_OF_EXCLUDED_FILES.items() for name in names]


@pytest.fixture
def bobs_token(world) -> str:
    return make_token(world.bob, scopes=("ai_features",))


@pytest.fixture
def rule(request, world) -> str:
    world.project.context_exclusions = request.param
    world.project.save()
    return request.param


@pytest.mark.parametrize(("rule", "name"), EXCLUDED_NAMES, indirect=["rule"])
def test_an_excluded_file_gets_no_suggestion_however_the_editor_names_it(
    api,
    upstream,  # noqa: F811  (the fixture imported above)
    bobs_token,
    rule,
    name,
):
    body = completion_body(project_path=PROJECT)
    body["current_file"]["file_name"] = name

    response = api.post(COMPLETIONS, body, token=bobs_token)

    assert response.status_code == 200
    assert response.json()["choices"] == []
    assert upstream.requests == []


@pytest.mark.parametrize(("rule", "name"), EXCLUDED_NAMES, indirect=["rule"])
def test_an_excluded_context_item_never_reaches_the_model_however_it_is_named(
    api,
    upstream,  # noqa: F811  (the fixture imported above)
    bobs_token,
    rule,
    name,
):
    context = [
        {"type": "file", "name": name, "content": SECRET},
        {"type": "file", "name": NEIGHBOUR_NAME, "content": NEIGHBOUR},
    ]

    api.post(COMPLETIONS, completion_body(project_path=PROJECT, context=context), token=bobs_token)

    prompt = upstream.last.json["prompt"]
    assert SECRET not in prompt
    assert NEIGHBOUR in prompt


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("rule", "name"), EXCLUDED_NAMES, indirect=["rule"])
def test_an_excluded_chat_attachment_never_reaches_the_model_however_it_is_named(
    api,
    chat_model,  # noqa: F811  (the fixture imported above)
    bobs_token,
    world,
    rule,
    name,
):
    context = [
        {"category": "file", "id": name, "content": SECRET},
        {"category": "file", "id": NEIGHBOUR_NAME, "content": NEIGHBOUR},
    ]

    ask(
        api,
        bobs_token,
        resource_type="project",
        resource_id=world.project.pk,
        additional_context=context,
    )

    assert SECRET not in system_prompt(chat_model)
    assert NEIGHBOUR in system_prompt(chat_model)


@pytest.mark.usefixtures("checkout")
@pytest.mark.parametrize(
    "file_name",
    [
        "orders//checkout.py",
        "orders/./checkout.py",
        "C:\\tools\\orders\\.\\checkout.py",
        "\ufefforders/checkout.py",
        f"{full_width('orders')}/checkout.py",
    ],
)
def test_the_file_being_edited_is_never_retrieved_however_the_editor_names_it(
    api,
    upstream,  # noqa: F811  (the fixture imported above)
    bobs_token,
    file_name,
):
    api.post(COMPLETIONS, suggestion_body(file_name=file_name), token=bobs_token)

    prompt = upstream.last.json["prompt"]
    assert SNIPPET_LINE in prompt
    assert "stale_copy_of_the_open_file" not in prompt
