"""Decide whether a request asks to complete the current line or to generate new code."""

import re
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import chain, islice

from completions.languages import Language, comment_markers, comment_text, is_comment_line

COMPLETION = "completion"
GENERATION = "generation"
# What sets a generation off: GitLab's `generation_type`, sent by the client or found in the text.
COMMENT = "comment"
SMALL_FILE = "small_file"
EMPTY_FUNCTION = "empty_function"

# An instruction needs some words; `# TODO` or `// fix` is just a comment.
MIN_INSTRUCTION_CHARS = 10
# Below this many lines of code in the whole file (above and below the cursor, as GitLab 18.x
# counts) there is too little to complete, so write something new.
SMALL_FILE_CODE_LINES = 5

_PYTHON_DEF = re.compile(r"^\s*(async\s+)?def\s+\w+\s*\(.*\)\s*(->.*)?:\s*(#.*)?$")
_RUBY_DEF = re.compile(r"^\s*def\s+[\w.]+[?!=]?\s*(\(.*\))?\s*$")
# A declaration or a function literal: `func f() {`, `go func() {`, `handler := func() {`.
_GO_FUNC = re.compile(r"\bfunc\b.*\{\s*$")
_JS_FUNCTION = re.compile(
    r"(\bfunction\b\s*\*?\s*[\w$]*\s*(<.*>)?\s*\(.*\)[^{]*\{"  # function f() {
    r"|=>\s*\{"  # (a) => {
    r"|^\s*(async\s+|static\s+|get\s+|set\s+|public\s+|private\s+|protected\s+)*"
    r"[\w$]+\s*(<.*>)?\s*\(.*\)\s*(:\s*[^{]+)?\{)\s*$"  # method() {
)
# Languages that say what a function is (fn, fun, def, function), also as a value: PHP's
# `$square = function($n) {` or `usort($a, function($x, $y) {`.
_KEYWORD_FUNCTION = re.compile(
    r"^\s*([\w@<>\[\]().,\"'$= ]*[\s(=])?(fn|fun|def|function)\b"
    r"\s*(<.*?>)?\s*[\w$.]*\s*(<.*>|\[.*\])?\s*\(.*\)"
    r"[^{=;]*(\{|=|=\s*\{)\s*$"
)
# `type name(params) {`, as in Java, C#, C and C++ methods, but not `if (x) {` or `new T() {`.
_TYPED_METHOD = re.compile(r"^\s*([\w$<>\[\],.*&:?@]+\s+)+[*&]*[\w$~:.]+\s*\([^;]*\)[^;=]*\{\s*$")
# `return new T() {` is an object; `return func() {` is a function.
_CONTROL_KEYWORDS = re.compile(
    r"^\s*(\}\s*|return\s+)?(if|else|for|foreach|while|switch|catch|do|try|new)\b"
)

_OPENERS_BY_LANGUAGE: dict[str, tuple[re.Pattern[str], ...]] = {
    "python": (_PYTHON_DEF,),
    "starlark": (_PYTHON_DEF,),
    "ruby": (_RUBY_DEF,),
    "go": (_GO_FUNC,),
    "javascript": (_JS_FUNCTION,),
    "typescript": (_JS_FUNCTION,),
    "tsx": (_JS_FUNCTION,),
    "php": (_KEYWORD_FUNCTION,),
    "kotlin": (_KEYWORD_FUNCTION,),
    "scala": (_KEYWORD_FUNCTION,),
    "rust": (_KEYWORD_FUNCTION,),
    "java": (_TYPED_METHOD,),
    "csharp": (_TYPED_METHOD,),
    "c": (_TYPED_METHOD,),
    "cpp": (_TYPED_METHOD,),
}
# Languages whose blocks end by indentation or `end` rather than a closing brace.
_INDENTED_BLOCKS = {"python", "starlark"}
_CLOSES_BLOCK = re.compile(r"^\s*([)}\]]|end\b)")


@dataclass(frozen=True)
class Intent:
    kind: str  # COMPLETION or GENERATION
    # For a generation: COMMENT, SMALL_FILE or EMPTY_FUNCTION, which say what the model is to do.
    generation_type: str | None = None


def detect_intent(
    *,
    content_above_cursor: str,
    content_below_cursor: str,
    language: Language | None,
    intent: str | None = None,
    generation_type: str | None = None,
    user_instruction: str | None = None,
) -> Intent:
    """A completion or a generation, by GitLab's rules: what the client asked, else the text."""
    if intent == COMPLETION:
        return Intent(COMPLETION)
    if intent == GENERATION or generation_type or user_instruction:
        # A generation asked for without a type follows the comment above the cursor (GitLab).
        return Intent(GENERATION, generation_type or COMMENT)
    found = _generation_type_in_text(content_above_cursor, content_below_cursor, language)
    return Intent(GENERATION, found) if found else Intent(COMPLETION)


def _generation_type_in_text(above: str, below: str, language: Language | None) -> str | None:
    markers = comment_markers(language)
    if _ends_with_instruction(above, markers):
        return COMMENT
    if _is_small_file(above, below, markers):
        return SMALL_FILE
    if language and _inside_empty_function(above, below, language):
        return EMPTY_FUNCTION
    return None


def _lines_from_bottom(text: str) -> Iterator[str]:
    """The lines of `text` from the last up, without reading the whole of a large file."""
    end = len(text)
    if text.endswith("\n"):
        # The newline ends the last line; it does not start an empty one (like Ruby's `lines`).
        end -= 1
    while end >= 0:
        start = text.rfind("\n", 0, end) + 1
        yield text[start:end].rstrip("\r")
        end = start - 1


def _lines_from_top(text: str) -> Iterator[str]:
    """The lines of `text` from the first down, without splitting the whole of a large file."""
    start = 0
    while start < len(text):
        end = text.find("\n", start)
        if end == -1:
            end = len(text)
        yield text[start:end].rstrip("\r")
        start = end + 1


def _ends_with_instruction(content_above_cursor: str, markers: tuple[str, ...]) -> bool:
    """A block of single-line comments right above the cursor whose first line says something."""
    if not markers or not content_above_cursor:
        return False
    comment_block: list[str] = []
    skipped_blank = False
    for line in _lines_from_bottom(content_above_cursor):
        if not line.strip() and not skipped_blank and not comment_block:
            skipped_blank = True
            continue
        if not is_comment_line(line, markers):
            break
        comment_block.append(line)
    if not comment_block:
        return False
    first_line = comment_block[-1]
    return len(comment_text(first_line, markers)) >= MIN_INSTRUCTION_CHARS


def _is_small_file(above: str, below: str, markers: tuple[str, ...]) -> bool:
    """Fewer than SMALL_FILE_CODE_LINES lines of code, reading no more lines than it takes."""
    lines = chain(_lines_from_bottom(above), _lines_from_top(below))
    code_lines = (line for line in lines if line.strip() and not is_comment_line(line, markers))
    return sum(1 for _ in islice(code_lines, SMALL_FILE_CODE_LINES)) < SMALL_FILE_CODE_LINES


def _inside_empty_function(above: str, below: str, language: Language) -> bool:
    """The last line above the cursor opens a function and nothing is in it yet."""
    openers = _OPENERS_BY_LANGUAGE.get(language.id)
    if not openers:
        return False
    opening_line = _last_code_line(above)
    if opening_line is None or not _opens_function(opening_line, openers):
        return False
    next_line = _first_code_line(below)
    if next_line is None or _CLOSES_BLOCK.match(next_line):
        return True
    if _opens_function(next_line, openers):
        return True
    # In Python the body is empty when the next line is no deeper than the `def` itself.
    return language.id in _INDENTED_BLOCKS and _indent(next_line) <= _indent(opening_line)


def _opens_function(line: str, openers: tuple[re.Pattern[str], ...]) -> bool:
    if _CONTROL_KEYWORDS.match(line):
        return False
    return any(opener.search(line) for opener in openers)


def _last_code_line(text: str) -> str | None:
    """The last non-blank line, joined with the one before when it is a lone `{` (Allman)."""
    lines = (line for line in _lines_from_bottom(text) if line.strip())
    last = next(lines, None)
    if last is not None and last.strip() == "{":
        previous = next(lines, None)
        return f"{previous.rstrip()} {{" if previous is not None else last
    return last


def _first_code_line(text: str) -> str | None:
    """The first non-blank line of the next 20, joined with the next when that is a lone `{`
    (Allman, as when a C# method follows an empty one)."""
    lines = (line for line in islice(_lines_from_top(text), 20) if line.strip())
    first = next(lines, None)
    if first is not None and next(lines, "").strip() == "{":
        return f"{first.rstrip()} {{"
    return first


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())
