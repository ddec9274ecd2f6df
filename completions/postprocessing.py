"""Clean a model's suggestion before the client sees it (completions-pipeline.md §5).

The syntax steps parse only a window around the cursor, never the whole file: from the last
top-level line a few thousand characters above the cursor, through the suggestion, to a few
lines below it. Parsing costs time in proportion to the text parsed, so a 400,000-character
file costs the same as a small one. Two parses compared with each other use the same window,
so errors that the window's edges cause count the same on both sides and cancel out.
"""

import re
from dataclasses import dataclass
from functools import cache

from tree_sitter import Node, Parser, Tree
from tree_sitter_language_pack import get_parser

from completions.languages import Language, comment_markers, is_comment_line

# Enough text above the cursor to hold the function or class around it.
WINDOW_CHARS_ABOVE = 6000
# A few lines below the cursor show whether the suggestion fits what follows.
WINDOW_LINES_BELOW = 15
WINDOW_CHARS_BELOW = 2000
# Each candidate cut costs two parses; the right one is almost always among the first.
MAX_OVERLAP_CANDIDATES = 3
# A model can only echo what its prompt held: the end of the prefix, a few thousand tokens.
REFLECTION_SCAN_CHARS = 60_000
# Fewer repeated code lines than this are normal code, not the model echoing the file.
MIN_REFLECTED_CODE_LINES = 5

# A line that starts at column 0 and does not close a block starts something at the top level.
_TOP_LEVEL_LINE = re.compile(r"^(?=[^\s)\]}])", re.MULTILINE)
_FENCE = re.compile(r"^[ \t]*```[^\n]*\n?", re.MULTILINE)
# Grammars that parse their text only after an opening tag.
_PREAMBLES = {"php": "<?php\n"}


def postprocess_completion(
    *, prefix: str, suffix: str, suggestion: str, language: Language | None, hit_token_limit: bool
) -> str:
    """The suggestion after steps 1-6 of §5; "" means there is nothing to suggest."""
    parser = _parser(language.id) if language else None
    text = suggestion
    if parser and language:
        if _is_comment_only(parser, language, text):
            return ""
        window = _Window.around(parser, language, prefix, suffix)
        text = _trim_to_enclosing_block(window, text)
        text = _trim_overlap_with_suffix(window, suffix, text)
    model_stopped_here = text == suggestion
    text = _remove_model_reflection(prefix, text, comment_markers(language))
    if not text.strip():
        return ""
    if hit_token_limit and model_stopped_here:
        text = _drop_unfinished_line(text)
    return text


def postprocess_generation(*, prefix: str, suggestion: str, language: Language | None) -> str:
    """A generated block without Markdown around it, on its own line, without echoed lines."""
    text = _strip_markdown_fences(suggestion, language)
    text = _start_on_new_line(prefix, text)
    text = _remove_model_reflection(prefix, text, comment_markers(language))
    return text if text.strip() else ""


@cache
def _parser(grammar_id: str) -> Parser | None:
    try:
        return get_parser(grammar_id)  # type: ignore[arg-type]
    except LookupError:
        return None


@dataclass(frozen=True)
class _Window:
    """The text around the cursor that the syntax steps parse, with the suggestion in between."""

    parser: Parser
    above: str
    below: str

    @classmethod
    def around(cls, parser: Parser, language: Language, prefix: str, suffix: str) -> "_Window":
        above = _window_above(prefix)
        preamble = _PREAMBLES.get(language.id, "")
        if preamble and preamble.strip() not in above:
            above = preamble + above
        return cls(parser=parser, above=above, below=_window_below(suffix))

    @property
    def cursor_byte(self) -> int:
        return len(self.above.encode())

    def parse(self, suggestion: str, *, with_suffix: bool) -> Tree:
        below = self.below if with_suffix else ""
        return self.parser.parse((self.above + suggestion + below).encode())

    def syntax_errors(self, suggestion: str) -> int:
        return _count_errors(self.parse(suggestion, with_suffix=True).root_node)


def _window_above(prefix: str) -> str:
    start = max(0, len(prefix) - WINDOW_CHARS_ABOVE)
    if start:
        # Never start the window half-way through a line.
        start = prefix.find("\n", start) + 1 or len(prefix)
    top_level_starts = [m.start() for m in _TOP_LEVEL_LINE.finditer(prefix, start)]
    if top_level_starts:
        start = top_level_starts[-1]
    return prefix[start:]


def _window_below(suffix: str) -> str:
    head = suffix[:WINDOW_CHARS_BELOW]
    return "".join(head.splitlines(keepends=True)[:WINDOW_LINES_BELOW])


def _count_errors(root: Node) -> int:
    errors = 0
    pending = [root]
    while pending:
        node = pending.pop()
        if node.is_error or node.is_missing:
            errors += 1
        if node.has_error:
            pending.extend(node.children)
    return errors


def _is_comment_only(parser: Parser, language: Language, suggestion: str) -> bool:
    """Step 1: a suggestion of nothing but comments adds no code."""
    preamble = _PREAMBLES.get(language.id, "")
    root = parser.parse((preamble + suggestion).encode()).root_node
    preamble_end = len(preamble.encode())
    nodes = [child for child in root.children if child.start_byte >= preamble_end]
    return bool(nodes) and all("comment" in node.type for node in nodes)


def _trim_to_enclosing_block(window: _Window, suggestion: str) -> str:
    """Step 2: end the suggestion where the block it starts in ends."""
    first_char = len(suggestion) - len(suggestion.lstrip())
    if first_char == len(suggestion):
        return suggestion
    cursor = window.cursor_byte
    first_byte = cursor + len(suggestion[:first_char].encode())
    root = window.parse(suggestion, with_suffix=False).root_node
    node: Node | None = root.descendant_for_byte_range(first_byte, first_byte + 1)
    while node is not None and _last_row(node) == node.start_point.row:
        node = node.parent
    if node is None:
        return suggestion
    suggestion_bytes = suggestion.encode()
    cut = node.end_byte - cursor
    if cut <= 0 or cut >= len(suggestion_bytes):
        return suggestion
    return suggestion_bytes[:cut].decode(errors="ignore").rstrip("\n")


def _last_row(node: Node) -> int:
    """The last row with text of the node: some grammars end statements after their newline."""
    row, column = node.end_point
    return row - 1 if column == 0 and row > node.start_point.row else row


def _trim_overlap_with_suffix(window: _Window, suffix: str, suggestion: str) -> str:
    """Step 3: drop the end of the suggestion that repeats the line below the cursor.

    A cut is kept only when it does not add syntax errors to the code around the cursor.
    """
    suffix_line = _first_non_blank_line(suffix)
    if not suffix_line:
        return suggestion
    suffix_starts_new_line = "\n" in suffix[: suffix.find(suffix_line)]
    errors_without_suggestion: int | None = None
    for position in _line_end_occurrences(suggestion, suffix_line)[:MAX_OVERLAP_CANDIDATES]:
        cut = suggestion[:position]
        if suffix_starts_new_line:
            cut = cut.rstrip()
        if errors_without_suggestion is None:
            errors_without_suggestion = window.syntax_errors("")
        if window.syntax_errors(cut) <= errors_without_suggestion:
            return cut
    return suggestion


def _first_non_blank_line(text: str) -> str:
    for line in text[:WINDOW_CHARS_BELOW].splitlines():
        if line.strip():
            return line.strip()
    return ""


def _line_end_occurrences(text: str, line: str) -> list[int]:
    """Where `line` occurs in `text` followed by nothing but the end of a line."""
    positions = []
    position = text.find(line)
    while position != -1:
        rest_of_line = text[position + len(line) :].split("\n", 1)[0]
        if not rest_of_line.strip():
            positions.append(position)
        position = text.find(line, position + 1)
    return positions


def _remove_model_reflection(prefix: str, suggestion: str, markers: tuple[str, ...]) -> str:
    """Step 4: drop lines that echo the file above the cursor instead of adding to it.

    Models sometimes repeat a comment or a run of code they have just read. The first line is
    kept: it continues the line the cursor is on. Blank lines and indentation do not count.
    """
    lines = suggestion.split("\n")
    code = [(number, line.strip()) for number, line in enumerate(lines) if line.strip()]
    code = [(number, text) for number, text in code if number > 0]
    if not _could_reflect([text for _, text in code], markers):
        return suggestion
    seen = [line.strip() for line in prefix[-REFLECTION_SCAN_CHARS:].split("\n") if line.strip()]
    seen_lines = set(seen)
    runs = _runs_by_first_lines(seen)
    dropped: set[int] = set()
    position = 0
    while position < len(code):
        number, text = code[position]
        if is_comment_line(text, markers) and text in seen_lines:
            dropped.add(number)
            position += 1
            continue
        length = _longest_repeated_run([text for _, text in code[position:]], seen, runs)
        if length:
            last_number = code[position + length - 1][0]
            dropped.update(range(number, last_number + 1))
            position += length
            continue
        position += 1
    return "\n".join(line for number, line in enumerate(lines) if number not in dropped)


def _could_reflect(code_lines: list[str], markers: tuple[str, ...]) -> bool:
    """Whether there is enough to echo at all; most suggestions are too short to need a look."""
    return len(code_lines) >= MIN_REFLECTED_CODE_LINES or any(
        is_comment_line(line, markers) for line in code_lines
    )


def _runs_by_first_lines(seen: list[str]) -> dict[tuple[str, ...], list[int]]:
    """Where each group of MIN_REFLECTED_CODE_LINES consecutive code lines starts above."""
    runs: dict[tuple[str, ...], list[int]] = {}
    for start in range(len(seen) - MIN_REFLECTED_CODE_LINES + 1):
        runs.setdefault(tuple(seen[start : start + MIN_REFLECTED_CODE_LINES]), []).append(start)
    return runs


def _longest_repeated_run(
    code: list[str], seen: list[str], runs: dict[tuple[str, ...], list[int]]
) -> int:
    """How many of `code`'s first lines appear in the same order above, if at least enough."""
    longest = 0
    for seen_start in runs.get(tuple(code[:MIN_REFLECTED_CODE_LINES]), []):
        length = MIN_REFLECTED_CODE_LINES
        while (
            length < len(code)
            and seen_start + length < len(seen)
            and code[length] == seen[seen_start + length]
        ):
            length += 1
        longest = max(longest, length)
    return longest


def _drop_unfinished_line(suggestion: str) -> str:
    """Step 6: the model ran out of tokens mid-line; keep only whole lines, if any are code."""
    whole_lines = suggestion[: suggestion.rfind("\n")] if "\n" in suggestion else ""
    return whole_lines if whole_lines.strip() else suggestion


def _strip_markdown_fences(text: str, language: Language | None) -> str:
    """The code inside the first fenced block, or the text itself when there is none."""
    opening = _FENCE.search(text)
    if opening:
        closing = _FENCE.search(text, opening.end())
        text = text[opening.end() : closing.start() if closing else len(text)]
    elif language:
        first_line, newline, rest = text.lstrip("\n").partition("\n")
        if newline and first_line.strip().lower() in {language.id, language.name}:
            text = rest
    return text


def _start_on_new_line(prefix: str, text: str) -> str:
    """Generated code goes below the instruction: on a line of its own, without blank lines."""
    code = text.lstrip("\n")
    if prefix and not prefix.endswith("\n"):
        return "\n" + code
    return code
