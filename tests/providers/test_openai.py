from contextlib import closing

import pytest

from codesuggest.providers import (
    ChatMessage,
    ChatRequest,
    CompletionRequest,
    ProviderConfig,
    ProviderError,
    provider_for,
)
from tests.fake_servers import Reply, sse

KEY = "sk-test-secret-123"
PYTHON = CompletionRequest(
    prefix="def add(a, b):\n    ",
    suffix="\n\nprint(add(1, 2))\n",
    file_name="m.py",
    language="python",
)
HELLO = (ChatMessage("user", "hi"),)


def openai(server, **fields) -> object:
    return provider_for(
        ProviderConfig(
            provider="openai", base_url=server.url, timeout=1.0, retry_backoff=0.01, **fields
        )
    )


def test_it_sends_the_qwen_fim_prompt_and_stop_tokens(openai_server):
    provider = openai(openai_server, model="Qwen/Qwen2.5-Coder-7B-Instruct")

    candidates = provider.complete(PYTHON)

    body = openai_server.last.json
    assert openai_server.last.path == "/v1/completions"
    assert body["prompt"] == (
        "<|fim_prefix|>def add(a, b):\n    <|fim_suffix|>\n\nprint(add(1, 2))\n<|fim_middle|>"
    )
    assert "suffix" not in body
    assert body["stop"] == [
        "<|fim_prefix|>",
        "<|fim_suffix|>",
        "<|fim_middle|>",
        "<|file_sep|>",
        "<|endoftext|>",
        "\n\n",
    ]
    assert body["model"] == "Qwen/Qwen2.5-Coder-7B-Instruct"
    assert body["max_tokens"] == 64
    assert body["stream"] is False
    assert [c.text for c in candidates] == ["return a + b"]
    assert candidates[0].finish_reason == "stop"


@pytest.mark.parametrize(
    ("model", "prompt", "first_stop"),
    [
        ("codestral-latest", "[SUFFIX]S[PREFIX]P", "[PREFIX]"),
        ("codellama/CodeLlama-7b-hf", "<PRE> P <SUF>S <MID>", "<PRE>"),
        ("bigcode/starcoder2-15b", "<fim_prefix>P<fim_suffix>S<fim_middle>", "<fim_prefix>"),
        (
            "deepseek-ai/deepseek-coder-6.7b-base",
            "<｜fim▁begin｜>P<｜fim▁hole｜>S<｜fim▁end｜>",  # noqa: RUF001
            "<｜end▁of▁sentence｜>",  # noqa: RUF001
        ),
        ("codegemma:7b-code", "<|fim_prefix|>P<|fim_suffix|>S<|fim_middle|>", "<|fim_prefix|>"),
    ],
)
def test_it_picks_the_template_from_the_model_name(openai_server, model, prompt, first_stop):
    openai(openai_server, model=model).complete(CompletionRequest(prefix="P", suffix="S"))

    assert openai_server.last.json["prompt"] == prompt
    assert openai_server.last.json["stop"][0] == first_stop


def test_it_uses_the_native_suffix_field_for_a_model_without_a_known_family(openai_server):
    provider = openai(openai_server, model="gpt-3.5-turbo-instruct")

    provider.complete(CompletionRequest(prefix="P", suffix="S", stop=("\n",)))

    body = openai_server.last.json
    assert body["prompt"] == "P"
    assert body["suffix"] == "S"
    assert body["stop"] == ["\n"]


def test_it_renders_an_admin_template_with_file_name_and_language(openai_server):
    provider = openai(
        openai_server, model="my-model", fim_template="# {file_name} ({language})\n{prefix}<FILL>"
    )

    provider.complete(PYTHON)

    assert openai_server.last.json["prompt"] == "# m.py (python)\ndef add(a, b):\n    <FILL>"
    assert "suffix" not in openai_server.last.json


def test_it_keeps_a_blank_line_allowed_in_a_multiline_completion(openai_server):
    provider = openai(openai_server, model="codestral-22b")

    provider.complete(CompletionRequest(prefix="P", suffix="S", multiline=True))

    assert openai_server.last.json["stop"] == ["[PREFIX]", "[SUFFIX]", "[MIDDLE]"]


def test_it_passes_sampling_knobs_only_when_set(openai_server):
    provider = openai(openai_server, model="m")

    provider.complete(CompletionRequest(prefix="P", suffix="", seed=0, top_p=0.9, candidates=3))

    body = openai_server.last.json
    assert body["seed"] == 0
    assert body["top_p"] == 0.9
    assert body["n"] == 3
    for absent in ("top_k", "logprobs", "echo", "presence_penalty", "frequency_penalty", "stop"):
        assert absent not in body


def test_it_returns_one_candidate_per_choice_with_the_servers_finish_reason(openai_server):
    openai_server.completion_texts = ["one", "two"]
    openai_server.finish_reason = "length"

    candidates = openai(openai_server, model="m").complete(
        CompletionRequest(prefix="P", suffix="", candidates=2)
    )

    assert [(c.text, c.finish_reason) for c in candidates] == [("one", "length"), ("two", "length")]


def test_it_sends_the_key_as_a_bearer_token(openai_server):
    openai_server.api_key = KEY

    openai(openai_server, model="m", api_key=KEY).complete(PYTHON)

    assert openai_server.last.headers["authorization"] == f"Bearer {KEY}"


def test_it_sends_no_authorization_header_without_a_key(openai_server):
    openai(openai_server, model="m").complete(PYTHON)

    assert "authorization" not in openai_server.last.headers


def test_it_accepts_a_base_url_that_already_ends_with_v1(openai_server):
    provider = provider_for(
        ProviderConfig(provider="openai", model="m", base_url=openai_server.url + "/v1/")
    )

    provider.complete(PYTHON)

    assert openai_server.last.path == "/v1/completions"


def test_it_chats_through_chat_completions(openai_server):
    provider = openai(openai_server, model="llama3")
    messages = (ChatMessage("system", "Be brief."), ChatMessage("user", "Write add()"))

    answer = provider.chat(ChatRequest(messages, max_tokens=200, temperature=0.1))

    assert openai_server.last.path == "/v1/chat/completions"
    assert openai_server.last.json == {
        "model": "llama3",
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Write add()"},
        ],
        "max_tokens": 200,
        "temperature": 0.1,
        "stream": False,
    }
    assert answer.text == "Here is the function."
    assert answer.finish_reason == "stop"


def test_it_streams_a_chat_answer_in_order(openai_server):
    chunks = list(openai(openai_server, model="m").stream_chat(ChatRequest(HELLO, max_tokens=10)))

    assert chunks == ["Here", " is", " the", " function."]
    assert openai_server.last.path == "/v1/chat/completions"
    assert openai_server.last.json["stream"] is True


def test_closing_the_stream_closes_the_upstream_response(openai_server):
    events = [{"choices": [{"index": 0, "delta": {"content": f"line{i}\n"}}]} for i in range(50)]
    openai_server.script(Reply(chunks=[*sse(*events), "data: [DONE]\n\n"], chunk_delay=0.02))
    stream = openai(openai_server, model="m").stream_chat(ChatRequest(HELLO, max_tokens=10))

    with closing(stream):
        assert next(stream) == "line0\n"

    assert openai_server.client_went_away.wait(3)
    assert openai_server.chunks_sent < 50


def test_an_error_event_in_the_stream_is_a_provider_error(openai_server):
    openai_server.script(Reply(chunks=sse({"error": {"message": "model crashed"}})))

    with pytest.raises(ProviderError, match="reported an error"):
        list(openai(openai_server, model="m").stream_chat(ChatRequest(HELLO, max_tokens=10)))


def test_an_unexpected_body_is_a_provider_error(openai_server):
    openai_server.script(Reply(json={"object": "list", "data": []}))

    with pytest.raises(ProviderError, match="unexpected response"):
        openai(openai_server, model="m").complete(PYTHON)
