"""Vertex AI: code-gecko through the low-level PredictionServiceClient, Gemini for chat.

The REST transport is used everywhere, not gRPC: it runs on `requests`, which gevent workers
cooperate with, it lets a test point VERTEX_API_ENDPOINT at `http://127.0.0.1:PORT`, and its
connection-pool size can be raised like every other provider's.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import requests
from requests.adapters import HTTPAdapter

from .base import (
    POOL_MAXSIZE,
    TRANSIENT_STATUSES,
    BaseProvider,
    Candidate,
    ChatRequest,
    CompletionRequest,
    ProviderConfig,
    ProviderError,
    ProviderTimeout,
    RetryableError,
    is_timeout,
    retry_after_seconds,
    stop_sequences,
    with_retries,
)

if TYPE_CHECKING:
    from google.cloud.aiplatform_v1 import PredictionServiceClient

T = TypeVar("T")

DEFAULT_MODEL = "code-gecko@002"
# Chat and generation go to Gemini; a code-gecko model name cannot chat.
DEFAULT_CHAT_MODEL = "gemini-2.5-flash"
# code-gecko's stop token (docs/pipeline.md#fim-templates), dropped for multi-line completions.
CODE_GECKO_STOP = ("\n\n",)


@dataclass(frozen=True)
class VertexOptions:
    project: str = ""
    location: str = "us-central1"
    # The API's host, or a URL (a test server's); the location's Google host when empty.
    endpoint: str = ""


class VertexProvider(BaseProvider):
    default_model = DEFAULT_MODEL
    follows_instructions = True

    def __init__(self, config: ProviderConfig) -> None:
        super().__init__(config)
        self.options: VertexOptions = config.options or VertexOptions()
        self.model = self.model_for(config.model, chat=False)
        self.chat_model = self.model_for(config.model, chat=True)
        self._lock = threading.Lock()
        self._client_instance: PredictionServiceClient | None = None

    @classmethod
    def model_for(cls, model: str, *, chat: bool) -> str:
        # Chat and generations need a Gemini model; code-gecko only completes.
        if chat:
            return model if _is_gemini(model) else DEFAULT_CHAT_MODEL
        return model or DEFAULT_MODEL

    @classmethod
    def options_from(cls, settings: Any) -> VertexOptions:
        return VertexOptions(
            project=settings.VERTEX_PROJECT,
            location=settings.VERTEX_LOCATION,
            endpoint=settings.VERTEX_API_ENDPOINT,
        )

    def complete(self, request: CompletionRequest) -> list[Candidate]:
        from google.protobuf import json_format

        endpoint = self._model_path(self.model)
        instance = {"prefix": request.prefix, "suffix": request.suffix}
        parameters = predict_parameters(request)
        # The flattened arguments, as the SDK's own Endpoint.predict uses them: the client turns
        # the plain dicts into protobuf Values.
        response = self._call(
            lambda: self._client().predict(
                endpoint=endpoint,
                instances=[instance],
                parameters=parameters,
                timeout=self.config.timeout,
            )
        )
        data = json_format.MessageToDict(type(response).pb(response))
        return parse_predictions(data, max_tokens=request.max_tokens)

    def chat(self, request: ChatRequest) -> Candidate:
        pb_request = self._generate_request(request)
        response = self._call(
            lambda: self._client().generate_content(request=pb_request, timeout=self.config.timeout)
        )
        if not response.candidates:
            raise self._error("blocked the prompt")
        return _gemini_candidate(response.candidates[0])

    def stream_chat(self, request: ChatRequest) -> Generator[str]:
        pb_request = self._generate_request(request)
        stream = self._call(
            lambda: self._client().stream_generate_content(
                request=pb_request, timeout=self.config.timeout
            )
        )
        chunks = iter(stream)
        finished = False
        try:
            while True:
                try:
                    chunk = next(chunks)
                except StopIteration:
                    break
                except Exception as exc:  # the SDK's stream parser raises plain ValueError too
                    raise self._translate(exc, mid_stream=True) from None
                # The SDK drops the fields it does not know: a chunk of the wrong shape is empty.
                if not chunk:
                    raise self._error("sent an unexpected stream event")
                if not chunk.candidates and chunk.prompt_feedback.block_reason:
                    raise self._error("blocked the prompt")
                for candidate in chunk.candidates[:1]:
                    text = "".join(part.text for part in candidate.content.parts)
                    if text:
                        yield text
                    # Only the last chunk has a finish reason.
                    finished = finished or bool(candidate.finish_reason)
            if not finished:
                raise self._error("broke off the stream")
        finally:
            # ResponseIterator.cancel() closes the upstream HTTP response.
            getattr(stream, "cancel", lambda: None)()

    def _generate_request(self, request: ChatRequest) -> Any:
        from google.cloud.aiplatform_v1.types import (
            Content,
            GenerateContentRequest,
            GenerationConfig,
            Part,
        )

        messages = request.messages
        system = "\n\n".join(m.content for m in messages if m.role == "system")
        contents = [
            Content(role="model" if m.role == "assistant" else "user", parts=[Part(text=m.content)])
            for m in messages
            if m.role != "system"
        ]
        return GenerateContentRequest(
            model=self._model_path(self.chat_model),
            contents=contents,
            system_instruction=Content(parts=[Part(text=system)]) if system else None,
            generation_config=GenerationConfig(
                max_output_tokens=request.max_tokens, temperature=request.temperature
            ),
        )

    def _model_path(self, model: str) -> str:
        if not self.options.project:
            raise ProviderError("Vertex AI is not configured: VERTEX_PROJECT is empty")
        return (
            f"projects/{self.options.project}/locations/{self.options.location}"
            f"/publishers/google/models/{model}"
        )

    def _client(self) -> PredictionServiceClient:
        # Built on first use: importing the SDK takes seconds and finding credentials may touch
        # the disk or the metadata server; neither belongs at import or registry time.
        with self._lock:
            if self._client_instance is None:
                self._client_instance = self._build_client()
            return self._client_instance

    def _build_client(self) -> PredictionServiceClient:
        from google.cloud.aiplatform_v1 import PredictionServiceClient

        endpoint = self.options.endpoint or f"{self.options.location}-aiplatform.googleapis.com"
        try:
            client = PredictionServiceClient(
                credentials=self._credentials(endpoint),
                transport="rest",
                # The REST transport keeps an explicit http:// scheme (a local test server)
                # and adds https:// otherwise.
                client_options={"api_endpoint": endpoint},
            )
        except Exception as exc:
            raise self._translate(exc) from None
        session = getattr(client.transport, "_session", None)
        if isinstance(session, requests.Session):
            adapter = HTTPAdapter(pool_maxsize=POOL_MAXSIZE, max_retries=0)
            session.mount("https://", adapter)
            session.mount("http://", adapter)
        return client

    def _credentials(self, endpoint: str) -> Any:
        """A static token when a key is set, nothing for a plain-HTTP test server, else ADC."""
        if self.config.api_key:
            from google.oauth2.credentials import Credentials

            return Credentials(token=self.config.api_key)
        if endpoint.startswith("http://"):
            from google.auth.credentials import AnonymousCredentials

            return AnonymousCredentials()
        return None  # the client finds Application Default Credentials

    def _call(self, call: Callable[[], T]) -> T:
        def attempt() -> T:
            try:
                return call()
            except ProviderError:
                raise
            except Exception as exc:
                raise self._translate(exc) from None

        return with_retries(
            attempt, retries=self.config.max_retries, backoff=self.config.retry_backoff
        )

    def _error(self, message: str) -> ProviderError:
        return ProviderError(f"The vertex model server {message}")

    def _translate(self, exc: Exception, *, mid_stream: bool = False) -> Exception:
        """A safe ProviderError (or a RetryableError wrapping one) for an SDK failure.

        The SDK's own messages contain the request URL, so they are never passed on.
        """
        from google.api_core import exceptions as api_exceptions
        from google.auth import exceptions as auth_exceptions
        from google.protobuf.json_format import ParseError

        if isinstance(exc, api_exceptions.DeadlineExceeded) or is_timeout(exc):
            return ProviderTimeout(
                f"The vertex model server timed out after {self.config.timeout:g}s"
            )
        if isinstance(exc, requests.ConnectionError | requests.exceptions.ChunkedEncodingError):
            error = self._error("broke off the stream" if mid_stream else "could not be reached")
            return error if mid_stream else RetryableError(error)
        if isinstance(exc, api_exceptions.GoogleAPICallError) and exc.code:
            error = self._error(f"answered {int(exc.code)}")
            if int(exc.code) in TRANSIENT_STATUSES and not mid_stream:
                headers = getattr(exc.response, "headers", None) or {}
                return RetryableError(error, retry_after_seconds(headers.get("Retry-After")))
            return error
        if isinstance(exc, auth_exceptions.GoogleAuthError):
            return self._error("could not authenticate: check the Vertex AI credentials")
        if isinstance(exc, ParseError | ValueError):
            return self._error("sent a response that is not valid")
        if isinstance(exc, api_exceptions.GoogleAPIError | requests.RequestException):
            return self._error("could not be called")
        return exc


def predict_parameters(request: CompletionRequest) -> dict[str, Any]:
    """Every code-gecko parameter (docs/api.md#predict) that the request sets."""
    stops = stop_sequences(request.stop, () if request.multiline else CODE_GECKO_STOP)
    optional = {
        "stopSequences": stops or None,
        "logprobs": request.logprobs,
        "presencePenalty": request.presence_penalty,
        "frequencyPenalty": request.frequency_penalty,
        "echo": True if request.echo else None,
        "seed": request.seed,
    }
    return {
        "temperature": request.temperature,
        "maxOutputTokens": request.max_tokens,
        "candidateCount": request.candidates,
        **{key: value for key, value in optional.items() if value is not None},
    }


def parse_predictions(data: dict[str, Any], *, max_tokens: int) -> list[Candidate]:
    """Candidates from a predict response; a blocked prediction is no suggestion.

    code-gecko reports no finish reason. A candidate is "length" when its own token count
    (from `logprobs.tokens`, when logprobs were asked for) reached `maxOutputTokens`, or else
    when the response's output token total reached `maxOutputTokens` for every prediction
    (for one candidate: exactly when it hit the limit).
    """
    predictions = [p for p in data.get("predictions") or () if isinstance(p, dict)]
    token_metadata = (data.get("metadata") or {}).get("tokenMetadata") or {}
    total = (token_metadata.get("outputTokenCount") or {}).get("totalTokens")
    all_hit_limit = (
        total is not None and bool(predictions) and total >= max_tokens * len(predictions)
    )
    candidates = []
    for prediction in predictions:
        safety = prediction.get("safetyAttributes") or {}
        if safety.get("blocked"):
            continue
        tokens = (prediction.get("logprobs") or {}).get("tokens")
        hit_limit = len(tokens) >= max_tokens if tokens else all_hit_limit
        candidates.append(
            Candidate(
                text=str(prediction.get("content") or ""),
                finish_reason="length" if hit_limit else "stop",
                score=prediction.get("score"),
                safety_attributes=safety,
                citation_metadata=prediction.get("citationMetadata") or {},
            )
        )
    return candidates


def _gemini_candidate(candidate: Any) -> Candidate:
    from google.cloud.aiplatform_v1.types import Candidate as GeminiCandidate

    text = "".join(part.text for part in candidate.content.parts)
    hit_limit = candidate.finish_reason == GeminiCandidate.FinishReason.MAX_TOKENS
    return Candidate(text=text, finish_reason="length" if hit_limit else "stop")


def _is_gemini(model: str) -> bool:
    return model.startswith("gemini")
