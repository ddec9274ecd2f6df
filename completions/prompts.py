"""Fit the text around the cursor into a model's prompt (docs/pipeline.md#prompt)."""

import re
from collections.abc import Sequence
from dataclasses import dataclass

from codesuggest.providers import redact_text
from codesuggest.providers.token_count import CHARS_PER_TOKEN, count_tokens
from completions.intent import COMMENT, EMPTY_FUNCTION, SMALL_FILE
from completions.languages import TOP_LEVEL_LINE, Language, comment_markers

PREFIX_SHARE = 0.93
# A half-cut block is only looked for at the start of what is left.
HALF_CUT_BLOCK_SEARCH_SHARE = 0.10
# The file header and separators that `context_preamble` adds around each item.
CONTEXT_ITEM_OVERHEAD_TOKENS = 8


ContextItem = tuple[str, str]


@dataclass(frozen=True)
class BudgetedPrompt:
    prefix: str
    suffix: str
    context: tuple[ContextItem, ...]


def budget_prompt(
    *,
    prefix: str,
    suffix: str,
    context: Sequence[ContextItem],
    max_prompt_tokens: int,
    context_share: float = 0.25,
) -> BudgetedPrompt:
    """The parts of the prompt that fit in `max_prompt_tokens`.

    Context items come first, within `context_share` of the budget (or all the room the code
    leaves, when the code is small). Of the rest, the prefix gets about 93 % and the suffix 7 %.
    """
    code_tokens = count_tokens(prefix) + count_tokens(suffix)
    context_budget = max(int(max_prompt_tokens * context_share), max_prompt_tokens - code_tokens)
    kept_context = _fit_context(context, context_budget)
    code_budget = max_prompt_tokens - sum(_context_item_tokens(item) for item in kept_context)
    kept_suffix = _keep_start(suffix, int(code_budget * (1 - PREFIX_SHARE)))
    kept_prefix = _keep_end(prefix, code_budget - count_tokens(kept_suffix))
    return BudgetedPrompt(prefix=kept_prefix, suffix=kept_suffix, context=kept_context)


def with_secrets_masked(prompt: BudgetedPrompt, file_name: str) -> BudgetedPrompt:
    """The prompt's parts with their secrets masked, each as its own file's type says: a bare
    `password: x` is one in YAML and `.env` files, not in code. The provider is sent them masked
    again (codesuggest/providers/redaction.py), but as one text under the current file's name,
    and a generation's as a chat, under none."""
    return BudgetedPrompt(
        prefix=redact_text(prompt.prefix, file_name=file_name),
        suffix=redact_text(prompt.suffix, file_name=file_name),
        context=tuple((name, redact_text(text, file_name=name)) for name, text in prompt.context),
    )


def _context_item_tokens(item: ContextItem) -> int:
    name, content = item
    return count_tokens(name) + count_tokens(content) + CONTEXT_ITEM_OVERHEAD_TOKENS


def _fit_context(context: Sequence[ContextItem], budget: int) -> tuple[ContextItem, ...]:
    """The items that fit whole, in their order; a half file would mislead more than help."""
    kept = []
    for item in context:
        tokens = _context_item_tokens(item)
        if tokens <= budget:
            kept.append(item)
            budget -= tokens
    return tuple(kept)


def _keep_end(prefix: str, budget: int) -> str:
    """The end of the prefix, nearest the cursor, starting with a whole line and, when one is
    near, without a half-cut block at its start."""
    max_chars = max(budget, 0) * CHARS_PER_TOKEN
    if len(prefix) <= max_chars:
        return prefix
    kept = prefix[len(prefix) - max_chars :] if max_chars else ""
    search_end = int(len(kept) * HALF_CUT_BLOCK_SEARCH_SHARE)
    # From 1: the first line of what is kept may be a line's tail, and never counts.
    block_start = TOP_LEVEL_LINE.search(kept, 1, search_end)
    if block_start:
        return kept[block_start.start() :]
    # Never a line's tail: a secret cut in two no longer looks like one, and its tail would
    # reach the model unmasked (codesuggest/providers/redaction.py).
    if prefix[len(prefix) - max_chars - 1] == "\n":
        return kept
    return kept[kept.find("\n") + 1 :] if "\n" in kept else kept


def _keep_start(suffix: str, budget: int) -> str:
    """The start of the suffix, nearest the cursor, ending with a whole line: nothing when its
    first line alone is longer than the budget (as for the prefix, a line's head would carry
    the start of a secret that no longer looks like one)."""
    max_chars = max(budget, 0) * CHARS_PER_TOKEN
    if len(suffix) <= max_chars:
        return suffix
    kept = suffix[:max_chars]
    return kept[: kept.rfind("\n") + 1]


def context_preamble(context: Sequence[ContextItem], language: Language | None) -> str:
    """The context items as the model expects other files: each under a comment naming it."""
    markers = comment_markers(language)
    marker = markers[0] if markers else "#"
    return "".join(f"{marker} Path: {name}\n{content.rstrip()}\n\n" for name, content in context)


_GENERATION_SYSTEM = (
    "You are a code generator inside a code editor. You write {language}code that goes at the "
    "cursor of the file the user is editing. Answer only with the code to insert: no "
    "explanations, no Markdown code fences, and no repetition of the code around the cursor. "
    "Match the file's style and indentation."
)
# What GitLab asks of the model for each generation type, in our words.
INSTRUCTIONS_BY_GENERATION_TYPE = {
    COMMENT: (
        "The comment right above the cursor is the instruction; other comments are not. "
        "Write the code that it asks for."
    ),
    SMALL_FILE: (
        "Write more new code for this file. If the cursor is in an empty function, write the "
        "body that the function's name and signature most likely call for."
    ),
    EMPTY_FUNCTION: (
        "Fill in the empty function with the body that its name and signature call for. "
        "Do not repeat the code around it: answer with the function's body only."
    ),
}


def generation_messages(
    *,
    prefix: str,
    suffix: str,
    file_name: str,
    language: Language | None,
    user_instruction: str | None,
    generation_type: str | None,
    context: Sequence[ContextItem],
) -> tuple[str, str]:
    """The (system, user) prompt asking an instruct or chat model to write code at the cursor."""
    language_name = f"{language.name} " if language else ""
    system = _GENERATION_SYSTEM.format(language=language_name)
    # Without a type, GitLab takes the comment above the cursor for the instruction.
    task = user_instruction or INSTRUCTIONS_BY_GENERATION_TYPE[generation_type or COMMENT]
    parts = []
    if context:
        parts.append(f"Other files of the project, for reference:\n{_fenced(_joined(context))}")
    parts.append(f"The file `{file_name}`, with the cursor at <cursor>:")
    parts.append(_fenced(f"{prefix}<cursor>{suffix}"))
    parts.append(task)
    return system, "\n\n".join(parts)


def _joined(context: Sequence[ContextItem]) -> str:
    return "\n".join(f"--- {name}\n{content.rstrip()}" for name, content in context)


def _fenced(text: str) -> str:
    """`text` in a Markdown fence longer than any run of backticks inside it."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}\n{text}\n{fence}"
