from contextlib import closing

import pytest

from codesuggest.providers import (
    ChatMessage,
    ChatRequest,
    CompletionRequest,
    ProviderConfig,
    provider_for,
)
from tests.fake_servers import Reply, sse

HELLO = (ChatMessage("user", "hi"),)

KEY = "sk-ant-secret"


def claude(server, **fields):
    return provider_for(
        ProviderConfig(
            provider="anthropic",
            base_url=server.url,
            api_key=KEY,
            timeout=1.0,
            retry_backoff=0.01,
            **fields,
        )
    )


def test_it_sends_the_key_version_and_a_top_level_system_prompt(anthropic_server):
    anthropic_server.api_key = KEY
    messages = (
        ChatMessage("system", "Answer in Python."),
        ChatMessage("user", "Write add()"),
        ChatMessage("assistant", "Which types?"),
        ChatMessage("user", "ints"),
    )

    answer = claude(anthropic_server, model="claude-3-5-haiku-latest").chat(
        ChatRequest(messages, max_tokens=256, temperature=0.3)
    )

    request = anthropic_server.last
    assert request.path == "/v1/messages"
    assert request.headers["x-api-key"] == KEY
    assert request.headers["anthropic-version"] == "2023-06-01"
    assert "authorization" not in request.headers
    assert request.json == {
        "model": "claude-3-5-haiku-latest",
        "max_tokens": 256,
        "temperature": 0.3,
        "system": "Answer in Python.",
        "messages": [
            {"role": "user", "content": "Write add()"},
            {"role": "assistant", "content": "Which types?"},
            {"role": "user", "content": "ints"},
        ],
    }
    assert answer.text == "def add(a, b):\n    return a + b"
    assert answer.finish_reason == "stop"


def test_an_answer_cut_by_max_tokens_finished_for_length(anthropic_server):
    anthropic_server.stop_reason = "max_tokens"

    answer = claude(anthropic_server).chat(ChatRequest(HELLO, max_tokens=3))

    assert answer.finish_reason == "length"
    assert anthropic_server.last.json["model"] == "claude-sonnet-4-5"
    assert "system" not in anthropic_server.last.json


def test_it_streams_text_deltas_in_order(anthropic_server):
    chunks = list(claude(anthropic_server).stream_chat(ChatRequest(HELLO, max_tokens=9)))

    assert chunks == ["def", " add(a,", " b):", "\n    return", " a", " +", " b"]
    assert anthropic_server.last.json["stream"] is True


def test_closing_the_stream_closes_the_upstream_response(anthropic_server):
    deltas = [{"type": "content_block_delta", "delta": {"text": f"{i} "}} for i in range(50)]
    names = ("content_block_delta",) * 50
    anthropic_server.script(Reply(chunks=sse(*deltas, event_names=names), chunk_delay=0.02))
    stream = claude(anthropic_server).stream_chat(ChatRequest(HELLO, max_tokens=9))

    with closing(stream):
        assert next(stream) == "0 "

    assert anthropic_server.client_went_away.wait(3)
    assert anthropic_server.chunks_sent < 50


def test_completion_asks_for_only_the_missing_code(anthropic_server):
    anthropic_server.text = "```python\nreturn a + b\n```"
    request = CompletionRequest(
        prefix="def add(a, b):\n    ",
        suffix="\n",
        file_name="m.py",
        language="python",
        stop=("\n\n", "\ndef "),
        candidates=2,
    )

    candidates = claude(anthropic_server).complete(request)

    body = anthropic_server.last.json
    assert "only the code to insert at the cursor" in body["system"]
    assert body["messages"] == [
        {
            "role": "user",
            "content": "File: m.py; language: python\n\ndef add(a, b):\n    <CURSOR>\n",
        }
    ]
    # Whitespace-only stop sequences are refused by the API, so they are left out.
    assert body["stop_sequences"] == ["\ndef "]
    assert [c.text for c in candidates] == ["return a + b", "return a + b"]
    assert len(anthropic_server.requests) == 2


@pytest.mark.parametrize(
    "answer",
    [
        "```python\nreturn a + b\n```\nThis adds the two numbers.",
        "return a + b\n```",
        "return a + b```",
        "return a + b",
    ],
)
def test_a_completion_is_the_code_without_fences_or_what_follows_them(anthropic_server, answer):
    anthropic_server.text = answer
    request = CompletionRequest(prefix="def add(a, b):\n    ", suffix="\n", language="python")

    [candidate] = claude(anthropic_server).complete(request)

    assert candidate.text == "return a + b"


def test_a_chat_answer_keeps_its_code_fences(anthropic_server):
    anthropic_server.text = "```python\nx = 1\n```"

    answer = claude(anthropic_server).chat(ChatRequest(HELLO, max_tokens=9))

    assert answer.text == "```python\nx = 1\n```"
