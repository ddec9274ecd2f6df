"""From an editor's request to clean suggestions: intent, language, prompt, provider, clean-up."""

import re
import time
from collections.abc import Generator, Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass, field, replace
from typing import Any

from codesuggest.providers import (
    Candidate,
    ChatMessage,
    ChatRequest,
    CompletionRequest,
    Provider,
    ProviderConfig,
    context_window,
    masks_secrets,
    model_name,
    provider_for,
)
from completions.intent import detect_intent
from completions.languages import Language, detect_language
from completions.postprocessing import (
    postprocess_completion,
    postprocess_generation,
    stream_generation,
)
from completions.prompts import (
    budget_prompt,
    context_preamble,
    generation_messages,
    with_secrets_masked,
)
from projects import retrieval
from projects.exclusions import NOTHING_EXCLUDED, ContextExclusions
from projects.features import provider_config

COMPLETION_MAX_TOKENS = 64
GENERATION_MAX_TOKENS = 1024
# A completion may run past the current line only when the cursor opens a block.
_OPENS_BLOCK = re.compile(r"(:|\{|\(|\[|=>|\bdo|\bthen)\s*$")


@dataclass(frozen=True)
class SuggestionRequest:
    file_name: str
    content_above_cursor: str
    content_below_cursor: str = ""
    intent: str | None = None
    generation_type: str | None = None
    user_instruction: str | None = None
    context: tuple[tuple[str, str], ...] = ()
    choices_count: int = 1
    project_key: str | None = None
    # The named project's: its excluded files get no suggestion and are left out of the context.
    exclusions: ContextExclusions = NOTHING_EXCLUDED

    @property
    def file_excluded(self) -> bool:
        return self.exclusions.excludes(self.file_name)

    @property
    def context_to_send(self) -> tuple[tuple[str, str], ...]:
        return tuple(item for item in self.context if not self.exclusions.excludes(item[0]))

    def retrieved_context(self) -> tuple[tuple[str, str], ...]:
        """The snippets of the project's other files most like the code above the cursor, as
        context items; none for a project without an index or for an excluded file."""
        if self.file_excluded:
            return ()
        snippets = retrieval.snippets_like(
            project_key=self.project_key,
            code=self.content_above_cursor,
            leave_out=self._not_to_retrieve,
        )
        return retrieval.as_context(snippets)

    def _not_to_retrieve(self, path: str) -> bool:
        """This file, those the editor sent already and the excluded ones."""
        return (
            retrieval.is_named(path, self.file_name)
            or any(retrieval.is_named(path, name) for name, _ in self.context)
            or self.exclusions.excludes(path)
        )


@dataclass(frozen=True)
class Choice:
    text: str
    finish_reason: str


@dataclass
class Suggestions:
    intent: str
    language: Language | None
    config: ProviderConfig
    model_name: str
    prompt_chars: int
    choices: list[Choice] = field(default_factory=list)
    # Time spent waiting for the model (for a stream, for its first chunk).
    upstream_ms: int | None = None

    @property
    def model(self) -> dict[str, str]:
        return {
            "engine": self.config.provider,
            "name": self.model_name,
            "lang": self.language.name if self.language else "",
        }


@dataclass
class _Plan:
    """What one request turns into before any model is called."""

    request: SuggestionRequest
    language: Language | None
    intent: str
    config: ProviderConfig
    provider: Provider
    completion: CompletionRequest
    # The instruction for a generation by a model that follows instructions; otherwise the
    # code is continued with `completion`, as for a completion.
    generation: ChatRequest | None

    def suggestions(self) -> Suggestions:
        prompt_chars = len(self.completion.prefix) + len(self.completion.suffix)
        return Suggestions(
            intent=self.intent,
            language=self.language,
            config=self.config,
            model_name=model_name(self.config, chat=self.generation is not None),
            prompt_chars=prompt_chars,
        )


def _plan(request: SuggestionRequest) -> _Plan:
    language = detect_language(request.file_name)
    detected = detect_intent(
        content_above_cursor=request.content_above_cursor,
        content_below_cursor=request.content_below_cursor,
        language=language,
        intent=request.intent,
        generation_type=request.generation_type,
        user_instruction=request.user_instruction,
    )
    generating = detected.kind == "generation"
    config = provider_config("generations" if generating else "completions")
    provider = provider_for(config)
    # A generation by a model that follows instructions is a chat, which some providers serve
    # with another model than their completions.
    instructed = generating and provider.follows_instructions
    max_tokens = GENERATION_MAX_TOKENS if generating else COMPLETION_MAX_TOKENS
    budget = budget_prompt(
        prefix=request.content_above_cursor,
        suffix=request.content_below_cursor,
        # The editor's items first: they are what the user chose, and have the budget first.
        context=request.context_to_send + request.retrieved_context(),
        max_prompt_tokens=max(256, context_window(config, chat=instructed) - max_tokens),
    )
    if masks_secrets(config):
        budget = with_secrets_masked(budget, request.file_name)
    # Open files and snippets read to the model as files above this one.
    preamble = context_preamble(budget.context, language)
    completion = CompletionRequest(
        prefix=preamble + budget.prefix,
        suffix=budget.suffix,
        file_name=request.file_name,
        language=language.id if language else "",
        project_key=request.project_key,
        context_chars=len(preamble),
        max_tokens=max_tokens,
        # One choice is the model's best guess; several must differ to be worth showing.
        temperature=0.0 if request.choices_count == 1 else 0.4,
        candidates=request.choices_count,
        multiline=generating or bool(_OPENS_BLOCK.search(budget.prefix[-200:])),
    )
    generation: ChatRequest | None = None
    if instructed:
        system, user = generation_messages(
            prefix=budget.prefix,
            suffix=budget.suffix,
            file_name=request.file_name,
            language=language,
            user_instruction=request.user_instruction,
            generation_type=detected.generation_type,
            context=budget.context,
        )
        generation = ChatRequest(
            (ChatMessage("system", system), ChatMessage("user", user)), max_tokens=max_tokens
        )
    return _Plan(
        request=request,
        language=language,
        intent=detected.kind,
        config=config,
        provider=provider,
        completion=completion,
        generation=generation,
    )


def suggest(request: SuggestionRequest) -> Suggestions:
    """Suggestions for the cursor position, cleaned; none when nothing good is available."""
    return _suggest(_plan(request))


def _suggest(plan: _Plan) -> Suggestions:
    request = plan.request
    result = plan.suggestions()
    if request.file_excluded:
        result.prompt_chars = 0  # nothing was sent
        return result
    started = time.perf_counter()
    if plan.generation is not None:
        candidate = plan.provider.chat(plan.generation)
        result.upstream_ms = _ms_since(started)
        text = postprocess_generation(
            prefix=request.content_above_cursor, suggestion=candidate.text, language=plan.language
        )
        result.choices = [Choice(text, candidate.finish_reason)] if text else []
        return result
    candidates = plan.provider.complete(plan.completion)
    result.upstream_ms = _ms_since(started)
    for candidate in candidates:
        text = postprocess_completion(
            prefix=request.content_above_cursor,
            suffix=request.content_below_cursor,
            suggestion=candidate.text,
            language=plan.language,
            hit_token_limit=candidate.finish_reason == "length",
        )
        if text:
            result.choices.append(Choice(text, _finish_reason(candidate, text)))
    return result


def _ms_since(started: float) -> int:
    return round((time.perf_counter() - started) * 1000)


def _finish_reason(candidate: Candidate, text: str) -> str:
    """'length' only when the token limit is still what ends the text the client gets: when
    post-processing cut it at a block or line end, the cut, not the limit, ended it."""
    if candidate.finish_reason != "length":
        return "stop"
    return "length" if candidate.text.rstrip() == text.rstrip() else "stop"


def stream_suggestion(request: SuggestionRequest) -> tuple[Suggestions, Generator[str]]:
    """The suggestion as chunks, as the model produces them.

    A completion is short: it is produced whole and cleaned like any other, then sent as one
    chunk. A generation streams as it is written, cleaned on the way (stream_generation).
    The first chunk is fetched here, so that a provider failing before it is an error response.
    Iterating the chunks raises ProviderError when the provider fails after it. Closing them
    closes the upstream request.
    """
    plan = _plan(request)
    if plan.generation is None or request.file_excluded:
        suggestions = _suggest(plan)
        return suggestions, (choice.text for choice in suggestions.choices[:1])
    result = plan.suggestions()
    chunks = stream_generation(
        prefix=request.content_above_cursor,
        chunks=plan.provider.stream_chat(plan.generation),
        language=plan.language,
    )
    started = time.perf_counter()
    first = next(chunks, None)
    result.upstream_ms = _ms_since(started)
    return result, _prepend(first, chunks)


def _prepend(first: str | None, rest: Generator[str]) -> Generator[str]:
    with closing(rest):
        if first:
            yield first
        yield from rest


# Vertex AI's predict ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Predictions:
    candidates: list[Candidate]
    config: ProviderConfig
    model_name: str
    upstream_ms: int


def predict(*, instances: Sequence[tuple[str, str]], parameters: Mapping[str, Any]) -> Predictions:
    """Vertex AI's code-model predict, answered by the completions provider: each instance's
    candidates in turn, leaving out those the provider blocked. With `echo`, a candidate's text
    starts with the prefix it completes."""
    config = provider_config("completions")
    provider = provider_for(config)
    echo = parameters.get("echo", False)
    started = time.perf_counter()
    candidates = []
    for prefix, suffix in instances:
        for candidate in provider.complete(_predict_request(prefix, suffix, parameters)):
            if not candidate.safety_attributes.get("blocked"):
                candidates.append(
                    replace(candidate, text=prefix + candidate.text) if echo else candidate
                )
    upstream_ms = round((time.perf_counter() - started) * 1000)
    return Predictions(candidates, config, model_name(config), upstream_ms)


def _predict_request(prefix: str, suffix: str, parameters: Mapping[str, Any]) -> CompletionRequest:
    return CompletionRequest(
        prefix=prefix,
        suffix=suffix,
        max_tokens=parameters.get("maxOutputTokens", 64),
        temperature=parameters.get("temperature", 0.2),
        candidates=parameters.get("candidateCount", 1),
        stop=parameters.get("stopSequences", ()),
        seed=parameters.get("seed"),
        logprobs=parameters.get("logprobs"),
        presence_penalty=parameters.get("presencePenalty"),
        frequency_penalty=parameters.get("frequencyPenalty"),
        echo=parameters.get("echo", False),
    )
