"""The provider interface: request/response types, errors, and the shared HTTP client.

Nothing here imports Django: configuration arrives as a `ProviderConfig`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

import requests
import urllib3
from urllib3.exceptions import ReadTimeoutError

T = TypeVar("T")

# Statuses worth a second try: the server is overloaded or restarting.
TRANSIENT_STATUSES = frozenset({429, 500, 502, 503, 504})
# A completion is interactive: a server asking us to wait longer than this is treated as down.
MAX_RETRY_AFTER = 2.0
# Gunicorn's gevent workers keep hundreds of upstream calls in flight through one session.
POOL_MAXSIZE = 256
# The Server-Sent Events lines other than `event:` and `data:` that a stream may hold: a
# comment (a keep-alive) and the fields we have no use for.
SSE_OTHER_LINES = (":", "id:", "retry:")
# Context windows (tokens) by model family, whichever provider serves the model (an
# OpenAI-compatible proxy serves Claude too); the first family found in the model's name wins.
CONTEXT_WINDOWS = (
    ("code-gecko", 2048),
    ("codestral", 32_768),
    ("qwen", 32_768),
    ("codegemma", 8192),
    ("codellama", 16_384),
    ("starcoder", 8192),
    ("deepseek", 16_384),
    ("claude", 200_000),
    ("gemini", 1_000_000),
    ("gpt-4", 128_000),
)
DEFAULT_CONTEXT_WINDOW = 8192


class ProviderError(Exception):
    """The model provider failed. `str(exc)` is safe to show: no key, no URL with secrets."""

    status = 503
    # Whether the same request may succeed later (overload, restart, network trouble), so that
    # a queued job is worth retrying; not when the server refused the request itself or the
    # provider is not set up.
    transient = False


class ProviderTimeout(ProviderError):
    status = 504
    transient = True


@dataclass(frozen=True)
class ProviderConfig:
    """What a provider is built from: what any provider may read, and its own `options`."""

    provider: str
    model: str = ""
    base_url: str = ""
    api_key: str = field(default="", repr=False)
    timeout: float = 30.0
    fim_template: str = ""
    # Whether secrets are masked out of what the provider is sent (redaction.py).
    redact_secrets: bool = True
    # The provider's own options, built by its `options_from` from the settings (None: their
    # defaults); a frozen dataclass, as `provider_for` keys its instances by the whole config.
    options: Any = None
    # Transient failures (connection refused, 429, 5xx) are retried this many times,
    # waiting retry_backoff * 2**attempt seconds (or a short Retry-After) in between.
    max_retries: int = 2
    retry_backoff: float = 0.25


@dataclass(frozen=True)
class CompletionRequest:
    prefix: str
    suffix: str
    file_name: str = ""
    language: str = ""
    project_key: str | None = None
    # How many characters at the start of prefix are other files' code (the context items above
    # the file), for a provider that reads them apart, as the local engine does.
    context_chars: int = 0
    max_tokens: int = 64
    temperature: float = 0.2
    top_p: float | None = None
    top_k: int | None = None
    candidates: int = 1
    stop: tuple[str, ...] = ()
    multiline: bool = False
    seed: int | None = None
    logprobs: int | None = None
    presence_penalty: float | None = None
    frequency_penalty: float | None = None
    echo: bool = False


@dataclass(frozen=True)
class Candidate:
    text: str
    finish_reason: str = "stop"
    score: float | None = None
    safety_attributes: dict = field(default_factory=dict)
    citation_metadata: dict = field(default_factory=dict)


@dataclass(frozen=True)
class References:
    """What a chat question is about: the project whose indexed code may answer it, and the
    documents the user attached. Models read them in the prompt already; a provider that answers
    by retrieval rather than generation (the local engine) reads them from here."""

    project_key: str | None = None
    documents: tuple[tuple[str, str], ...] = ()
    # The project's files never to read (its context exclusion rules, as they are now: its index
    # may be older than a rule).
    excluded: Callable[[str], bool] = lambda path: False


@dataclass(frozen=True)
class ChatMessage:
    role: str
    content: str


@dataclass(frozen=True)
class ChatRequest:
    messages: tuple[ChatMessage, ...]
    max_tokens: int
    temperature: float = 0.2
    references: References = References()


class Provider(Protocol):
    # The model used when the configuration names none (as the API reports it).
    default_model: str
    # Whether `chat` follows instructions; code generation falls back to `complete` otherwise.
    follows_instructions: bool

    def complete(self, request: CompletionRequest) -> list[Candidate]: ...

    def chat(self, request: ChatRequest) -> Candidate: ...

    def stream_chat(self, request: ChatRequest) -> Generator[str]:
        """The answer's text as it is generated. Raises ProviderError when the stream is not
        the provider's protocol or ends before the provider's end-of-answer marker, so that a
        broken model server is never an empty or cut answer. Closing it closes the upstream."""
        ...


class BaseProvider(Provider):
    """A provider class as the registry knows it: built from a config, reading its own options
    from the settings, and saying how much its models read at once."""

    # Whether what the provider is sent stays in this process (the local engine): masking its
    # secrets (redaction.py) would then protect nothing.
    keeps_text_in_process = False

    def __init__(self, config: ProviderConfig) -> None:
        self.config = config

    @classmethod
    def options_from(cls, settings: Any) -> Any:
        """This provider's options (`ProviderConfig.options`), read from Django's settings, which
        are passed in: nothing here imports Django. None: it has no options of its own."""
        return None

    @classmethod
    def model_for(cls, model: str, *, chat: bool) -> str:
        """The model a call goes to when the configuration names `model` (empty: none): a
        completion's, or with `chat` a chat's or an instructed generation's, which some
        providers serve with another model."""
        return model or cls.default_model

    @classmethod
    def context_window(cls, model: str) -> int:
        """The tokens `model` reads at once, prompt and answer together."""
        name = model.lower()
        return next(
            (size for family, size in CONTEXT_WINDOWS if family in name), DEFAULT_CONTEXT_WINDOW
        )


class RetryableError(Exception):
    """Raised by one attempt when trying again may succeed; carries the error to raise if not."""

    def __init__(self, error: ProviderError, retry_after: float | None = None) -> None:
        super().__init__(str(error))
        self.error = error
        self.retry_after = retry_after


def with_retries(attempt: Callable[[], T], *, retries: int, backoff: float) -> T:
    """Run `attempt`, retrying it on `RetryableError` at most `retries` times."""
    for number in range(retries + 1):
        try:
            return attempt()
        except RetryableError as exc:
            wait = exc.retry_after if exc.retry_after is not None else backoff * 2**number
            if number == retries or wait > MAX_RETRY_AFTER:
                exc.error.transient = True
                raise exc.error from None
            time.sleep(wait)
    raise AssertionError("unreachable")


def retry_after_seconds(value: str | None) -> float | None:
    """Seconds from a Retry-After header; None when absent or an HTTP date (not worth parsing)."""
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None


def stop_sequences(*groups: Sequence[str]) -> list[str]:
    """Merge stop sequences, dropping duplicates and keeping the first occurrence's order."""
    return list(dict.fromkeys(stop for group in groups for stop in group if stop))


class HttpClient:
    """JSON over HTTP for one provider instance: one connection pool, timeouts, safe errors.

    urllib3 directly rather than requests: at hundreds of requests in flight, requests' own
    per-call work (preparing the request, merging settings and hooks) was a profiled 6-8 % of a
    completion's CPU, and none of it is needed for one JSON POST.
    """

    def __init__(self, config: ProviderConfig, default_headers: dict[str, str]) -> None:
        self.name = config.provider
        self.timeout = config.timeout
        self.retries = config.max_retries
        self.backoff = config.retry_backoff
        self.headers = {"Content-Type": "application/json", **default_headers}
        # Retries are ours (they must not retry a timed-out completion); urllib3's stay off.
        options: dict[str, Any] = {"num_pools": 4, "maxsize": POOL_MAXSIZE, "retries": False}
        # The proxy settings of the environment, read once for the provider's server.
        proxy = next(iter(requests.utils.get_environ_proxies(config.base_url or "").values()), None)
        self.pool: urllib3.PoolManager = (
            urllib3.ProxyManager(proxy, **options) if proxy else urllib3.PoolManager(**options)
        )

    def error(self, message: str) -> ProviderError:
        return ProviderError(f"The {self.name} model server {message}")

    def timeout_error(self) -> ProviderTimeout:
        return ProviderTimeout(f"The {self.name} model server timed out after {self.timeout:g}s")

    def post_json(self, url: str, body: dict[str, Any]) -> dict[str, Any]:
        response = self._post(url, body, stream=False)
        try:
            data = json.loads(response.data)
        except ValueError:
            raise self.error("sent a response that is not JSON") from None
        if not isinstance(data, dict):
            raise self.error("sent an unexpected response")
        return data

    def stream_sse(self, url: str, body: dict[str, Any]) -> Generator[tuple[str, str]]:
        """Yield (event, data) pairs of a Server-Sent Events response.

        A generator: closing it closes the upstream response, so an abandoned stream frees
        the model server at once.
        """
        response = self._post(url, body, stream=True)
        finished = False
        try:
            yield from self._sse_events(response)
            finished = True
        except urllib3.exceptions.TimeoutError:
            raise self.timeout_error() from None
        except urllib3.exceptions.HTTPError:
            raise self.error("broke off the stream") from None
        finally:
            # A fully read body gives its connection back to the pool; a stream the caller
            # stopped early has its connection closed, which stops the model server.
            if finished:
                response.release_conn()
            else:
                response.close()

    def _sse_events(self, response: urllib3.BaseHTTPResponse) -> Iterator[tuple[str, str]]:
        event, data = "", list[str]()
        for line in _lines(response):
            if not line:
                if data:
                    yield event or "message", "\n".join(data)
                event, data = "", list[str]()
            elif line.startswith("event:"):
                event = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].removeprefix(" "))
            elif not line.startswith(SSE_OTHER_LINES):
                # An HTML error page from a proxy, or a whole JSON body from a server that ignored
                # `stream`: skipping such lines would make it an empty answer.
                raise self.error("sent a stream that is not Server-Sent Events")
        if data:
            yield event or "message", "\n".join(data)

    def _post(self, url: str, body: dict[str, Any], *, stream: bool) -> urllib3.BaseHTTPResponse:
        payload = json.dumps(body).encode()

        def attempt() -> urllib3.BaseHTTPResponse:
            try:
                response = self.pool.request(
                    "POST",
                    url,
                    body=payload,
                    headers=self.headers,
                    timeout=self.timeout,
                    preload_content=not stream,
                )
            except urllib3.exceptions.NewConnectionError:
                # Refused or unreachable: the server may be restarting.
                raise RetryableError(self.error("could not be reached")) from None
            except urllib3.exceptions.TimeoutError:
                # A timeout is not retried: the caller's latency budget is already spent.
                raise self.timeout_error() from None
            except urllib3.exceptions.ProtocolError:
                raise RetryableError(self.error("could not be reached")) from None
            except (urllib3.exceptions.HTTPError, ValueError):
                raise self.error("could not be called") from None
            if response.status < 400:
                return response
            response.close()
            error = self.error(f"answered {response.status}")
            if response.status in TRANSIENT_STATUSES:
                retry_after = retry_after_seconds(response.headers.get("Retry-After"))
                raise RetryableError(error, retry_after)
            raise error

        return with_retries(attempt, retries=self.retries, backoff=self.backoff)


def _lines(response: urllib3.BaseHTTPResponse) -> Iterator[str]:
    """The lines of a streamed body as they arrive, without their line endings."""
    pending = b""
    # read1 returns what has arrived, where read would wait for a full buffer of it.
    for chunk in iter(lambda: response.read1(4096), b""):
        pending += chunk
        *complete, pending = pending.split(b"\n")
        for line in complete:
            yield line.rstrip(b"\r").decode("utf-8", errors="replace")
    if pending:
        yield pending.rstrip(b"\r").decode("utf-8", errors="replace")


def is_timeout(exc: BaseException) -> bool:
    """True for a timeout, including one while reading a streamed body, which requests
    reports as a ConnectionError wrapping urllib3's ReadTimeoutError."""
    if isinstance(exc, requests.Timeout):
        return True
    return isinstance(exc, requests.ConnectionError) and any(
        isinstance(arg, ReadTimeoutError) for arg in exc.args
    )


def parse_json_event(client: HttpClient, data: str) -> dict[str, Any]:
    """Decode one SSE data payload, failing like any other bad answer."""
    try:
        value = json.loads(data)
    except ValueError:
        raise client.error("sent a stream event that is not JSON") from None
    if not isinstance(value, dict):
        raise client.error("sent an unexpected stream event")
    return value


def join_url(base_url: str, default: str, path: str) -> str:
    """`base_url` (or `default`) + `path`, whether or not the base already ends with `/v1`."""
    base = (base_url or default).rstrip("/").removesuffix("/v1")
    return f"{base}/v1/{path.lstrip('/')}"
