"""Anthropic's Messages API, for generation and chat (completion works through an instruction)."""

from __future__ import annotations

from collections.abc import Generator
from contextlib import closing
from typing import Any

from .base import (
    BaseProvider,
    Candidate,
    ChatMessage,
    ChatRequest,
    CompletionRequest,
    HttpClient,
    ProviderConfig,
    join_url,
    parse_json_event,
    stop_sequences,
)
from .fences import unfenced

PUBLIC_URL = "https://api.anthropic.com"
API_VERSION = "2023-06-01"
DEFAULT_MODEL = "claude-sonnet-4-5"

FIM_SYSTEM_PROMPT = (
    "You are a code completion engine. The user sends a file with the cursor marked as "
    "<CURSOR>. Reply with only the code to insert at the cursor: no explanation, no Markdown, "
    "no repetition of the code before or after the cursor. Reply with nothing if nothing fits."
)


class AnthropicProvider(BaseProvider):
    default_model = DEFAULT_MODEL
    follows_instructions = True

    def __init__(self, config: ProviderConfig) -> None:
        super().__init__(config)
        headers = {"anthropic-version": API_VERSION}
        if config.api_key:
            headers["x-api-key"] = config.api_key
        self.http = HttpClient(config, headers)
        self.url = join_url(config.base_url, PUBLIC_URL, "messages")

    def complete(self, request: CompletionRequest) -> list[Candidate]:
        # The Messages API has no `n`: each candidate is its own call.
        answers = [
            self._message(self._fim_body(request)) for _ in range(max(1, request.candidates))
        ]
        return [Candidate(_insertion(a.text), a.finish_reason) for a in answers]

    def chat(self, request: ChatRequest) -> Candidate:
        return self._message(self._chat_body(request))

    def stream_chat(self, request: ChatRequest) -> Generator[str]:
        yield from self._stream({**self._chat_body(request), "stream": True})

    def _chat_body(self, request: ChatRequest) -> dict[str, Any]:
        messages = request.messages
        system = "\n\n".join(m.content for m in messages if m.role == "system")
        body: dict[str, Any] = {
            "model": self.config.model or DEFAULT_MODEL,
            "max_tokens": request.max_tokens,
            "temperature": request.temperature,
            "messages": [
                {"role": m.role, "content": m.content} for m in messages if m.role != "system"
            ],
        }
        if system:
            body["system"] = system
        return body

    def _fim_body(self, request: CompletionRequest) -> dict[str, Any]:
        about = f"File: {request.file_name or 'unknown'}; language: {request.language or 'unknown'}"
        message = ChatMessage("user", f"{about}\n\n{request.prefix}<CURSOR>{request.suffix}")
        body = self._chat_body(
            ChatRequest(
                (ChatMessage("system", FIM_SYSTEM_PROMPT), message),
                max_tokens=request.max_tokens,
                temperature=request.temperature,
            )
        )
        # The API refuses whitespace-only stop sequences such as "\n\n".
        stops = [stop for stop in stop_sequences(request.stop) if stop.strip()]
        optional = {"stop_sequences": stops or None, "top_p": request.top_p, "top_k": request.top_k}
        body.update({key: value for key, value in optional.items() if value is not None})
        return body

    def _message(self, body: dict[str, Any]) -> Candidate:
        data = self.http.post_json(self.url, body)
        try:
            text = "".join(
                block["text"] for block in data["content"] if block.get("type") == "text"
            )
        except (KeyError, TypeError, AttributeError):
            raise self.http.error("sent an unexpected response") from None
        return Candidate(text=text, finish_reason=_finish(data.get("stop_reason")))

    def _stream(self, body: dict[str, Any]) -> Generator[str]:
        stopped = False
        with closing(self.http.stream_sse(self.url, body)) as events:
            for name, data in events:
                event = parse_json_event(self.http, data)
                kind = event.get("type")
                if name == "error" or kind == "error":
                    raise self.http.error("reported an error in the stream")
                if not isinstance(kind, str):
                    raise self.http.error("sent an unexpected stream event")
                # Other events (message_start, ping, ...) carry no text; reading on to the end
                # of the body lets the connection be reused.
                if kind == "content_block_delta":
                    text = self._delta_text(event)
                    if text:
                        yield text
                stopped = stopped or kind == "message_stop"
        if not stopped:
            raise self.http.error("broke off the stream")

    def _delta_text(self, event: dict[str, Any]) -> str:
        delta = event.get("delta")
        text = delta.get("text", "") if isinstance(delta, dict) else None
        if not isinstance(text, str):
            raise self.http.error("sent an unexpected stream event")
        return text


def _insertion(answer: str) -> str:
    """The code to insert: models sometimes wrap it in a fence despite the instruction, and the
    line end before the closing fence is the fence's, not the insertion's."""
    code = unfenced(answer)
    return code.removesuffix("\n") if code != answer else code


def _finish(stop_reason: str | None) -> str:
    return "length" if stop_reason == "max_tokens" else "stop"
