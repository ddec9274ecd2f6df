"""Small local HTTP servers that speak the model providers' real wire protocols.

Each server runs on 127.0.0.1 on a free port in a background thread, records every request,
counts the TCP connections it accepted, and answers like the real service, unless a test
scripts the next answers:

    openai_server.script(Reply(status=503), Reply(json={...}))   # 503 first, then that body
    openai_server.script(Reply(delay=1.0))                        # answer (normally) after 1 s
    openai_server.script(Reply(body="{not json"))                 # malformed JSON
    openai_server.script(Reply(chunks=sse(...), cut_off=True))    # dies mid-stream

Use the fixtures (`vertex_server`, `openai_server`, `anthropic_server`, `refused_url`) by
importing them into a conftest.py: `from tests.fake_servers import openai_server  # noqa: F401`.
"""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import unquote, urlsplit

import pytest


@dataclass
class Reply:
    """One scripted answer. `chunks` makes it a streamed (chunked) answer."""

    status: int = 200
    json: Any = None
    body: str | bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    chunks: list[str] | None = None
    chunk_delay: float = 0.0
    # True: close the connection after `chunks` without ending the chunked body, as a model
    # server that dies mid-answer does.
    cut_off: bool = False
    # True: answer as the protocol normally would, only after `delay`.
    default: bool = False


@dataclass
class RecordedRequest:
    method: str
    path: str
    raw_path: str
    query: str
    headers: dict[str, str]  # lower-cased names
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


class FakeServer:
    """The protocol-agnostic part; subclasses implement `answer`."""

    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []
        self.connections = 0
        self.chunks_sent = 0
        self.client_went_away = threading.Event()
        self._replies: deque[Reply] = deque()
        self._lock = threading.Lock()
        self._httpd = _QuietServer(("127.0.0.1", 0), _handler_for(self))
        # A short poll interval keeps stop() (and so each test's teardown) fast.
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> Self:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def script(self, *replies: Reply) -> None:
        """Answer the next requests with these replies, in order; then answer normally."""
        with self._lock:
            self._replies.extend(replies)

    def reset(self) -> None:
        """Forget scripted replies and recorded requests: for a server shared by several tests."""
        with self._lock:
            self._replies.clear()
            self.requests.clear()

    @property
    def last(self) -> RecordedRequest:
        return self.requests[-1]

    def answer(self, request: RecordedRequest) -> Reply:
        raise NotImplementedError

    def _next_reply(self, request: RecordedRequest) -> Reply:
        with self._lock:
            self.requests.append(request)
            scripted = self._replies.popleft() if self._replies else None
        if scripted is None:
            return self.answer(request)
        if scripted.default:
            time.sleep(scripted.delay)
            return self.answer(request)
        return scripted

    def _connected(self) -> None:
        with self._lock:
            self.connections += 1


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hangs up (a timeout test, a closed stream) is expected, not an error.
        pass


def _handler_for(fake: FakeServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, so tests can see connections reused
        timeout = 10  # an idle keep-alive connection does not hold a thread forever

        def setup(self) -> None:
            super().setup()
            # Small streamed chunks must not wait for delayed ACKs (Nagle): keeps tests fast.
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            fake._connected()

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep test output clean

        def do_GET(self) -> None:
            self._serve()

        def do_POST(self) -> None:
            self._serve()

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            parts = urlsplit(self.path)
            request = RecordedRequest(
                method=self.command,
                # Decoded, as real servers route it: the Vertex SDK sends `@` as `%40`.
                path=unquote(parts.path),
                raw_path=parts.path,
                query=parts.query,
                headers={name.lower(): value for name, value in self.headers.items()},
                body=body,
            )
            reply = fake._next_reply(request)
            time.sleep(reply.delay)
            try:
                if reply.chunks is not None:
                    self._send_stream(reply)
                else:
                    self._send_whole(reply)
            except (BrokenPipeError, ConnectionResetError):
                fake.client_went_away.set()
                self.close_connection = True

        def _send_whole(self, reply: Reply) -> None:
            if reply.body is not None:
                payload = reply.body.encode() if isinstance(reply.body, str) else reply.body
            else:
                payload = json.dumps(reply.json if reply.json is not None else {}).encode()
            self.send_response(reply.status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def _send_stream(self, reply: Reply) -> None:
            self.send_response(reply.status)
            headers = {"Content-Type": "text/event-stream", **reply.headers}
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for chunk in reply.chunks or ():
                data = chunk.encode()
                self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
                self.wfile.flush()
                with fake._lock:
                    fake.chunks_sent += 1
                time.sleep(reply.chunk_delay)
            if reply.cut_off:
                self.close_connection = True
                return
            self.wfile.write(b"0\r\n\r\n")

    return Handler


def pieces(text: str) -> list[str]:
    """Split text into word-sized stream chunks that join back to the text."""
    return re.findall(r"\s*\S+|\s+$", text) or [""]


def sse(*payloads: Any, event_names: tuple[str, ...] = ()) -> list[str]:
    """Server-Sent Events chunks: one `data:` JSON line each (with `event:` when named)."""
    chunks = []
    for index, payload in enumerate(payloads):
        data = payload if isinstance(payload, str) else json.dumps(payload)
        name = event_names[index] if index < len(event_names) else ""
        chunks.append((f"event: {name}\n" if name else "") + f"data: {data}\n\n")
    return chunks


class FakeOpenAIServer(FakeServer):
    """`/v1/completions`, and `/v1/chat/completions` with `stream: true` as SSE."""

    def __init__(self, *, api_key: str = "") -> None:
        super().__init__()
        self.api_key = api_key
        self.completion_texts = ["return a + b"]
        self.chat_text = "Here is the function."
        # How a streamed chat answer is cut into events; a test may cut it anywhere.
        self.split: Callable[[str], list[str]] = pieces
        self.finish_reason = "stop"

    def answer(self, request: RecordedRequest) -> Reply:
        if self.api_key and request.headers.get("authorization") != f"Bearer {self.api_key}":
            return Reply(
                status=401,
                json={"error": {"message": "Incorrect API key provided", "type": "invalid"}},
            )
        body = request.json or {}
        if request.path == "/v1/completions":
            return self._completion(body)
        if request.path == "/v1/chat/completions":
            return self._chat(body)
        return Reply(status=404, json={"error": {"message": "Not found"}})

    def _completion(self, body: dict[str, Any]) -> Reply:
        count = int(body.get("n") or 1)
        choices = [
            {
                "index": index,
                "text": self.completion_texts[index % len(self.completion_texts)],
                "finish_reason": self.finish_reason,
                "logprobs": None,
            }
            for index in range(count)
        ]
        return Reply(
            json={
                "id": "cmpl-1",
                "object": "text_completion",
                "model": body.get("model"),
                "choices": choices,
                "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
            }
        )

    def _chat(self, body: dict[str, Any]) -> Reply:
        if body.get("stream"):
            events: list[dict[str, Any]] = [
                {"choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}}]}
            ]
            events += [
                {"choices": [{"index": 0, "delta": {"content": piece}}]}
                for piece in self.split(self.chat_text)
            ]
            events.append({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
            return Reply(chunks=[*sse(*events), "data: [DONE]\n\n"])
        return Reply(
            json={
                "id": "chatcmpl-1",
                "object": "chat.completion",
                "model": body.get("model"),
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": self.chat_text},
                        "finish_reason": self.finish_reason,
                    }
                ],
            }
        )


class FakeAnthropicServer(FakeServer):
    """`/v1/messages`, with `stream: true` as Anthropic's named SSE events."""

    def __init__(self, *, api_key: str = "") -> None:
        super().__init__()
        self.api_key = api_key
        self.text = "def add(a, b):\n    return a + b"
        self.stop_reason = "end_turn"

    def answer(self, request: RecordedRequest) -> Reply:
        if request.path != "/v1/messages":
            return _anthropic_error(404, "not_found_error", "Not found")
        if not request.headers.get("anthropic-version"):
            return _anthropic_error(400, "invalid_request_error", "anthropic-version missing")
        if self.api_key and request.headers.get("x-api-key") != self.api_key:
            return _anthropic_error(401, "authentication_error", "invalid x-api-key")
        body = request.json or {}
        if body.get("stream"):
            return Reply(chunks=self._events(body))
        return Reply(
            json={
                "id": "msg_1",
                "type": "message",
                "role": "assistant",
                "model": body.get("model"),
                "content": [{"type": "text", "text": self.text}],
                "stop_reason": self.stop_reason,
                "stop_sequence": None,
                "usage": {"input_tokens": 10, "output_tokens": 5},
            }
        )

    def _events(self, body: dict[str, Any]) -> list[str]:
        message = {"id": "msg_1", "type": "message", "role": "assistant", "content": []}
        events: list[tuple[str, dict[str, Any]]] = [
            ("message_start", {"type": "message_start", "message": message}),
            (
                "content_block_start",
                {
                    "type": "content_block_start",
                    "index": 0,
                    "content_block": {"type": "text", "text": ""},
                },
            ),
            ("ping", {"type": "ping"}),
        ]
        events += [
            (
                "content_block_delta",
                {
                    "type": "content_block_delta",
                    "index": 0,
                    "delta": {"type": "text_delta", "text": piece},
                },
            )
            for piece in pieces(self.text)
        ]
        events += [
            ("content_block_stop", {"type": "content_block_stop", "index": 0}),
            (
                "message_delta",
                {
                    "type": "message_delta",
                    "delta": {"stop_reason": self.stop_reason, "stop_sequence": None},
                    "usage": {"output_tokens": 5},
                },
            ),
            ("message_stop", {"type": "message_stop"}),
        ]
        return sse(*(e for _, e in events), event_names=tuple(n for n, _ in events))


def _anthropic_error(status: int, kind: str, message: str) -> Reply:
    return Reply(status=status, json={"type": "error", "error": {"type": kind, "message": message}})


VERTEX_PATH = re.compile(
    r"^/v1/projects/(?P<project>[^/]+)/locations/(?P<location>[^/]+)"
    r"/publishers/google/models/(?P<model>[^/:]+):(?P<method>\w+)$"
)


class FakeVertexServer(FakeServer):
    """Vertex AI REST: code-gecko `:predict`, Gemini `:generateContent`/`:streamGenerateContent`
    (the latter as Google's streamed JSON array, what the SDK reads without `alt=sse`)."""

    def __init__(self) -> None:
        super().__init__()
        self.contents = ["    return a + b"]
        self.blocked: set[int] = set()  # indexes of predictions to mark blocked
        self.output_tokens: int | None = None  # metadata outputTokenCount; None: ~1 per word
        self.chat_text = "Here is the function."
        self.finish_reason = "STOP"

    def answer(self, request: RecordedRequest) -> Reply:
        match = VERTEX_PATH.match(request.path)
        if match is None or request.method != "POST":
            return google_error(404, "NOT_FOUND", "Requested entity was not found.")
        body = request.json or {}
        method = match["method"]
        if method == "predict":
            return self._predict(body)
        if method == "generateContent":
            return Reply(json=gemini_response(self.chat_text, self.finish_reason))
        if method == "streamGenerateContent":
            texts = pieces(self.chat_text)
            # As Gemini does, only the last chunk has a finish reason.
            responses = [gemini_response(text) for text in texts[:-1]]
            responses.append(gemini_response(texts[-1], self.finish_reason))
            return Reply(
                chunks=json_array(*responses), headers={"Content-Type": "application/json"}
            )
        return google_error(404, "NOT_FOUND", f"Method {method} not found.")

    def _predict(self, body: dict[str, Any]) -> Reply:
        instances = body.get("instances") or []
        if not instances or "prefix" not in instances[0]:
            return google_error(400, "INVALID_ARGUMENT", "prefix is required")
        parameters = body.get("parameters") or {}
        count = int(parameters.get("candidateCount", 1))
        predictions = []
        for index in range(count):
            content = self.contents[index % len(self.contents)]
            blocked = index in self.blocked
            safety: dict[str, Any] = {"blocked": blocked, "categories": [], "scores": []}
            if blocked:
                safety["errors"] = [253]
            predictions.append(
                {
                    "content": "" if blocked else content,
                    "score": -1.5 - index,
                    "safetyAttributes": safety,
                    "citationMetadata": {"citations": []},
                }
            )
        output_tokens = self.output_tokens
        if output_tokens is None:
            output_tokens = sum(len(p["content"].split()) for p in predictions)
        return Reply(
            json={
                "predictions": predictions,
                "metadata": {
                    "tokenMetadata": {
                        "inputTokenCount": {"totalTokens": 12, "totalBillableCharacters": 40},
                        "outputTokenCount": {
                            "totalTokens": output_tokens,
                            "totalBillableCharacters": 30,
                        },
                    }
                },
            }
        )


def gemini_response(text: str, finish_reason: str | None = None) -> dict[str, Any]:
    candidate: dict[str, Any] = {
        "content": {"role": "model", "parts": [{"text": text}]},
        "index": 0,
    }
    if finish_reason:
        candidate["finishReason"] = finish_reason
    return {
        "candidates": [candidate],
        "usageMetadata": {"promptTokenCount": 8, "candidatesTokenCount": 5},
        "modelVersion": "gemini-2.5-flash",
    }


def json_array(*values: Any) -> list[str]:
    """Chunks of Google's streamed JSON array (what the Vertex SDK reads without `alt=sse`)."""
    parts = [json.dumps(value) for value in values]
    return ["[" + parts[0], *(",\r\n" + part for part in parts[1:]), "]"]


def google_error(status: int, code: str, message: str) -> Reply:
    return Reply(
        status=status, json={"error": {"code": status, "message": message, "status": code}}
    )


def closed_port_url() -> str:
    """A URL on which nothing listens: connecting is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture(scope="module")
def model_server() -> Iterator[FakeOpenAIServer]:
    """An OpenAI-compatible model server for a whole module whose tests start the service or a
    worker once (they reset it between tests)."""
    with FakeOpenAIServer() as server:
        yield server


@pytest.fixture
def openai_server() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer() as server:
        yield server


@pytest.fixture
def anthropic_server() -> Iterator[FakeAnthropicServer]:
    with FakeAnthropicServer() as server:
        yield server


@pytest.fixture
def vertex_server() -> Iterator[FakeVertexServer]:
    with FakeVertexServer() as server:
        yield server


@pytest.fixture
def refused_url() -> str:
    return closed_port_url()
