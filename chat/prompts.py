"""What the model is given: a system prompt, the resource and additional context, the history and
the question, all within the model's context window.

Tokens are counted as completions count them (codesuggest/providers/token_count.py). When the
budget is short, history goes first (oldest first), then additional context is cut; the system
prompt and the question always stay.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from codesuggest.providers import ChatMessage
from codesuggest.providers.token_count import CHARS_PER_TOKEN, count_tokens

SYSTEM_PROMPT = """\
You are GitLab Duo Chat, an AI assistant for software developers, answering questions about \
code, programming languages, frameworks, Git and GitLab.
Answer accurately and concisely. Use Markdown; put code in fenced code blocks with the language \
named. When you are not sure, say so rather than guess. Use the resource and context the user \
shared when they are relevant, and refer to them by name."""

# A window most chat models exceed; a smaller self-hosted model still gets a coherent prompt.
CONTEXT_WINDOW_TOKENS = 16_000
ANSWER_TOKENS = 2_048
TRUNCATED = "\n[… truncated]"
# The `source` in an additional-context item's metadata that marks the text the user has
# selected in their editor (GitLab's chat sends it apart, as `currentFile`).
CURRENT_FILE = "current_file"
SELECTION_NOTE = (
    'A context marked selected="true" is the text the user has selected in their editor.'
)


@dataclass(frozen=True)
class Exchange:
    question: str
    answer: str


def build_messages(
    *,
    question: str,
    resource_description: str,
    additional_context: Sequence[dict[str, Any]],
    history: Sequence[Exchange],
    context_window: int = CONTEXT_WINDOW_TOKENS,
    answer_tokens: int = ANSWER_TOKENS,
) -> list[ChatMessage]:
    """The messages for the model. The resource and the additional context go in the system
    message, so that the last user message is the question itself (what the local engine
    answers)."""
    budget = context_window - answer_tokens
    budget -= count_tokens(SYSTEM_PROMPT) + count_tokens(question)
    system = [SYSTEM_PROMPT]
    if resource_description:
        system.append(f"The user is currently looking at {resource_description}.")
        budget -= count_tokens(system[-1])
    if any(is_selection(item) for item in additional_context):
        system.append(SELECTION_NOTE)
        budget -= count_tokens(SELECTION_NOTE)
    for item in additional_context:
        if budget <= 0:
            break
        block = context_block(item, budget)
        system.append(block)
        budget -= count_tokens(block)
    kept: list[ChatMessage] = []
    for exchange in reversed(history):
        cost = count_tokens(exchange.question) + count_tokens(exchange.answer)
        if cost > budget:
            break  # and so everything older is dropped too
        kept[:0] = [
            ChatMessage("user", exchange.question),
            ChatMessage("assistant", exchange.answer),
        ]
        budget -= cost
    return [ChatMessage("system", "\n\n".join(system)), *kept, ChatMessage("user", question)]


def context_block(item: dict[str, Any], budget: int) -> str:
    """One additional-context item, cut to `budget` tokens when it does not fit."""
    selected = ' selected="true"' if is_selection(item) else ""
    head = f'<context category="{item["category"]}" id="{item["id"]}"{selected}>\n'
    tail = "\n</context>"
    room = (budget - count_tokens(head + tail + TRUNCATED)) * CHARS_PER_TOKEN
    content = item["content"]
    if len(content) > room:
        # At a line's end: a line cut in two may hold a secret's head, no longer like one.
        line_end = content.rfind("\n", 0, max(room, 0) + 1)
        content = content[: max(line_end, 0)] + TRUNCATED
    return head + content + tail


def is_selection(item: dict[str, Any]) -> bool:
    return (item.get("metadata") or {}).get("source") == CURRENT_FILE
