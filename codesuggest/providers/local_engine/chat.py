"""Extractive answers: the passages most relevant to a question, ranked with BM25."""

import math
import re
from collections import Counter
from collections.abc import Sequence

NO_MODEL_NOTE = (
    "No chat model is configured, so here are the passages of the project's code and the "
    "given documents that best match the question."
)
NOTHING_FOUND = "Nothing in the indexed code or the given documents matches the question."
WINDOW_LINES = 12
WINDOW_STEP = 6
PASSAGES = 5
_K1 = 1.2
_B = 0.75
_WORD = re.compile(r"[A-Za-z][a-z]+|[A-Z]+(?![a-z])|\d+")
# Words too common in questions to say anything about the code.
_STOP_WORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "can",
        "do",
        "does",
        "for",
        "from",
        "how",
        "i",
        "in",
        "is",
        "it",
        "of",
        "on",
        "or",
        "the",
        "this",
        "to",
        "what",
        "when",
        "where",
        "which",
        "who",
        "why",
        "with",
        "you",
        "your",
        "my",
        "me",
        "we",
        "our",
    ]
)


def terms(text: str) -> list[str]:
    """Lower-cased words; identifiers are split at underscores and camel case."""
    return [w.lower() for w in _WORD.findall(text) if w.lower() not in _STOP_WORDS]


def answer(question: str, documents: Sequence[tuple[str, str]]) -> str:
    query = set(terms(question))
    windows = [w for name, content in documents for w in _windows(name, content)]
    ranked = _bm25(query, [Counter(terms(text)) for _, _, _, text in windows])
    chosen: list[int] = []
    for score, index in ranked:
        if score <= 0 or len(chosen) == PASSAGES:
            break
        if not any(_overlaps(windows[index], windows[c]) for c in chosen):
            chosen.append(index)
    if not chosen:
        return f"{NO_MODEL_NOTE}\n\n{NOTHING_FOUND}"
    passages = []
    for index in chosen:
        name, first, last, text = windows[index]
        passages.append(f"{name}:{first}-{last}\n```\n{text.rstrip()}\n```")
    return "\n\n".join([NO_MODEL_NOTE, *passages])


def _windows(name: str, content: str) -> list[tuple[str, int, int, str]]:
    """Overlapping windows of lines as (name, first line, last line, text), lines from 1."""
    lines = content.splitlines()
    windows = []
    for start in range(0, max(len(lines) - WINDOW_STEP, 1), WINDOW_STEP):
        chunk = lines[start : start + WINDOW_LINES]
        if any(line.strip() for line in chunk):
            windows.append((name, start + 1, start + len(chunk), "\n".join(chunk)))
    return windows


def _overlaps(a: tuple[str, int, int, str], b: tuple[str, int, int, str]) -> bool:
    return a[0] == b[0] and a[1] <= b[2] and b[1] <= a[2]


def _bm25(query: set[str], bags: list[Counter[str]]) -> list[tuple[float, int]]:
    if not bags or not query:
        return []
    average = sum(sum(b.values()) for b in bags) / len(bags) or 1.0
    frequency = Counter(t for b in bags for t in query if t in b)
    idf = {t: math.log(1 + (len(bags) - n + 0.5) / (n + 0.5)) for t, n in frequency.items()}
    scores = []
    for index, bag in enumerate(bags):
        length = sum(bag.values())
        score = 0.0
        for t, weight in idf.items():
            tf = bag.get(t, 0)
            if tf:
                score += weight * tf * (_K1 + 1) / (tf + _K1 * (1 - _B + _B * length / average))
        scores.append((score, index))
    return sorted(scores, key=lambda s: (-s[0], s[1]))
