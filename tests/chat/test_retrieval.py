"""Retrieval in chat: a question about a project that `index_repository` indexed gets the snippets
of its code most like the question (and the code the user selected), after the user's own
additional context, never from an excluded file."""

import pytest

from tests.chat.conftest import ask, system_prompt
from tests.completions.test_retrieval import SNIPPET_LINE, checkout, index  # noqa: F401

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("checkout")]

QUESTION = "How is the shipping rate of a parcel_weight to a destination_zone computed?"
USER_FILE = {"category": "file", "id": "orders/models.py", "content": "user_attached_this = 1"}


def ask_about(api, token, project, **fields):
    return ask(api, token, QUESTION, resource_type="project", resource_id=project.pk, **fields)


def test_a_question_about_an_indexed_project_gets_its_snippets(api, tokens, chat_model, world):
    response = ask_about(api, tokens["bob"], world.project)

    assert response.status_code == 201
    assert SNIPPET_LINE in system_prompt(chat_model)


def test_the_users_context_comes_before_the_snippets(api, tokens, chat_model, world):
    ask_about(api, tokens["bob"], world.project, additional_context=[USER_FILE])

    prompt = system_prompt(chat_model)
    assert prompt.index("user_attached_this") < prompt.index(SNIPPET_LINE)


def test_the_code_the_user_selected_finds_snippets_too(api, tokens, chat_model, world):
    selection = {
        "category": "file",
        "id": "orders/checkout.py",
        "content": "shipping = shipping_rate(parcel_weight, destination_zone)",
        "metadata": {"source": "current_file"},
    }

    ask(
        api,
        tokens["bob"],
        "What does this do?",
        resource_type="project",
        resource_id=world.project.pk,
        additional_context=[selection],
    )

    assert SNIPPET_LINE in system_prompt(chat_model)


def test_an_excluded_file_is_not_retrieved(api, tokens, chat_model, world):
    world.project.context_exclusions = "billing/rates.py"
    world.project.save()

    ask_about(api, tokens["bob"], world.project)

    assert SNIPPET_LINE not in system_prompt(chat_model)


def test_a_question_without_a_project_gets_no_snippet(api, tokens, chat_model):
    ask(api, tokens["bob"], QUESTION)

    assert SNIPPET_LINE not in system_prompt(chat_model)


def files_of(project) -> list[dict]:
    """A file as GitLab's language server attaches it, naming its project, with no resource."""
    return [{**USER_FILE, "metadata": {"project": project.full_path}}]


def test_a_question_whose_files_name_an_indexed_project_gets_its_snippets(
    api, tokens, chat_model, world
):
    ask(api, tokens["bob"], QUESTION, additional_context=files_of(world.project))

    assert SNIPPET_LINE in system_prompt(chat_model)


def test_files_naming_a_project_the_user_may_not_see_bring_none_of_its_code(
    api, tokens, chat_model, world
):
    response = ask(api, tokens["charlie"], QUESTION, additional_context=files_of(world.project))

    assert response.status_code == 201
    assert SNIPPET_LINE not in system_prompt(chat_model)


def test_a_snippet_is_masked_as_its_files_type_says(
    api,
    tokens,
    chat_model,
    world,
    checkout,  # noqa: F811
):
    # A bare `password: value` is a secret in YAML; in a question's prose only when it has digits.
    (checkout / "config").mkdir()
    (checkout / "config" / "shipping.yml").write_text(
        "shipping_rate:\n  parcel_weight: kg\n  destination_zone: eu\n"
        "  password: LettersOnlyShippingSecret\n"
    )
    index(checkout)

    ask_about(api, tokens["bob"], world.project)

    assert "parcel_weight: kg" in system_prompt(chat_model)
    assert "LettersOnlyShippingSecret" not in system_prompt(chat_model)
