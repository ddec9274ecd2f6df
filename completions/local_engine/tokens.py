"""Turning source text into the token streams the n-gram models count.

Tokens come from Pygments. Whitespace is folded into the tokens so that the model predicts layout
too: a line break becomes one token holding the newline(s) and the next line's indentation, and a
token preceded by spaces on its line carries a single leading space. Contexts are hashed without
that leading space (see `token_key`), so `x = foo` and `(foo` share their statistics about `foo`.
"""

import functools
import hashlib
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
    r"\n[ \t]*\n[ \t]*(?=\S)"
    r"|\n[ \t]*(?=(?:async[ \t]+)?def\b|class\b|function\b|func\b|fn\b|pub[ \t]+fn\b|export\b"
    r"|public\b|private\b|protected\b|@\w)"
)
# Quotes that open strings spanning lines; a segment must hold an even number of them.
_MULTILINE_QUOTES = re.compile(r'"""|\'\'\'|`')


@functools.cache
def lexer_for(language: str) -> Lexer | None:
    """The Pygments lexer of a tree-sitter language name, or None to use the generic one."""
    if not language:
        return None
    try:
        return get_lexer_by_name(_PYGMENTS_NAMES.get(language, language))
    except ClassNotFound:
        return None


def tokenize(text: str, language: str) -> tuple[list[str], bool]:
    """Tokens of `text`, and whether it ends with spaces not yet attached to a token."""
    lexer = lexer_for(language)
    if lexer is None:
        pieces: Iterable[tuple[_TokenType | None, str]] = (
            (None, m.group()) for m in _GENERIC_TOKEN.finditer(text)
        )
    else:
        pieces = ((ttype, value) for _, ttype, value in lexer.get_tokens_unprocessed(text))
    return _fold_whitespace(pieces)


def _fold_whitespace(pieces: Iterable[tuple[_TokenType | None, str]]) -> tuple[list[str], bool]:
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
        pending = ""
    return tokens, bool(pending)


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


def split_segments(text: str) -> list[str]:
    """Cut text into pieces that can be lexed on their own and cached by their content.

    Cuts depend only on nearby text, so an edit changes the segments around it and no others.
    """
    segments: list[str] = []
    start = 0
    for match in _SEGMENT_START.finditer(text):
        end = match.end()
        piece = text[start:end]
        if len(_MULTILINE_QUOTES.findall(piece)) % 2:
            continue  # inside a multi-line string: keep going
        segments.append(piece)
        start = end
    if start < len(text):
        segments.append(text[start:])
    return segments
