"""A new provider is a module and a line in the registry, nothing else: the throw-away one here
is registered by the `parrot` fixture alone, then chosen by an admin or by the settings and used
through the API, with an option of its own and a context window of its own."""

from collections.abc import Generator
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client

from codesuggest.providers import (
    PROVIDERS,
    BaseProvider,
    Candidate,
    ChatRequest,
    CompletionRequest,
    ProviderConfig,
)
from projects.models import User
from tests.chat.conftest import ask
from tests.completions.conftest import COMPLETIONS, PYTHON_ABOVE
from tests.conftest import INSTANCE_SETTINGS_PAGE, instance_settings_form, make_token


@dataclass(frozen=True)
class ParrotOptions:
    words: str = ""


class ParrotProvider(BaseProvider):
    """Says the words its setting names, whatever it is asked, and keeps the prompts it got."""

    default_model = "parrot-1"
    follows_instructions = False
    prompts: list[str] = []

    def __init__(self, config: ProviderConfig) -> None:
        super().__init__(config)
        self.options: ParrotOptions = config.options or ParrotOptions()

    @classmethod
    def options_from(cls, settings: Any) -> ParrotOptions:
        return ParrotOptions(words=settings.PARROT_WORDS)

    @classmethod
    def context_window(cls, model: str) -> int:
        return 400

    def complete(self, request: CompletionRequest) -> list[Candidate]:
        self.prompts.append(request.prefix)
        return [Candidate(self.options.words)]

    def chat(self, request: ChatRequest) -> Candidate:
        return Candidate(self.options.words)

    def stream_chat(self, request: ChatRequest) -> Generator[str]:
        yield self.options.words


@pytest.fixture
def parrot(monkeypatch, settings) -> type[ParrotProvider]:
    monkeypatch.setitem(PROVIDERS, "parrot", ParrotProvider)
    monkeypatch.setattr(ParrotProvider, "prompts", [])
    settings.PARROT_WORDS = "return product"
    return ParrotProvider


@pytest.fixture
def browser(db) -> Client:
    client = Client()
    client.force_login(User.objects.create_superuser("root", email="root@example.com"))
    return client


def test_an_admin_chooses_it_and_it_completes_code_through_the_api(api, browser, parrot, world):
    form = browser.get(INSTANCE_SETTINGS_PAGE).content.decode()
    assert '<option value="parrot">parrot</option>' in form
    chosen = instance_settings_form(completions_provider="parrot")
    assert browser.post(INSTANCE_SETTINGS_PAGE, chosen).status_code == 302
    # About 1,500 tokens: the 8,192 of an unknown model family would have kept the file whole.
    file = "".join(f"value_{n} = {n}\n" for n in range(300)) + PYTHON_ABOVE
    body = {"current_file": {"file_name": "calc.py", "content_above_cursor": file}}

    response = api.post(COMPLETIONS, body, token=make_token(world.bob))

    assert response.status_code == 200, response.content
    assert response.json()["model"] == {"engine": "parrot", "name": "parrot-1", "lang": "python"}
    assert [choice["text"] for choice in response.json()["choices"]] == ["return product"]
    [prompt] = parrot.prompts
    assert prompt.endswith(PYTHON_ABOVE)
    assert "value_0 = 0" not in prompt  # cut to its 400 tokens


@pytest.mark.django_db(transaction=True)
def test_the_settings_choose_it_and_it_answers_chat_through_the_api(api, parrot, settings, world):
    settings.CHAT_PROVIDER = "parrot"

    response = ask(api, make_token(world.alice), "What does multiply return?")

    assert response.status_code == 201, response.content
    assert response.json() == "return product"
