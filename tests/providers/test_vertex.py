"""Vertex AI through the real google-cloud-aiplatform client, over REST, against a fake server."""

from contextlib import closing

import pytest

from codesuggest.providers import (
    ChatMessage,
    ChatRequest,
    CompletionRequest,
    ProviderConfig,
    ProviderError,
    ProviderTimeout,
    provider_for,
)
from codesuggest.providers.vertex import VertexOptions
from tests.fake_servers import Reply, google_error

HELLO = (ChatMessage("user", "hi"),)

TOKEN = "ya29.secret-access-token"
PREDICT_PATH = "/v1/projects/acme/locations/europe-west4/publishers/google/models/{}:predict"
REQUEST = CompletionRequest(prefix="def add(a, b):\n", suffix="\n", max_tokens=32)


def vertex(endpoint: str, project: str = "acme", **fields):
    options = VertexOptions(project=project, location="europe-west4", endpoint=endpoint)
    defaults = {"timeout": 1.0, "retry_backoff": 0.01}
    return provider_for(
        ProviderConfig(provider="vertex", options=options, **{**defaults, **fields})
    )


def test_it_predicts_with_code_gecko_by_default(vertex_server):
    candidates = vertex(vertex_server.url).complete(REQUEST)

    request = vertex_server.last
    assert request.method == "POST"
    assert request.path == PREDICT_PATH.format("code-gecko@002")
    assert request.raw_path == PREDICT_PATH.format("code-gecko%40002")
    assert request.json["instances"] == [{"prefix": "def add(a, b):\n", "suffix": "\n"}]
    assert [c.text for c in candidates] == ["    return a + b"]
    assert candidates[0].score == -1.5
    assert candidates[0].safety_attributes == {"blocked": False, "categories": [], "scores": []}
    assert candidates[0].citation_metadata == {"citations": []}


def test_it_sends_every_seed_004_parameter(vertex_server):
    request = CompletionRequest(
        prefix="x = ",
        suffix="",
        temperature=0.4,
        max_tokens=48,
        candidates=2,
        stop=("\nclass ",),
        logprobs=3,
        presence_penalty=0.5,
        frequency_penalty=-0.5,
        echo=True,
        seed=7,
    )

    vertex(vertex_server.url, model="code-gecko@001").complete(request)

    # The SDK sends protobuf Values, so whole numbers arrive as JSON floats.
    assert vertex_server.last.json["parameters"] == {
        "temperature": 0.4,
        "maxOutputTokens": 48.0,
        "candidateCount": 2.0,
        "stopSequences": ["\nclass ", "\n\n"],
        "logprobs": 3.0,
        "presencePenalty": 0.5,
        "frequencyPenalty": -0.5,
        "echo": True,
        "seed": 7.0,
    }
    assert vertex_server.last.path == PREDICT_PATH.format("code-gecko@001")


def test_it_leaves_unset_parameters_out_and_allows_blank_lines_when_multiline(vertex_server):
    vertex(vertex_server.url).complete(CompletionRequest(prefix="x", suffix="", multiline=True))

    assert vertex_server.last.json["parameters"] == {
        "temperature": 0.2,
        "maxOutputTokens": 64.0,
        "candidateCount": 1.0,
    }


def test_a_blocked_candidate_is_no_suggestion(vertex_server):
    vertex_server.contents = ["first", "second", "third"]
    vertex_server.blocked = {1}

    candidates = vertex(vertex_server.url).complete(
        CompletionRequest(prefix="x", suffix="", candidates=3)
    )

    assert [(c.text, c.score) for c in candidates] == [("first", -1.5), ("third", -3.5)]


def test_a_candidate_that_used_every_token_finished_for_length(vertex_server):
    vertex_server.output_tokens = 32

    (candidate,) = vertex(vertex_server.url).complete(REQUEST)

    assert candidate.finish_reason == "length"


def test_a_candidate_under_the_limit_finished_by_itself(vertex_server):
    vertex_server.output_tokens = 31

    (candidate,) = vertex(vertex_server.url).complete(REQUEST)

    assert candidate.finish_reason == "stop"


def test_it_sends_a_configured_key_as_a_bearer_token(vertex_server):
    vertex(vertex_server.url, api_key=TOKEN).complete(REQUEST)

    assert vertex_server.last.headers["authorization"] == f"Bearer {TOKEN}"


def test_it_sends_no_credentials_to_a_plain_http_test_server_without_a_key(vertex_server):
    vertex(vertex_server.url).complete(REQUEST)

    assert "authorization" not in vertex_server.last.headers


def test_it_chats_with_gemini(vertex_server):
    messages = (
        ChatMessage("system", "You are a helpful assistant."),
        ChatMessage("user", "Hi"),
        ChatMessage("assistant", "Hello!"),
        ChatMessage("user", "Write add()"),
    )

    answer = vertex(vertex_server.url).chat(ChatRequest(messages, max_tokens=300, temperature=0.5))

    request = vertex_server.last
    assert request.path == (
        "/v1/projects/acme/locations/europe-west4/publishers/google/models/"
        "gemini-2.5-flash:generateContent"
    )
    assert request.json["contents"] == [
        {"role": "user", "parts": [{"text": "Hi"}]},
        {"role": "model", "parts": [{"text": "Hello!"}]},
        {"role": "user", "parts": [{"text": "Write add()"}]},
    ]
    assert request.json["systemInstruction"] == {
        "parts": [{"text": "You are a helpful assistant."}]
    }
    assert request.json["generationConfig"] == {"temperature": 0.5, "maxOutputTokens": 300}
    assert answer.text == "Here is the function."
    assert answer.finish_reason == "stop"


def test_a_configured_gemini_model_is_used_for_chat(vertex_server):
    vertex(vertex_server.url, model="gemini-2.0-flash-001").chat(ChatRequest(HELLO, max_tokens=5))

    assert vertex_server.last.path.endswith("/models/gemini-2.0-flash-001:generateContent")


def test_a_chat_cut_by_the_token_limit_finished_for_length(vertex_server):
    vertex_server.finish_reason = "MAX_TOKENS"

    answer = vertex(vertex_server.url).chat(ChatRequest(HELLO, max_tokens=5))

    assert answer.finish_reason == "length"


def test_it_streams_a_chat_answer_in_order(vertex_server):
    chunks = list(vertex(vertex_server.url).stream_chat(ChatRequest(HELLO, max_tokens=9)))

    assert chunks == ["Here", " is", " the", " function."]
    assert vertex_server.last.path.endswith(":streamGenerateContent")


def test_closing_a_chat_stream_closes_the_upstream_response(vertex_server):
    vertex_server.chat_text = " ".join(f"word{i}" for i in range(50))
    vertex_server.script(Reply(default=True))
    stream = vertex(vertex_server.url).stream_chat(ChatRequest(HELLO, max_tokens=9))

    with closing(stream):
        assert next(stream) == "word0"

    assert vertex_server.client_went_away.wait(3)


def test_calls_reuse_one_connection(vertex_server):
    provider = vertex(vertex_server.url)
    for _ in range(3):
        provider.complete(REQUEST)
        provider.chat(ChatRequest(HELLO, max_tokens=5))

    assert vertex_server.connections == 1


def test_a_503_is_retried(vertex_server):
    vertex_server.script(google_error(503, "UNAVAILABLE", "The service is currently unavailable."))

    assert vertex(vertex_server.url).complete(REQUEST)
    assert len(vertex_server.requests) == 2


def test_retries_are_capped_then_the_error_names_the_status(vertex_server):
    vertex_server.script(*[google_error(500, "INTERNAL", "Internal error.")] * 5)

    with pytest.raises(ProviderError) as caught:
        vertex(vertex_server.url, api_key=TOKEN).complete(REQUEST)

    assert str(caught.value) == "The vertex model server answered 500"
    assert len(vertex_server.requests) == 3


def test_a_bad_request_is_not_retried_and_does_not_leak_the_url_or_token(vertex_server):
    vertex_server.script(google_error(400, "INVALID_ARGUMENT", "candidateCount out of range"))

    with pytest.raises(ProviderError) as caught:
        vertex(vertex_server.url, api_key=TOKEN).complete(REQUEST)

    assert str(caught.value) == "The vertex model server answered 400"
    assert TOKEN not in str(caught.value)
    assert vertex_server.url not in str(caught.value)
    assert len(vertex_server.requests) == 1


def test_a_slow_server_is_a_timeout(vertex_server):
    vertex_server.script(Reply(default=True, delay=1.0))

    with pytest.raises(ProviderTimeout) as caught:
        vertex(vertex_server.url, timeout=0.2).complete(REQUEST)

    assert str(caught.value) == "The vertex model server timed out after 0.2s"


def test_a_refused_connection_is_a_provider_error(refused_url):
    with pytest.raises(ProviderError) as caught:
        vertex(refused_url).complete(REQUEST)

    assert str(caught.value) == "The vertex model server could not be reached"


def test_malformed_json_is_a_provider_error(vertex_server):
    vertex_server.script(Reply(body='{"predictions": [{"content": '))

    with pytest.raises(ProviderError, match="not valid"):
        vertex(vertex_server.url).complete(REQUEST)


def test_a_missing_project_is_a_clear_error(vertex_server):
    with pytest.raises(ProviderError, match="VERTEX_PROJECT"):
        vertex(vertex_server.url, project="").complete(REQUEST)
