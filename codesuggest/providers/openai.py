"""Any OpenAI-compatible server: vLLM, Ollama, llama.cpp, LM Studio, TGI, LiteLLM, OpenAI."""

from __future__ import annotations

from collections.abc import Generator
from contextlib import closing
from typing import Any

from .base import (
    BaseProvider,
    Candidate,
    ChatRequest,
    CompletionRequest,
    HttpClient,
    ProviderConfig,
    join_url,
    parse_json_event,
    stop_sequences,
)
from .fim import template_for

PUBLIC_URL = "https://api.openai.com"
# Used when no model is configured; self-hosted servers are expected to name theirs.
DEFAULT_COMPLETION_MODEL = "gpt-3.5-turbo-instruct"
DEFAULT_CHAT_MODEL = "gpt-4o-mini"


class OpenAIProvider(BaseProvider):
    default_model = DEFAULT_COMPLETION_MODEL
    follows_instructions = True

    @classmethod
    def model_for(cls, model: str, *, chat: bool) -> str:
        return model or (DEFAULT_CHAT_MODEL if chat else DEFAULT_COMPLETION_MODEL)

    def __init__(self, config: ProviderConfig) -> None:
        super().__init__(config)
        headers = {"Authorization": f"Bearer {config.api_key}"} if config.api_key else {}
        self.http = HttpClient(config, headers)
        self.template = template_for(config.model, config.fim_template)

    def complete(self, request: CompletionRequest) -> list[Candidate]:
        data = self.http.post_json(self._url("completions"), self._completion_body(request))
        try:
            choices = sorted(data["choices"], key=lambda choice: choice.get("index", 0))
            return [
                Candidate(text=choice["text"] or "", finish_reason=_finish(choice))
                for choice in choices
            ]
        except (KeyError, TypeError, AttributeError):
            raise self.http.error("sent an unexpected response") from None

    def chat(self, request: ChatRequest) -> Candidate:
        body = self._chat_body(request)
        data = self.http.post_json(self._url("chat/completions"), body)
        try:
            choice = data["choices"][0]
            return Candidate(text=choice["message"]["content"] or "", finish_reason=_finish(choice))
        except (KeyError, IndexError, TypeError):
            raise self.http.error("sent an unexpected response") from None

    def stream_chat(self, request: ChatRequest) -> Generator[str]:
        body = {**self._chat_body(request), "stream": True}
        finished = False
        with closing(self.http.stream_sse(self._url("chat/completions"), body)) as events:
            for _, data in events:
                # Read on past [DONE] to the end of the body so the connection is reused.
                if data.strip() == "[DONE]":
                    finished = True
                    continue
                event = parse_json_event(self.http, data)
                if "error" in event:
                    raise self.http.error("reported an error in the stream")
                text, finishes = self._read_chunk(event)
                finished = finished or finishes
                if text:
                    yield text
        # Some servers send the finish reason and no [DONE]; without either the answer was cut.
        if not finished:
            raise self.http.error("broke off the stream")

    def _read_chunk(self, event: dict[str, Any]) -> tuple[str, bool]:
        """The text a chunk adds, and whether it is the last one with text."""
        try:
            choices = event["choices"]  # empty in a usage-only chunk, never missing
            text = "".join((choice.get("delta") or {}).get("content") or "" for choice in choices)
            return text, any(choice.get("finish_reason") for choice in choices)
        except (KeyError, TypeError, AttributeError):
            raise self.http.error("sent an unexpected stream event") from None

    def _url(self, path: str) -> str:
        return join_url(self.config.base_url, PUBLIC_URL, path)

    def _completion_body(self, request: CompletionRequest) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": self.model_for(self.config.model, chat=False),
            "max_tokens": request.max_tokens,
            "temperature": request.temperature,
            "n": request.candidates,
            "stream": False,
        }
        if self.template is None:
            body["prompt"] = request.prefix
            body["suffix"] = request.suffix
            stops = stop_sequences(request.stop)
        else:
            body["prompt"] = self.template.render(request)
            stops = stop_sequences(request.stop, self.template.stops_for(request))
        optional = {
            "stop": stops or None,
            "top_p": request.top_p,
            "top_k": request.top_k,
            "seed": request.seed,
            "logprobs": request.logprobs,
            "presence_penalty": request.presence_penalty,
            "frequency_penalty": request.frequency_penalty,
            "echo": True if request.echo else None,
        }
        # Unset knobs stay off the wire: strict servers (OpenAI itself) reject unknown ones.
        body.update({key: value for key, value in optional.items() if value is not None})
        return body

    def _chat_body(self, request: ChatRequest) -> dict[str, Any]:
        return {
            "model": self.model_for(self.config.model, chat=True),
            "messages": [{"role": m.role, "content": m.content} for m in request.messages],
            "max_tokens": request.max_tokens,
            "temperature": request.temperature,
            "stream": False,
        }


def _finish(choice: dict[str, Any]) -> str:
    return "length" if choice.get("finish_reason") == "length" else "stop"
