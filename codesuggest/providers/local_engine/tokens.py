"""Turning source text into the token streams the n-gram models count.

Tokens come from Pygments. Whitespace is folded into the tokens so that the model predicts layout
too: a line break becomes one token holding the newline(s) and the next line's indentation, and a
token preceded by spaces on its line carries a single leading space. Contexts are hashed without
that leading space (see `token_key`), so `x = foo` and `(foo` share their statistics about `foo`.
"""

import functools
import hashlib
import itertools
import re
from collections.abc import Iterable

from pygments.lexer import Lexer
from pygments.lexers import get_lexer_by_name
from pygments.token import String, _TokenType
from pygments.util import ClassNotFound

MASK = (1 << 64) - 1
# Odd 64-bit multiplier for the polynomial context hash; the table builder uses the same one.
HASH_MULTIPLIER = 0x9E3779B97F4A7C15

# Tree-sitter-language-pack names whose Pygments lexer has another name.
_PYGMENTS_NAMES = {"csharp": "csharp", "tsx": "tsx", "bash": "bash", "objc": "objective-c"}
# A generic tokenizer for languages Pygments does not know (and for language "").
_GENERIC_TOKEN = re.compile(
    r"""\s+|[A-Za-z_$][\w$]*|\d[\w.]*|"(?:[^"\\\n]|\\.)*"?|'(?:[^'\\\n]|\\.)*'?"""
    r"""|//[^\n]*|\#[^\n]*|[-+*/%=<>!&|^~]=?|\S"""
)
# Where a file may be cut into independently lexed segments: after a blank line, or before a
# definition. Each match ends at the first non-blank character of the line that starts a segment,
# so a segment ends with its line break and the next line's indentation.
_SEGMENT_START = re.compile(
    r"\n[ \t]*\n\s*(?=\S)"
    r"|\n[ \t]*(?=(?:async[ \t]+)?def\b|class\b|function\b|func\b|fn\b|pub[ \t]+fn\b|export\b"
    r"|public\b|private\b|protected\b|@\w"
    # Compound statements too, so that segments stay small inside long functions.
    r"|(?:if|for|while|try|with|switch)\b)"
)
_CUT_EVERY = 8
# The start of the next non-blank line, after its indentation.
_LINE_START = re.compile(r"\n\s*(?=\S)")
# Quotes that open strings spanning lines, per language; a segment holds an even number of them.
_PYTHON_QUOTES = ('"""', "'''")
_MULTILINE_QUOTES = {
    "python": _PYTHON_QUOTES,
    "javascript": ("`",),
    "typescript": ("`",),
    "tsx": ("`",),
    "go": ("`",),
    "java": ('"""',),
    "kotlin": ('"""',),
    "scala": ('"""',),
    "swift": ('"""',),
}


@functools.cache
def multiline_quotes(language: str) -> re.Pattern[str]:
    """The quotes that open strings spanning lines in a language (Python's when unknown)."""
    quotes = _MULTILINE_QUOTES.get(language, _PYTHON_QUOTES)
    return re.compile("|".join(re.escape(q) for q in quotes))


@functools.cache
def lexer_for(language: str) -> Lexer | None:
    """The Pygments lexer of a tree-sitter language name, or None to use the generic one."""
    if not language:
        return None
    try:
        return get_lexer_by_name(_PYGMENTS_NAMES.get(language, language))
    except ClassNotFound:
        return None


def tokenize(text: str, language: str) -> list[str]:
    """The tokens of `text` (spaces at its very end, attached to no token, are dropped)."""
    lexer = lexer_for(language)
    if lexer is None:
        pieces: Iterable[tuple[_TokenType | None, str]] = (
            (None, m.group()) for m in _GENERIC_TOKEN.finditer(text)
        )
    else:
        pieces = ((ttype, value) for _, ttype, value in lexer.get_tokens_unprocessed(text))
    return _fold_whitespace(pieces)


def _fold_whitespace(pieces: Iterable[tuple[_TokenType | None, str]]) -> list[str]:
    tokens: list[str] = []
    pending = ""  # whitespace seen since the last token
    last_was_string = False
    for ttype, raw in pieces:
        value = raw.strip()
        if not value:
            pending += raw
            continue
        pending += raw[: len(raw) - len(raw.lstrip())]
        is_string = ttype is not None and ttype in String
        if is_string and last_was_string and not pending:
            # Pygments splits literals into quote, body and affix tokens; one literal is one token.
            tokens[-1] += value
        else:
            if "\n" in pending:
                tokens.append(_line_break(pending))
                pending = ""
            tokens.append((" " if pending else "") + value)
        last_was_string = is_string
        pending = raw[len(raw.rstrip()) :]
    if "\n" in pending:
        tokens.append(_line_break(pending))
    return tokens


def _line_break(whitespace: str) -> str:
    newlines = "\n\n" if whitespace.count("\n") > 1 else "\n"
    return newlines + whitespace.rsplit("\n", 1)[1]


def is_line_break(token: str) -> bool:
    return token.startswith("\n")


def context_form(token: str) -> str:
    """The token without its leading space: what contexts are made of."""
    return token[1:] if token.startswith(" ") else token


@functools.lru_cache(maxsize=1 << 18)
def token_key(token: str) -> int:
    """A stable 64-bit key of a token's context form (the same in every process)."""
    data = context_form(token).encode("utf-8", "surrogatepass")
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "little")


def context_hashes(keys: list[int], max_order: int) -> list[int]:
    """Hashes of the contexts of length 0..max_order ending at the end of `keys`."""
    hashes = [0]
    h = 0
    for j in range(1, min(max_order, len(keys)) + 1):
        h = (h * HASH_MULTIPLIER + keys[-j]) & MASK
        hashes.append(h)
    return hashes


def segment_starts(
    text: str, quotes: re.Pattern[str], begin: int = 0, end: int | None = None, odd: bool = False
) -> list[int]:
    """Offsets in text[begin:end] where segments start, outside multi-line strings.

    `odd` says whether a multi-line string is open at `begin`. Cuts depend only on nearby text,
    so an edit changes the segments around it and no others.
    """
    end = len(text) if end is None else end
    found = [m.start() for m in quotes.finditer(text, begin, end)]
    starts = []
    index = 0
    previous = begin
    for match in _LINE_START.finditer(text, begin, end):
        start = match.end()
        while index < len(found) and found[index] < start:
            odd = not odd
            index += 1
        # Besides the natural cuts, a cut after lines of some lengths keeps long runs of
        # statements in small segments; it depends on that line alone, so it is stable.
        if not odd and (
            _SEGMENT_START.match(text, match.start(), end) is not None
            or (match.start() - previous) % _CUT_EVERY == 0
        ):
            starts.append(start)
        previous = start
    return starts


def line_starts(
    text: str, quotes: re.Pattern[str], odd: bool = False, ignore_strings: bool = False
) -> list[int]:
    """Where the lines of text start (after their indentation), outside multi-line strings."""
    if ignore_strings:
        return [match.end() for match in _LINE_START.finditer(text)]
    starts = []
    previous = 0
    for match in _LINE_START.finditer(text):
        odd ^= len(quotes.findall(text, previous, match.end())) % 2 == 1
        previous = match.end()
        if not odd:
            starts.append(match.end())
    return starts


def opens_string(
    text: str, quotes: re.Pattern[str], begin: int = 0, end: int | None = None
) -> bool:
    """Whether text[begin:end] leaves a multi-line string open (when none was open at begin)."""
    return len(quotes.findall(text, begin, len(text) if end is None else end)) % 2 == 1


def quote_count(text: str, language: str) -> int:
    """How many multi-line string quotes the text holds (str.count is much faster than a regex)."""
    return sum(text.count(q) for q in _MULTILINE_QUOTES.get(language, _PYTHON_QUOTES))


def cut(text: str, starts: list[int]) -> list[str]:
    """The pieces of text between consecutive starts (and before the first, after the last)."""
    bounds = [0, *starts, len(text)]
    return [text[a:b] for a, b in itertools.pairwise(bounds) if b > a]
