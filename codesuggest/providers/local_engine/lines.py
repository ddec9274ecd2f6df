"""Whole lines remembered by their neighbours: the line that sat between the same lines elsewhere.

Code repeats itself by the line as well as by the token: the `\"\"\"` that closes a docstring after
its `:rtype:`, the `else:` after the same `return`, the same call under the same `if` in two
methods. The n-gram models see a few tokens back; this sees whole lines around the cursor's line,
the one below it included, and proposes the lines that sat between the same neighbours: in the
file above and below the cursor, and in the project's indexed files (a table built with the
n-gram tables). Lines are compared stripped of their indentation and trailing spaces.
"""

import functools
import hashlib
import itertools
import pathlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from .table import ContextStats, build_keyed_table

# What each kind of neighbourhood a line shared is worth, in the file and in the project's index:
# the two lines above, the lines above and below, the line above, the line below. A line of the
# file weighs twice one of the project. Chosen on held-out halves of Django, requests, rich, click
# and npm (bench/engine_projects.py, tuning seeds 1 and 2), where a line proposed this way was the
# expected one as often as the n-gram models' best answer, and often where theirs was not.
_FILE_WEIGHTS = {"above2": 4.0, "around": 6.0, "above": 2.0, "below": 1.0}
_INDEX_WEIGHTS = {kind: weight / 2 for kind, weight in _FILE_WEIGHTS.items()}
# A line proposed by fewer votes than this is trusted less, in proportion.
_FULL_VOTES = 4.0
# Longer lines are context, never proposed: they are rarely repeated whole.
MAX_LINE_LENGTH = 200
_LINES_CACHE_SIZE = 20_000

Lookup = Callable[[int], ContextStats | None]


@dataclass(frozen=True)
class Neighbours:
    """The stripped lines around the cursor's line ("" past the start or end of the file)."""

    above2: str
    above: str
    below: str

    def keys(self) -> dict[str, int]:
        """The hashes under which the index counts the lines seen between these neighbours."""
        return {
            "above2": line_key("above2", self.above2, self.above),
            "around": line_key("around", self.above, self.below),
            "above": line_key("above", self.above),
            "below": line_key("below", self.below),
        }


@dataclass(frozen=True)
class CursorLines:
    """The file's non-blank lines around the cursor's line, stripped, and that line's text before
    and after the cursor."""

    before: list[str]
    typed: str
    rest: str
    after: list[str]

    def repeats_below(self, text: str) -> bool:
        """Whether `text` at the cursor makes its line the line below again. A file in the
        project's index is there as committed: a line opened between two of its lines is where the
        index saw the second, and its models propose it, which is never what was wanted."""
        line = self.typed + text.split("\n", 1)[0] + self.rest
        return bool(self.after) and line.split() == self.after[0].split()


@dataclass(frozen=True)
class LineGuess:
    text: str  # what the line adds at the cursor
    confidence: float


def line_key(kind: str, *lines: str) -> int:
    """A stable 64-bit key of a kind of neighbourhood and its lines."""
    data = "\0".join((kind, *lines)).encode("utf-8", "surrogatepass")
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "little")


def lines_of(text: str) -> tuple[str, ...]:
    """The non-blank lines of a text, stripped."""
    return tuple(s for line in text.split("\n") if (s := line.strip()))


# A file's segments (segments.py) are the same strings from one request to the next.
segment_lines = functools.lru_cache(maxsize=_LINES_CACHE_SIZE)(lines_of)


def build_line_table(texts: Iterable[str], path: pathlib.Path) -> None:
    """Count, for each file, the line between each neighbourhood, and write the table."""
    keys: list[int] = []
    followers: list[str] = []
    for text in texts:
        lines = lines_of(text)
        for i, line in enumerate(lines):
            if len(line) > MAX_LINE_LENGTH:
                continue
            neighbours = Neighbours(
                above2=lines[i - 2] if i > 1 else "",
                above=lines[i - 1] if i else "",
                below=lines[i + 1] if i + 1 < len(lines) else "",
            )
            for key in neighbours.keys().values():
                keys.append(key)
                followers.append(line)
    build_keyed_table(np.array(keys, np.uint64), followers, path)


def cursor_lines(above: Sequence[str], below: Sequence[str]) -> CursorLines:
    """The lines around the cursor from the segments above it (the last one ending at the cursor)
    and below it (the first one starting there)."""
    *earlier, current = above or [""]
    head, _, typed = current.rpartition("\n")
    rest, _, tail = below[0].partition("\n") if below else ("", "", "")
    return CursorLines(
        before=[*itertools.chain.from_iterable(map(segment_lines, earlier)), *lines_of(head)],
        typed=typed.lstrip(),
        rest=rest.strip(),
        after=[*lines_of(tail), *itertools.chain.from_iterable(map(segment_lines, below[1:]))],
    )


def guess_line(cursor: CursorLines, index: Lookup | None) -> LineGuess | None:
    """The likeliest line at the cursor, among those that begin with what is typed on it and end
    with what follows the cursor on it, from the file's other lines and the project's index."""
    before, after, typed, rest = cursor.before, cursor.after, cursor.typed, cursor.rest
    neighbours = Neighbours(
        above2=before[-2] if len(before) > 1 else "",
        above=before[-1] if before else "",
        below=after[0] if after else "",
    )
    votes: dict[str, float] = {}
    for part in (before, after):
        for line, kinds in _between_in_file(part, neighbours):
            votes[line] = votes.get(line, 0.0) + sum(_FILE_WEIGHTS[kind] for kind in kinds)
    if index is not None:
        for kind, key in neighbours.keys().items():
            stats = index(key)
            for line, count in stats.counts.items() if stats else ():
                votes[line] = votes.get(line, 0.0) + _INDEX_WEIGHTS[kind] * count
    # Never a neighbour again. An index holding the file being edited saw the line below right
    # after the line above; and at new lines opened in npm's files, 25 of the engine's 45
    # answers were the line above again, mostly closing braces (bench/engine_projects.py
    # --opened). On held-out halves, leaving those out made 4-7 points more of npm's answers
    # exact, for 0.3 points fewer exact matches at most.
    fitting = {
        line: n
        for line, n in votes.items()
        if len(line) > len(typed) + len(rest)
        and line.startswith(typed)
        and line.endswith(rest)
        and line not in (neighbours.above, neighbours.below)
    }
    if not fitting:
        return None
    best, score = max(fitting.items(), key=lambda item: (item[1], item[0]))
    share = score / sum(fitting.values())
    return LineGuess(
        best[len(typed) : len(best) - len(rest)], share * min(1.0, score / _FULL_VOTES)
    )


def _between_in_file(
    lines: Sequence[str], neighbours: Neighbours
) -> Iterator[tuple[str, list[str]]]:
    """Each line of `lines` beside a neighbour of the cursor's line, and which neighbours."""
    above2, above, below = neighbours.above2, neighbours.above, neighbours.below
    for j in _positions(lines, above) if above else ():
        if j + 1 < len(lines) and len(lines[j + 1]) <= MAX_LINE_LENGTH:
            kinds = ["above"]
            if (lines[j - 1] if j else "") == above2:
                kinds.append("above2")
            if j + 2 < len(lines) and lines[j + 2] == below:
                kinds.append("around")
            yield lines[j + 1], kinds
    for j in _positions(lines, below) if below else ():
        if j and len(lines[j - 1]) <= MAX_LINE_LENGTH:
            yield lines[j - 1], ["below"]


def _positions(lines: Sequence[str], line: str) -> Iterator[int]:
    """Where `line` is in `lines` (list.index compares in C: 22 µs for 3,000 lines, where a
    Python loop took 68)."""
    found = -1
    while True:
        try:
            found = lines.index(line, found + 1)
        except ValueError:
            return
        yield found
