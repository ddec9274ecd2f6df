"""The built-in engine: no network, no model weights (the embedded default)."""

from __future__ import annotations

import pathlib
import threading
from collections.abc import Generator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .base import (
    BaseProvider,
    Candidate,
    ChatRequest,
    CompletionRequest,
    ProviderConfig,
)

if TYPE_CHECKING:
    from .local_engine import LocalEngine


@dataclass(frozen=True)
class LocalOptions:
    data_dir: str = ""
    # None lets the engine use the threshold its benchmark chose.
    min_confidence: float | None = None


class LocalProvider(BaseProvider):
    default_model = "local-ngram"
    follows_instructions = False
    # Nothing leaves the process, and the engine reads the whole file (up to 400,000 characters)
    # at every keystroke, where masking its secrets would cost up to 20 ms (bench/redaction.py).
    keeps_text_in_process = True

    def __init__(self, config: ProviderConfig) -> None:
        super().__init__(config)
        self.options: LocalOptions = config.options or LocalOptions()
        self._lock = threading.Lock()
        self._engine: LocalEngine | None = None

    @classmethod
    def options_from(cls, settings: Any) -> LocalOptions:
        return LocalOptions(
            data_dir=str(settings.LOCAL_ENGINE_DIR),
            min_confidence=settings.LOCAL_ENGINE_MIN_CONFIDENCE,
        )

    @classmethod
    def context_window(cls, model: str) -> int:
        # The engine reads whole files (up to the 400,000-character limit) and caches their
        # tokens; cutting the prefix would move its start at every keystroke and defeat that cache.
        return 1_000_000

    def complete(self, request: CompletionRequest) -> list[Candidate]:
        suggestions = self._local_engine().complete(
            prefix=request.prefix[request.context_chars :],
            other_files=request.prefix[: request.context_chars],
            suffix=request.suffix,
            language=request.language,
            project_key=request.project_key,
            max_tokens=request.max_tokens,
            temperature=request.temperature,
            stop=request.stop,
            multiline=request.multiline,
            candidates=request.candidates,
            seed=request.seed,
            min_confidence=self.options.min_confidence,
        )
        return [
            Candidate(text=s.text, finish_reason=s.finish_reason, score=s.confidence)
            for s in suggestions
        ]

    def chat(self, request: ChatRequest) -> Candidate:
        question = next((m.content for m in reversed(request.messages) if m.role == "user"), "")
        answer = self._local_engine().answer_question(
            question=question,
            project_key=request.references.project_key,
            documents=request.references.documents,
            excluded=request.references.excluded,
        )
        return Candidate(text=answer)

    def stream_chat(self, request: ChatRequest) -> Generator[str]:
        answer = self.chat(request).text
        if answer:
            yield answer

    def _local_engine(self) -> LocalEngine:
        # Imported on first use: numpy and pygments take a fifth of a second to import, which
        # processes serving a remote model never need to pay.
        with self._lock:
            if self._engine is None:
                from .local_engine import LocalEngine

                self._engine = LocalEngine(pathlib.Path(self.options.data_dir))
            return self._engine
