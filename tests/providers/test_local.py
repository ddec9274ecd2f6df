"""The local provider hands requests to the built-in engine (codesuggest.providers.local_engine)."""

import pytest

from codesuggest.providers import (
    ChatMessage,
    ChatRequest,
    CompletionRequest,
    ProviderConfig,
    provider_for,
)
from codesuggest.providers.local import LocalOptions

PREFIX = "total = 0\n" + "".join(f"total = total + values[{i}]\n" for i in range(8))
REQUEST = CompletionRequest(
    prefix=PREFIX + "total = total + ", suffix="\n", language="python", temperature=0.0
)


@pytest.fixture
def local(tmp_path):
    # A low threshold: what the engine is sure enough to show is test_local_engine.py's concern.
    options = LocalOptions(data_dir=str(tmp_path), min_confidence=0.1)
    return provider_for(ProviderConfig(provider="local", options=options))


def test_completions_are_candidates_and_repeat_at_temperature_zero(local):
    first = local.complete(REQUEST)

    assert first == local.complete(REQUEST)
    [candidate] = first
    assert candidate.text.startswith("values[")  # learnt from the file above the cursor
    assert candidate.finish_reason == "stop"
    assert 0 < candidate.score <= 1


def test_chat_answers_the_last_question(local):
    messages = (ChatMessage("system", "Be brief."), ChatMessage("user", "How is total computed?"))
    request = ChatRequest(messages, max_tokens=100)

    answer = local.chat(request)

    assert answer.text
    assert answer.finish_reason == "stop"
    assert "".join(local.stream_chat(request)) == answer.text
