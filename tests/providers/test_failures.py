"""Transport behaviour every HTTP provider shares: retries, timeouts, safe errors, pooling."""

import threading

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
from tests.fake_servers import Reply, gemini_response, json_array, sse

KEY = "sk-very-secret-key-42"
REQUEST = CompletionRequest(prefix="def f():\n    ", suffix="")
HELLO = (ChatMessage("user", "hi"),)


def openai(url: str, **fields):
    defaults = {"model": "m", "api_key": KEY, "timeout": 0.3, "retry_backoff": 0.01}
    return provider_for(ProviderConfig(provider="openai", base_url=url, **{**defaults, **fields}))


def anthropic(url: str, **fields):
    defaults = {"api_key": KEY, "timeout": 0.3, "retry_backoff": 0.01}
    return provider_for(
        ProviderConfig(provider="anthropic", base_url=url, **{**defaults, **fields})
    )


def test_a_slow_server_is_a_timeout_and_not_retried(openai_server):
    openai_server.script(Reply(default=True, delay=1.0))

    with pytest.raises(ProviderTimeout) as caught:
        openai(openai_server.url).complete(REQUEST)

    assert str(caught.value) == "The openai model server timed out after 0.3s"
    assert caught.value.status == 504
    assert len(openai_server.requests) == 1


def test_a_503_is_retried_and_the_retry_answers(openai_server):
    openai_server.script(Reply(status=503, json={"error": "overloaded"}))

    candidates = openai(openai_server.url).complete(REQUEST)

    assert [c.text for c in candidates] == ["return a + b"]
    assert len(openai_server.requests) == 2


def test_a_429_is_retried_after_a_short_retry_after(openai_server):
    openai_server.script(Reply(status=429, headers={"Retry-After": "0"}))

    openai(openai_server.url).complete(REQUEST)

    assert len(openai_server.requests) == 2


def test_a_429_asking_for_a_long_wait_fails_at_once(openai_server):
    openai_server.script(Reply(status=429, headers={"Retry-After": "120"}))

    with pytest.raises(ProviderError, match="answered 429"):
        openai(openai_server.url).complete(REQUEST)

    assert len(openai_server.requests) == 1


def test_retries_are_capped_then_the_error_names_the_status(openai_server):
    openai_server.script(*[Reply(status=500)] * 5)

    with pytest.raises(ProviderError) as caught:
        openai(openai_server.url).complete(REQUEST)

    assert str(caught.value) == "The openai model server answered 500"
    assert caught.value.status == 503
    assert len(openai_server.requests) == 3


def test_a_client_error_is_not_retried_and_does_not_leak_the_key(openai_server):
    openai_server.api_key = "another-key"

    with pytest.raises(ProviderError) as caught:
        openai(openai_server.url).complete(REQUEST)

    assert str(caught.value) == "The openai model server answered 401"
    assert KEY not in str(caught.value)
    assert len(openai_server.requests) == 1


def test_a_refused_connection_is_a_provider_error(refused_url):
    with pytest.raises(ProviderError) as caught:
        openai(refused_url).complete(REQUEST)

    assert not isinstance(caught.value, ProviderTimeout)
    assert str(caught.value) == "The openai model server could not be reached"


def test_malformed_json_is_a_provider_error(openai_server, anthropic_server):
    openai_server.script(Reply(body='{"choices": [{"text": '))
    anthropic_server.script(Reply(body="<html>Bad gateway</html>"))

    with pytest.raises(ProviderError, match="not JSON"):
        openai(openai_server.url).complete(REQUEST)
    with pytest.raises(ProviderError, match="not JSON"):
        anthropic(anthropic_server.url).chat(ChatRequest(HELLO, max_tokens=5))


def test_the_key_and_a_secret_query_never_appear_in_errors(refused_url, openai_server):
    openai_server.script(*[Reply(status=502)] * 3)
    secret_url = f"{openai_server.url}/v1?token={KEY}"
    failures = []
    for provider in (
        openai(refused_url + f"?key={KEY}"),
        openai(secret_url),
        anthropic(refused_url),
    ):
        with pytest.raises(ProviderError) as caught:
            provider.complete(REQUEST)
        failures.append(caught.value)

    for error in failures:
        assert KEY not in str(error)
        assert KEY not in repr(error)
        assert "token=" not in str(error)
    assert KEY not in repr(ProviderConfig(provider="openai", api_key=KEY))


def test_a_stream_is_retried_before_it_starts(openai_server):
    openai_server.script(Reply(status=503))

    chunks = list(openai(openai_server.url).stream_chat(ChatRequest(HELLO, max_tokens=5)))

    assert "".join(chunks) == "Here is the function."
    assert len(openai_server.requests) == 2


def test_a_stream_that_stalls_is_a_timeout(openai_server):
    delta = {"choices": [{"index": 0, "delta": {"content": "a"}}]}
    openai_server.script(Reply(chunks=sse(delta, delta), chunk_delay=1))

    with pytest.raises(ProviderTimeout):
        list(openai(openai_server.url).stream_chat(ChatRequest(HELLO, max_tokens=5)))


def vertex(url: str):
    return provider_for(
        ProviderConfig(
            provider="vertex",
            options=VertexOptions(project="acme", endpoint=url),
            api_key=KEY,
            timeout=0.3,
            retry_backoff=0.01,
        )
    )


HTML_PAGE = "<html><body><h1>502 Bad Gateway</h1></body></html>\n"
OPENAI_DELTA = {"choices": [{"index": 0, "delta": {"content": "def"}}]}
CLAUDE_DELTA = {"type": "content_block_delta", "index": 0, "delta": {"text": "def"}}
GEMINI_CHUNK = gemini_response("def")

# Each provider's stream broken in each way a model server or a proxy in front of it breaks it,
# after a first piece of text; the message that ends the stream instead.
BROKEN_STREAMS = {
    "openai: an HTML page": (
        "openai",
        Reply(chunks=[HTML_PAGE]),
        "sent a stream that is not Server-Sent Events",
    ),
    "openai: an event that is not JSON": (
        "openai",
        Reply(chunks=[*sse(OPENAI_DELTA), 'data: {"choices": [\n\n']),
        "sent a stream event that is not JSON",
    ),
    "openai: an event of the wrong shape": (
        "openai",
        Reply(chunks=sse(OPENAI_DELTA, {"object": "chat.completion.chunk", "text": "x"})),
        "sent an unexpected stream event",
    ),
    "openai: a connection closed mid-answer": (
        "openai",
        Reply(chunks=sse(OPENAI_DELTA), cut_off=True),
        "broke off the stream",
    ),
    "openai: an end without a finish reason or [DONE]": (
        "openai",
        Reply(chunks=sse(OPENAI_DELTA)),
        "broke off the stream",
    ),
    "anthropic: an HTML page": (
        "anthropic",
        Reply(chunks=[HTML_PAGE]),
        "sent a stream that is not Server-Sent Events",
    ),
    "anthropic: an event that is not JSON": (
        "anthropic",
        Reply(chunks=[*sse(CLAUDE_DELTA), "event: content_block_delta\ndata: {oops\n\n"]),
        "sent a stream event that is not JSON",
    ),
    "anthropic: an event of the wrong shape": (
        "anthropic",
        Reply(chunks=sse(CLAUDE_DELTA, {"delta": {"text": "x"}})),
        "sent an unexpected stream event",
    ),
    "anthropic: a connection closed mid-answer": (
        "anthropic",
        Reply(chunks=sse(CLAUDE_DELTA), cut_off=True),
        "broke off the stream",
    ),
    "anthropic: an end without message_stop": (
        "anthropic",
        Reply(chunks=sse(CLAUDE_DELTA)),
        "broke off the stream",
    ),
    "vertex: an HTML page": (
        "vertex",
        Reply(chunks=[HTML_PAGE]),
        "sent a response that is not valid",
    ),
    "vertex: a chunk that is not JSON": (
        "vertex",
        Reply(chunks=[*json_array(GEMINI_CHUNK)[:-1], ",{oops}]"]),
        "sent a response that is not valid",
    ),
    "vertex: a chunk of the wrong shape": (
        "vertex",
        Reply(chunks=json_array(GEMINI_CHUNK, {"answer": "x"})),
        "sent an unexpected stream event",
    ),
    "vertex: a connection closed mid-answer": (
        "vertex",
        Reply(chunks=json_array(GEMINI_CHUNK)[:-1], cut_off=True),
        "broke off the stream",
    ),
    "vertex: an end without a finish reason": (
        "vertex",
        Reply(chunks=json_array(GEMINI_CHUNK)),
        "broke off the stream",
    ),
}


@pytest.mark.parametrize(
    ("provider", "reply", "message"), BROKEN_STREAMS.values(), ids=BROKEN_STREAMS.keys()
)
def test_a_broken_stream_is_a_provider_error_not_a_short_answer(
    provider, reply, message, openai_server, anthropic_server, vertex_server
):
    servers = {"openai": openai_server, "anthropic": anthropic_server, "vertex": vertex_server}
    clients = {"openai": openai, "anthropic": anthropic, "vertex": vertex}
    server = servers[provider]
    server.script(reply)

    with pytest.raises(ProviderError) as caught:
        list(clients[provider](server.url).stream_chat(ChatRequest(HELLO, max_tokens=5)))

    assert str(caught.value) == f"The {provider} model server {message}"


def test_a_gemini_stream_refusing_the_prompt_says_so(vertex_server):
    vertex_server.script(Reply(chunks=json_array({"promptFeedback": {"blockReason": "SAFETY"}})))

    with pytest.raises(ProviderError) as caught:
        list(vertex(vertex_server.url).stream_chat(ChatRequest(HELLO, max_tokens=5)))

    assert str(caught.value) == "The vertex model server blocked the prompt"


def test_a_stream_that_ends_with_a_finish_reason_but_no_done_is_whole(openai_server):
    finish = {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
    openai_server.script(Reply(chunks=sse(OPENAI_DELTA, finish)))

    chunks = list(openai(openai_server.url).stream_chat(ChatRequest(HELLO, max_tokens=5)))

    assert chunks == ["def"]


def test_sequential_calls_reuse_one_connection(openai_server, anthropic_server):
    provider = openai(openai_server.url)
    for _ in range(5):
        provider.complete(REQUEST)
        list(provider.stream_chat(ChatRequest(HELLO, max_tokens=5)))
    claude = anthropic(anthropic_server.url)
    for _ in range(3):
        claude.chat(ChatRequest(HELLO, max_tokens=5))

    assert openai_server.connections == 1
    assert anthropic_server.connections == 1


def test_many_concurrent_calls_keep_their_connections_pooled(openai_server):
    # More callers than requests' default pool of 10: with a small pool the second wave would
    # have to open new connections because the first wave's extra ones were discarded.
    openai_server.script(*[Reply(default=True, delay=0.1)] * 40)
    provider = openai(openai_server.url, timeout=5.0)

    def wave() -> None:
        threads = [threading.Thread(target=provider.complete, args=(REQUEST,)) for _ in range(20)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    wave()
    after_first_wave = openai_server.connections
    wave()

    assert len(openai_server.requests) == 40
    assert after_first_wave > 10
    # At most 20 callers were ever in flight at once: every connection beyond that would be one
    # that the first wave opened and the pool then threw away.
    assert openai_server.connections <= 20


def test_an_error_that_outlasted_the_retries_is_marked_transient(openai_server):
    openai_server.script(*[Reply(status=503)] * 3)

    with pytest.raises(ProviderError) as raised:
        openai(openai_server.url).complete(REQUEST)

    assert raised.value.transient


def test_a_refused_request_is_not_transient(openai_server):
    openai_server.script(Reply(status=400, json={"error": {"message": "bad request"}}))

    with pytest.raises(ProviderError) as raised:
        openai(openai_server.url).complete(REQUEST)

    assert not raised.value.transient
