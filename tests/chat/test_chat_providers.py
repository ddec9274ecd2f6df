"""Each chat provider answers POST /chat/completions against a local server speaking its real
protocol (the task runs eagerly here), and streams to a subscription."""

import pytest
from django.core.management import call_command

from tests.chat.conftest import ask, read_events, system_prompt
from tests.fake_servers import pieces

pytestmark = pytest.mark.django_db(transaction=True)


def test_openai_answers_and_streams(api, tokens, chat_model):
    response = ask(api, tokens["alice"], "Hi", client_subscription_id="s-openai")

    assert response.json() == "Here is the function."
    assert chat_model.last.json["stream"] is True
    events = list(
        read_events(api.get("/api/v4/chat/subscriptions/s-openai", token=tokens["alice"]))
    )
    assert [d["content"] for e, d in events if e == "chunk"] == pieces("Here is the function.")
    assert events[-1][0] == "done"


def test_anthropic_answers_with_the_system_prompt_apart(api, tokens, settings, anthropic_server):
    settings.CHAT_PROVIDER = "anthropic"
    settings.CHAT_BASE_URL = anthropic_server.url
    anthropic_server.text = "Use a class."

    response = ask(api, tokens["alice"], "Hi")

    assert response.status_code == 201
    assert response.json() == "Use a class."
    body = anthropic_server.last.json
    assert "GitLab Duo Chat" in body["system"]
    assert body["messages"] == [{"role": "user", "content": "Hi"}]


def test_anthropic_streams_to_a_subscription(api, tokens, settings, anthropic_server):
    settings.CHAT_PROVIDER = "anthropic"
    settings.CHAT_BASE_URL = anthropic_server.url

    ask(api, tokens["alice"], "Hi", client_subscription_id="s-anthropic")

    events = list(
        read_events(api.get("/api/v4/chat/subscriptions/s-anthropic", token=tokens["alice"]))
    )
    assert "".join(d["content"] for e, d in events if e == "chunk") == anthropic_server.text
    assert events[-1] == ("done", {**events[-1][1], "content": anthropic_server.text})


def test_vertex_gemini_answers(api, tokens, settings, vertex_server):
    settings.CHAT_PROVIDER = "vertex"
    settings.CHAT_MODEL = "gemini-2.5-flash"
    settings.VERTEX_PROJECT = "acme"
    settings.VERTEX_API_ENDPOINT = vertex_server.url
    vertex_server.chat_text = "Define it with class."

    response = ask(api, tokens["alice"], "Hi")

    assert response.status_code == 201, response.content
    assert response.json() == "Define it with class."
    assert vertex_server.last.path.endswith("/models/gemini-2.5-flash:generateContent")
    body = vertex_server.last.json
    assert "GitLab Duo Chat" in body["systemInstruction"]["parts"][0]["text"]
    assert body["contents"][-1]["parts"][0]["text"] == "Hi"


def test_the_local_engine_cites_the_additional_context(api, tokens, settings, tmp_path):
    settings.CHAT_PROVIDER = "local"
    settings.LOCAL_ENGINE_DIR = tmp_path

    response = ask(
        api,
        tokens["alice"],
        "What does add do?",
        additional_context=[
            {"category": "file", "id": "math.py", "content": "def add(a, b):\n    return a + b\n"}
        ],
    )

    assert response.status_code == 201
    answer = response.json()
    assert answer.splitlines()[0].startswith("No chat model is configured")
    assert "math.py:1" in answer
    assert "return a + b" in answer


def test_the_local_engine_cites_the_indexed_code_of_the_project_asked_about(
    api, tokens, settings, tmp_path, world
):
    settings.CHAT_PROVIDER = "local"
    settings.LOCAL_ENGINE_DIR = tmp_path / "engine"
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    (checkout / "billing.py").write_text(
        "import decimal\n\n\ndef invoice_total(lines):\n"
        "    return sum(decimal.Decimal(line.price) for line in lines)\n"
    )
    call_command("index_repository", world.project.full_path, str(checkout))

    response = ask(
        api,
        tokens["alice"],
        "How is the invoice total computed?",
        resource_type="project",
        resource_id=world.project.pk,
    )

    assert "billing.py:" in response.json()
    assert "invoice_total" in response.json()


def test_the_local_engine_never_cites_a_file_excluded_since_it_was_indexed(
    api, tokens, settings, tmp_path, world
):
    settings.CHAT_PROVIDER = "local"
    settings.LOCAL_ENGINE_DIR = tmp_path / "engine"
    checkout = tmp_path / "checkout"
    (checkout / "billing").mkdir(parents=True)
    (checkout / "billing" / "rules.py").write_text(
        "def invoice_discount(total):\n    return total * 0.42  # not for the model's eyes\n"
    )
    call_command("index_repository", world.project.full_path, str(checkout))
    world.project.context_exclusions = "billing/"
    world.project.save()

    response = ask(
        api,
        tokens["alice"],
        "How is the invoice discount computed?",
        resource_type="project",
        resource_id=world.project.pk,
    )

    assert response.status_code == 201
    assert "invoice_discount" not in response.json()
    assert "0.42" not in response.json()


def test_a_resource_reaches_every_provider_in_the_system_prompt(api, tokens, chat_model, world):
    ask(api, tokens["alice"], "Hi", resource_type="project", resource_id=world.project.pk)

    assert "acme/platform/tools" in system_prompt(chat_model)
