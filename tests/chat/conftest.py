"""Chat fixtures: tokens for the personas, a fake chat model, and helpers to read the history.

Unit tests run the chat task eagerly (in-process), as the embedded default does; they need
`django_db(transaction=True)` because the task is enqueued when the transaction commits.
"""

import json
from collections.abc import Iterator
from typing import Any

import pytest

from chat.models import Message
from tests.conftest import Api, World, make_token
from tests.fake_servers import (  # noqa: F401  (fixtures used by name)
    FakeOpenAIServer,
    anthropic_server,
    openai_server,
    vertex_server,
)

CHAT = "/api/v4/chat/completions"


@pytest.fixture
def tokens(world: World) -> dict[str, str]:
    return {name: make_token(getattr(world, name)) for name in ("alice", "bob", "charlie")}


@pytest.fixture
def chat_model(settings, openai_server: FakeOpenAIServer) -> FakeOpenAIServer:  # noqa: F811
    """An OpenAI-compatible model server answering chat, in this process's settings."""
    settings.CHAT_PROVIDER = "openai"
    settings.CHAT_MODEL = "test-chat-model"
    settings.CHAT_BASE_URL = openai_server.url
    settings.CHAT_TIMEOUT = 5.0
    return openai_server


def ask(api: Api, token: str, content: str = "How do I define a class in Ruby?", **fields: Any):
    return api.post(CHAT, {"content": content, **fields}, token=token)


def history(user) -> list[tuple[str, str]]:
    return [(m.role, m.content) for m in Message.objects.filter(user=user).order_by("pk")]


def sent_messages(server) -> list[tuple[str, str]]:
    """The (role, content) pairs of the last chat request the model server received, without the
    system message."""
    return [
        (m["role"], m["content"]) for m in server.last.json["messages"] if m["role"] != "system"
    ]


def system_prompt(server) -> str:
    return next(m["content"] for m in server.last.json["messages"] if m["role"] == "system")


def read_events(response) -> Iterator[tuple[str, Any]]:
    """(event, data) pairs of a Server-Sent Events response, keep-alives skipped."""
    buffer = b""
    for piece in response.streaming_content:
        buffer += piece
        while b"\n\n" in buffer:
            block, buffer = buffer.split(b"\n\n", 1)
            lines = block.decode().split("\n")
            if all(line.startswith(":") for line in lines):
                continue
            fields = dict(line.split(": ", 1) for line in lines)
            yield fields["event"], json.loads(fields["data"])
