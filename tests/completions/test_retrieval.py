"""Retrieval through POST /api/v4/code_suggestions/completions: for a request naming a project
that `index_repository` indexed, the snippets of the project's other files most like the code
above the cursor reach the model's prompt, whichever provider serves it, after the editor's own
context, never from the file being edited nor from an excluded file."""

from pathlib import Path

import pytest
from django.core.management import call_command

from tests.completions.conftest import COMPLETIONS
from tests.fake_servers import FakeServer

PROJECT = "acme/platform/tools"
# The snippet the code above the cursor calls for, in another file of the project.
RATES = """\
ZONE_SURCHARGES = {"domestic": 0, "europe": 7, "world": 15}


def shipping_rate(parcel_weight, destination_zone):
    surcharge = ZONE_SURCHARGES[destination_zone]
    return parcel_weight * 1.25 + surcharge
"""
SNIPPET_LINE = "return parcel_weight * 1.25 + surcharge"
# The file being edited, as it was indexed: it would match best, and must never come back.
STALE_OPEN_FILE = """\
from billing.rates import shipping_rate


def checkout_total(order):
    parcel_weight = order.parcel_weight
    destination_zone = order.destination_zone
    stale_copy_of_the_open_file = shipping_rate(parcel_weight, destination_zone)
"""
UNRELATED = "def shout(text):\n    unrelated_helper = text.upper()\n    return unrelated_helper\n"
ABOVE = """\
from billing.rates import shipping_rate


def checkout_total(order):
    parcel_weight = order.parcel_weight
    destination_zone = order.destination_zone
    shipping = """
EDITOR_ITEM = {
    "type": "file",
    "name": "orders/models.py",
    "content": "class Order:\n    editor_sent_this = True\n",
}


@pytest.fixture
def checkout(settings, tmp_path, world) -> Path:
    """A checkout of the project, indexed with the real command."""
    settings.LOCAL_ENGINE_DIR = tmp_path / "engine"
    checkout = tmp_path / "checkout"
    for name, text in [
        ("billing/rates.py", RATES),
        ("orders/checkout.py", STALE_OPEN_FILE),
        ("utils/strings.py", UNRELATED),
    ]:
        (checkout / name).parent.mkdir(parents=True, exist_ok=True)
        (checkout / name).write_text(text)
    index(checkout)
    return checkout


def index(checkout: Path) -> None:
    call_command("index_repository", PROJECT, str(checkout))


def suggestion_body(file_name="orders/checkout.py", project_path=PROJECT, **overrides):
    return {
        "current_file": {
            "file_name": file_name,
            "content_above_cursor": ABOVE,
            "content_below_cursor": "\n    return order.subtotal + shipping\n",
        },
        "intent": "completion",
        "project_path": project_path,
        **overrides,
    }


def use_openai(settings, openai_server):
    for feature in ("COMPLETIONS", "GENERATIONS"):
        setattr(settings, f"{feature}_PROVIDER", "openai")
        setattr(settings, f"{feature}_BASE_URL", openai_server.url)
        setattr(settings, f"{feature}_MODEL", "gpt-3.5-turbo-instruct")
    return openai_server, lambda body: body["prompt"]


def use_anthropic(settings, anthropic_server):
    settings.COMPLETIONS_PROVIDER = "anthropic"
    settings.COMPLETIONS_BASE_URL = anthropic_server.url
    return anthropic_server, lambda body: body["messages"][-1]["content"]


def use_vertex(settings, vertex_server):
    settings.COMPLETIONS_PROVIDER = "vertex"
    settings.COMPLETIONS_MODEL = "code-gecko@002"
    settings.VERTEX_API_ENDPOINT = vertex_server.url
    settings.VERTEX_PROJECT = "acme"
    return vertex_server, lambda body: body["instances"][0]["prefix"]


PROVIDERS = {
    "openai": (use_openai, "openai_server"),
    "anthropic": (use_anthropic, "anthropic_server"),
    "vertex": (use_vertex, "vertex_server"),
}


@pytest.fixture(params=sorted(PROVIDERS))
def model(request, settings) -> tuple[FakeServer, object]:
    """Each provider's fake model server, and how to read the prompt it received."""
    use, server_fixture = PROVIDERS[request.param]
    return use(settings, request.getfixturevalue(server_fixture))


def prompt_sent(model) -> str:
    server, prompt_of = model
    return prompt_of(server.last.json)


@pytest.mark.usefixtures("checkout")
def test_the_snippet_from_another_file_reaches_every_providers_prompt(api, bob_token, model):
    response = api.post(COMPLETIONS, suggestion_body(), token=bob_token)

    assert response.status_code == 200
    prompt = prompt_sent(model)
    assert SNIPPET_LINE in prompt
    assert "# Path: billing/rates.py" in prompt
    # Before the code being completed: the model reads it as another file above this one.
    assert prompt.index(SNIPPET_LINE) < prompt.index("shipping = ")


@pytest.mark.usefixtures("checkout")
def test_the_editors_context_comes_before_the_retrieved_snippets(api, bob_token, model):
    api.post(COMPLETIONS, suggestion_body(context=[EDITOR_ITEM]), token=bob_token)

    prompt = prompt_sent(model)
    assert prompt.index("editor_sent_this") < prompt.index(SNIPPET_LINE)


@pytest.mark.usefixtures("checkout")
@pytest.mark.parametrize(
    "file_name", ["orders/checkout.py", "/home/bob/tools/orders/checkout.py", "orders\\checkout.py"]
)
def test_the_file_being_edited_is_never_retrieved(api, bob_token, model, file_name):
    api.post(COMPLETIONS, suggestion_body(file_name=file_name), token=bob_token)

    prompt = prompt_sent(model)
    assert SNIPPET_LINE in prompt
    assert "stale_copy_of_the_open_file" not in prompt


@pytest.mark.usefixtures("checkout")
# GitLab's language server names the open tabs it sends by their URIs.
@pytest.mark.parametrize("name", ["billing/rates.py", "file:///home/dev/tools/billing/rates.py"])
def test_a_file_the_editor_sent_is_not_sent_twice(api, bob_token, model, name):
    sent = {"type": "file", "name": name, "content": RATES}

    api.post(COMPLETIONS, suggestion_body(context=[sent]), token=bob_token)

    assert prompt_sent(model).count(SNIPPET_LINE) == 1


def generate_with_openai(settings, openai_server):
    use_openai(settings, openai_server)
    return openai_server, lambda body: body["messages"][-1]["content"]


def generate_with_anthropic(settings, anthropic_server):
    settings.GENERATIONS_PROVIDER = "anthropic"
    settings.GENERATIONS_BASE_URL = anthropic_server.url
    return anthropic_server, lambda body: body["messages"][-1]["content"]


def generate_with_gemini(settings, vertex_server):
    use_vertex(settings, vertex_server)
    settings.GENERATIONS_PROVIDER = "vertex"
    settings.GENERATIONS_MODEL = "gemini-2.5-flash"
    return vertex_server, lambda body: body["contents"][-1]["parts"][0]["text"]


INSTRUCT_PROVIDERS = {
    "openai": (generate_with_openai, "openai_server"),
    "anthropic": (generate_with_anthropic, "anthropic_server"),
    "vertex": (generate_with_gemini, "vertex_server"),
}


@pytest.mark.usefixtures("checkout")
@pytest.mark.parametrize("provider", sorted(INSTRUCT_PROVIDERS))
def test_an_instruct_models_generation_gets_the_snippet_too(
    api, bob_token, settings, request, provider
):
    use, server_fixture = INSTRUCT_PROVIDERS[provider]
    model = use(settings, request.getfixturevalue(server_fixture))
    body = suggestion_body(intent="generation", user_instruction="add the shipping cost")

    api.post(COMPLETIONS, body, token=bob_token)

    prompt = prompt_sent(model)
    assert "add the shipping cost" in prompt  # the generation's instruction: an instruct prompt
    assert SNIPPET_LINE in prompt
    assert "stale_copy_of_the_open_file" not in prompt


@pytest.mark.usefixtures("checkout")
def test_a_request_without_the_project_gets_no_snippet(api, bob_token, settings, openai_server):
    server = use_openai(settings, openai_server)

    api.post(COMPLETIONS, suggestion_body(project_path=None), token=bob_token)

    assert SNIPPET_LINE not in prompt_sent(server)


@pytest.mark.usefixtures("checkout")
def test_a_project_without_an_index_gets_no_snippet(api, bob_token, settings, openai_server):
    server = use_openai(settings, openai_server)

    api.post(COMPLETIONS, suggestion_body(project_path="acme/website"), token=bob_token)

    assert SNIPPET_LINE not in prompt_sent(server)


def test_a_file_excluded_after_indexing_is_not_retrieved(
    api, bob_token, world, checkout, settings, openai_server
):
    server = use_openai(settings, openai_server)
    world.group.context_exclusions = "billing/"
    world.group.save()

    api.post(COMPLETIONS, suggestion_body(), token=bob_token)

    assert SNIPPET_LINE not in prompt_sent(server)


def test_indexing_again_retrieves_the_files_as_they_are_now(
    api, bob_token, checkout, settings, openai_server
):
    server = use_openai(settings, openai_server)
    api.post(COMPLETIONS, suggestion_body(), token=bob_token)  # the index is open from now on
    (checkout / "billing" / "rates.py").write_text(RATES.replace("1.25", "2.50"))
    (checkout / "utils" / "strings.py").unlink()
    (checkout / "billing" / "parcels.py").write_text(
        "def parcel_label(parcel_weight, destination_zone):\n    return new_file_was_indexed\n"
    )

    index(checkout)
    api.post(COMPLETIONS, suggestion_body(), token=bob_token)

    prompt = prompt_sent(server)
    assert "return parcel_weight * 2.50 + surcharge" in prompt
    assert SNIPPET_LINE not in prompt
    assert "new_file_was_indexed" in prompt
