"""Clean a model's suggestion before the client sees it (docs/pipeline.md#post-processing).

The syntax steps parse only a window around the cursor, never the whole file: from the last
top-level line a few thousand characters above the cursor, through the suggestion, to a few
lines below it. Parsing costs time in proportion to the text parsed, so a 400,000-character
file costs the same as a small one. Two parses compared with each other use the same window,
so errors that the window's edges cause count the same on both sides and cancel out.
"""

import re
from collections.abc import Generator
from contextlib import closing
from dataclasses import dataclass
from functools import cache

from tree_sitter import Node, Parser, Tree
from tree_sitter_language_pack import get_parser

from codesuggest.providers.fences import unfenced, without_fences
from completions.languages import TOP_LEVEL_LINE, Language, comment_markers, is_comment_line

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

_LINE_END = re.compile(r"[ \t]*\r?\n")
# Grammars that parse their text only after an opening tag.
_PREAMBLES = {"php": "<?php\n"}


def postprocess_completion(
    *, prefix: str, suffix: str, suggestion: str, language: Language | None, hit_token_limit: bool
) -> str:
    """The suggestion after steps 1-6 (docs/pipeline.md#post-processing); "" is no suggestion."""
    parser = _parser(language.id) if language else None
    text = suggestion
    if parser and language:
        if _is_comment_only(parser, language, text):
            return ""
        window = _Window.around(parser, language, prefix, suffix)
        text = _trim_to_enclosing_block(window, suffix, text)
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
    text = _generation_start(prefix, unfenced(suggestion), language, final=True)
    text = _remove_model_reflection(prefix, text or "", comment_markers(language))
    return text if text.strip() else ""


def stream_generation(
    *, prefix: str, chunks: Generator[str], language: Language | None
) -> Generator[str]:
    """A generation's chunks cleaned as they arrive, as postprocess_generation cleans it whole.

    Only echoed lines stay: telling them apart needs the lines that follow them. Text is held
    back only while it may still be part of a fence or of the first line's language tag. The
    model is not read past the closing fence: what follows it is an explanation, not code.
    Closing the chunks closes `chunks`.
    """
    pieces = without_fences(chunks)
    with closing(pieces):
        held = ""
        for piece in pieces:
            held += piece
            start = _generation_start(prefix, held, language, final=False)
            if start is not None:
                yield start
                yield from pieces
                return
        start = _generation_start(prefix, held, language, final=True)
        if start:
            yield start


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
    top_level_starts = [m.start() for m in TOP_LEVEL_LINE.finditer(prefix, start)]
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


def _trim_to_enclosing_block(window: _Window, suffix: str, suggestion: str) -> str:
    """Step 2: end the suggestion where the block it starts in ends.

    When the text after the cursor continues the cursor's line, the block keeps its line end
    and that line's indentation: the text then goes below the block, indented as it was, not
    glued to the block's last line.
    """
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
    text = suggestion_bytes[:cut].decode(errors="ignore")
    if _on_a_later_line(suffix):
        return text.rstrip("\r\n")
    # Some grammars end a block after its newline, others before it.
    line_end = _LINE_END.match(suggestion, len(text))
    if not text.endswith("\n") and line_end:
        text = text.rstrip(" \t") + line_end[0].lstrip(" \t")
    if not text.endswith("\n"):
        return text
    cursor_line = window.above[window.above.rfind("\n") + 1 :]
    return text + cursor_line[: len(cursor_line) - len(cursor_line.lstrip(" \t"))]


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
    suffix_starts_new_line = _on_a_later_line(suffix)
    errors_without_suggestion: int | None = None
    for position in _line_end_occurrences(suggestion, suffix_line)[:MAX_OVERLAP_CANDIDATES]:
        cut = suggestion[:position]
        # The suffix's line brings its own indentation, or its own line break before it.
        cut = cut.rstrip() if suffix_starts_new_line else cut.rstrip(" \t")
        if errors_without_suggestion is None:
            errors_without_suggestion = window.syntax_errors("")
        if window.syntax_errors(cut) <= errors_without_suggestion:
            return cut
    return suggestion


def _on_a_later_line(suffix: str) -> bool:
    """Whether the text after the cursor starts below the cursor's line: nothing follows on it."""
    return not suffix.partition("\n")[0].strip()


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
    kept when the cursor's line has text: it continues that line. Blank lines and indentation do
    not count.
    """
    lines = suggestion.split("\n")
    cursor_line = prefix[prefix.rfind("\n") + 1 :]
    first = 1 if cursor_line.strip() else 0
    code = [(number, line.strip()) for number, line in enumerate(lines[first:], first)]
    code = [(number, text) for number, text in code if text]
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
    text = "\n".join(line for number, line in enumerate(lines) if number not in dropped)
    # The next line then starts at the cursor, after the indentation the cursor's line has.
    return text.removeprefix(cursor_line) if 0 in dropped else text


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
    whole_lines = (
        suggestion[: suggestion.rfind("\n")].removesuffix("\r") if "\n" in suggestion else ""
    )
    return whole_lines if whole_lines.strip() else suggestion


def _generation_start(
    prefix: str, text: str, language: Language | None, *, final: bool
) -> str | None:
    """The beginning of a generation once it is certain, None until then: on a line of its own
    when the cursor line has text, without blank lines or a bare language tag before it."""
    text = text.lstrip("\n")
    first_line, newline, rest = text.partition("\n")
    word = first_line.strip().lower()
    tags = {language.id, language.name.lower()} if language else set()
    if not newline and not final and any(tag.startswith(word) for tag in tags):
        return None
    if newline and word in tags:
        text = rest.lstrip("\n")
    if not text.strip():
        return "" if final else None
    return ("\n" if prefix and not prefix.endswith("\n") else "") + text
