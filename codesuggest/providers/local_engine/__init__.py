"""The built-in offline completion engine: a cached n-gram model of code.

It completes from three sources of counts: the current file (above and below the cursor), the
project's indexed repositories, and a base model per language built once from source code already
on the machine. Pure Python plus numpy and Pygments; usable without Django.
"""

import itertools
import math
import os
import pathlib
import random
import re
import threading
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from . import chat, corpora, project
from .lines import CursorLines, LineGuess, cursor_lines, guess_line
from .model import (
    BASE_WEIGHT,
    CACHE_ORDER,
    CACHE_WEIGHT,
    NEAR,
    OTHER_FILES_WEIGHT,
    PARTIAL,
    PROJECT_WEIGHT,
    DocumentModel,
    OtherFilesModel,
    Request,
    Scorer,
    SegmentCounts,
    SegmentKey,
    Source,
    complete,
    count_segment,
    first_stop,
    segment_table,
)
from .project import IndexReport
from .segments import SegmentCutter
from .table import NgramTable
from .tokens import cut, line_starts, multiline_quotes, segment_starts, tokenize

__all__ = ["DEFAULT_MIN_CONFIDENCE", "IndexReport", "LocalEngine", "LocalSuggestion"]

# Chosen on held-out halves of Django, requests, rich, click and npm (bench/engine_projects.py,
# tuning seeds 1 and 2), once answers could also be whole lines guessed from their neighbours
# (lines.py): at 0.35, 43-55 % of the answers were exact on each but requests (26-43 %), and
# exact matches over all positions fell by 1-3 points from 0.25, where 33-50 % were exact.
DEFAULT_MIN_CONFIDENCE = 0.35

# A whole new line is guessed with less reason than the rest of a line begun: on held-out halves
# of Django, requests, rich and click (bench/engine_projects.py, tuning seed) 16-27 % of the
# answers at line starts were exact against 35-46 % mid-line, at the same threshold. Twice the
# threshold there made 2.3-6.6 points more of the answers exact for 0-0.3 points fewer exact
# matches over all positions (npm's JavaScript: 8.4 points more, 1.7 fewer).
LINE_START_CONFIDENCE_FACTOR = 2.0
# Enough for the segments of a few large files; a cached segment costs ~100 bytes a token.
_SEGMENT_CACHE_SIZE = 6_000
_LINE_CACHE_SIZE = 50_000
# The segments of a few requests' other files: 4 snippets of 20 lines are about 20 segments.
_OTHER_FILES_CACHE_SIZE = 1_000
# Other files' code not read yet is lexed up to this much a request, the rest at the next ones,
# which in an editor come with the same snippets. With 4 snippets at positions tens of lines
# apart (bench/engine_projects.py, tuning seed), the median request on a held-out half of Django
# took 3.1 ms instead of 5.8 reading all, on npm's 2.5 instead of 3.4 (click's: 3.5 and 3.2, on
# a busy machine), for 0.3 points fewer exact matches at most.
_OTHER_FILES_CHARACTERS_PER_REQUEST = 1_000
_DOCUMENTS_PER_LANGUAGE = 4
# A file's own code not counted yet is lexed and counted up to this much a request, nearest the
# cursor first: more at a file's first request, less at each next one, which must stay quick.
# The first request in the middle of click's core.py (149,005 characters) took 72-95 ms of CPU
# instead of 274, and 2,000 more characters cost a later one 4-7 ms on 2 busy cores (4,000:
# 6-20 ms); exact matches on held-out halves of five repositories moved by 0.3 points at most
# (bench/engine_projects.py, tuning seed).
_FIRST_CHARACTERS = 40_000
_LATER_CHARACTERS = 2_000
_PARTIAL_WORD = re.compile(r"\w+\Z")
_SUFFIX_TOKENS = 4


@dataclass(frozen=True)
class LocalSuggestion:
    text: str
    finish_reason: str  # "stop" or "length" (length = max_tokens cut it)
    confidence: float


class LocalEngine:
    """One per process; safe to share between threads. Loads models lazily."""

    def __init__(self, data_dir: pathlib.Path) -> None:
        self.data_dir = pathlib.Path(data_dir)
        self._lock = threading.Lock()
        self._tables: dict[pathlib.Path, tuple[tuple[int, int], NgramTable]] = {}
        self._segments: OrderedDict[tuple[str, SegmentKey], SegmentCounts] = OrderedDict()
        self._documents: dict[str, list[DocumentModel]] = {}
        self._cutters: dict[str, SegmentCutter] = {}
        self._lines: OrderedDict[tuple[str, str], list[str]] = OrderedDict()
        self._other_files_segments: OrderedDict[tuple[str, str], dict[int, dict[str, int]]] = (
            OrderedDict()
        )

    def complete(
        self,
        *,
        prefix: str,
        suffix: str,
        language: str,
        project_key: str | None,
        max_tokens: int,
        temperature: float = 0.0,
        stop: Sequence[str] = (),
        multiline: bool = False,
        candidates: int = 1,
        seed: int | None = None,
        min_confidence: float | None = None,
        other_files: str = "",
    ) -> list[LocalSuggestion]:
        """Completions of the code at the cursor; [] when the engine is not confident enough.

        `other_files` is the code of other files sent with the request (open files, retrieved
        snippets), counted apart from the file's own, as a second cache."""
        language = language.lower()
        threshold = DEFAULT_MIN_CONFIDENCE if min_confidence is None else min_confidence
        if not prefix[prefix.rfind("\n") + 1 :].strip():
            threshold *= LINE_START_CONFIDENCE_FACTOR
        layout = self._cutter(language).layout(prefix, suffix)
        above, below = layout.above, layout.below
        near = self._near(language, above[-1])
        partial_match = _PARTIAL_WORD.search(above[-1])
        last = self._segment(language, near + above[-1])
        partial = ""
        if partial_match and last.tokens and last.tokens[-1].lstrip(" ") == partial_match.group():
            partial = partial_match.group()
            last = self._segment(language, PARTIAL + above[-1])
        keys_above = [*above[:-1], (PARTIAL if partial else near) + above[-1]]
        below_keys = [self._near(language, s) + s for s in below[:1]] + below[1:]
        keys = Counter(keys_above)
        keys.update(below_keys)
        counted = last.tokens[: len(last.tokens) - bool(partial)]
        context = self._context(language, above[:-1], counted)
        cursor = cursor_lines(layout.above, layout.below)
        guess = self._guess_line(language, cursor, project_key)
        floor = _ngram_floor(threshold, guess)
        following: list[str] = []
        for key in below_keys:
            if len(following) >= _SUFFIX_TOKENS:
                break
            following += self._segment(language, key).tokens
        request = Request(
            context=context,
            partial=partial,
            pending_space=not partial and prefix.endswith((" ", "\t")),
            suffix=following,
            multiline=multiline,
            max_tokens=max_tokens,
            stop=stop,
            temperature=temperature,
            rng=random.Random(seed),
            min_log_probability=math.log(floor) if floor > 0 else -math.inf,
        )
        nearest_first = _nearest_first(keys_above[::-1], below_keys)
        document = self._document(language, keys)
        with document.lock:
            budget = _LATER_CHARACTERS if document.segments else _FIRST_CHARACTERS
            document.sync(keys, nearest_first, lambda key: self._segment(language, key), budget)
            sources = [Source(document.lookup, CACHE_ORDER, CACHE_WEIGHT)]
            if other_files.strip():
                others = OtherFilesModel(self._other_files_tables(language, other_files))
                sources.append(Source(others.lookup, CACHE_ORDER, OTHER_FILES_WEIGHT))
            sources += self._table_sources(language, project_key)
            completions = complete(Scorer(sources), request, candidates)
        suggestions = [
            LocalSuggestion(c.text, c.finish_reason, math.exp(c.log_probability))
            for c in completions
            if not cursor.repeats_below(c.text)
        ]
        if guess is not None and len(self._line_tokens(language, guess.text)) <= max_tokens:
            suggestions = _with_line_guess(suggestions, guess, stop, candidates)
        return [s for s in suggestions if s.confidence >= threshold]

    def _guess_line(
        self, language: str, cursor: CursorLines, project_key: str | None
    ) -> LineGuess | None:
        """The line the file's other lines and the project's index propose at the cursor."""
        table = (
            self._table(self._project_dir(project_key) / f"{language or 'text'}.lines")
            if project_key
            else None
        )
        return guess_line(cursor, table.lookup if table else None)

    def index_repository(
        self,
        *,
        project_key: str,
        directory: pathlib.Path,
        excludes: Callable[[str], bool] = project.nothing_excluded,
    ) -> IndexReport:
        """Feed a checkout's code to the project's index, but the files `excludes` names by
        their path in the checkout; unchanged files cost a stat each."""
        return project.index_repository(
            self._project_dir(project_key), pathlib.Path(directory), excludes
        )

    def build_base_models(
        self, *, languages: Sequence[str] | None = None, force: bool = False
    ) -> list[str]:
        """Build the per-language base models from code on this machine; returns those built."""
        return corpora.build_base_models(self.data_dir / "base", languages=languages, force=force)

    def missing_base_models(self, *, languages: Sequence[str] | None = None) -> list[str]:
        """The base models build_base_models would build now. Until they are built the engine
        answers from the file and the project's index, and it reads each as soon as it is."""
        return corpora.missing_base_models(self.data_dir / "base", languages=languages)

    def answer_question(
        self,
        *,
        question: str,
        project_key: str | None,
        documents: Sequence[tuple[str, str]],
        excluded: Callable[[str], bool] = project.nothing_excluded,
    ) -> str:
        """Passages of the indexed code (but the `excluded` files) and the documents most
        relevant to the question."""
        indexed = project.indexed_texts(self._project_dir(project_key)) if project_key else []
        readable = [(path, text) for path, text in indexed if not excluded(path)]
        return chat.answer(question, [*readable, *documents])

    def forget_files(self, *, project_key: str, excluded: Callable[[str], bool]) -> int:
        """Take the files `excluded` names out of the project's index; how many left it."""
        return project.forget_files(self._project_dir(project_key), excluded)

    def indexed_files(self, project_key: str) -> dict[str, pathlib.Path]:
        """The project's indexed files: each one's path in the checkout and its blob."""
        return project.indexed_files(self._project_dir(project_key))

    def _project_dir(self, project_key: str) -> pathlib.Path:
        return self.data_dir / "projects" / project.safe_name(project_key)

    def _cutter(self, language: str) -> SegmentCutter:
        with self._lock:
            if language not in self._cutters:
                self._cutters[language] = SegmentCutter(language)
            return self._cutters[language]

    @staticmethod
    def _near(language: str, segment: str) -> str:
        """The key prefix of a segment beside the cursor: NEAR only where strings make it differ."""
        return NEAR if multiline_quotes(language).search(segment) else ""

    def _segment(self, language: str, key: SegmentKey) -> SegmentCounts:
        cache_key = (language, key)
        with self._lock:
            found = self._segments.get(cache_key)
            if found is not None:
                self._segments.move_to_end(cache_key)
                return found
        text = key.lstrip(NEAR + PARTIAL)
        near = text != key
        lines = cut(text, line_starts(text, multiline_quotes(language), ignore_strings=near))
        tokens = [t for line in lines for t in self._line_tokens(language, line)]
        counted = len(tokens) - (key.startswith(PARTIAL) and bool(tokens))
        counts = count_segment(tokens, counted)
        with self._lock:
            self._segments[cache_key] = counts
            if len(self._segments) > _SEGMENT_CACHE_SIZE:
                self._segments.popitem(last=False)
        return counts

    def _other_files_tables(self, language: str, text: str) -> list[dict[int, dict[str, int]]]:
        """The counts of other files' segments, each counted once while it keeps coming; those
        not counted yet past a budget of characters are left for the next requests."""
        tables = []
        budget = _OTHER_FILES_CHARACTERS_PER_REQUEST
        for segment in cut(text, segment_starts(text, multiline_quotes(language))):
            key = (language, segment)
            with self._lock:
                table = self._other_files_segments.get(key)
                if table is not None:
                    self._other_files_segments.move_to_end(key)
            if table is None:
                budget -= len(segment)
                if budget < 0:
                    continue
                table = segment_table(self._segment(language, segment))
                with self._lock:
                    self._other_files_segments[key] = table
                    if len(self._other_files_segments) > _OTHER_FILES_CACHE_SIZE:
                        self._other_files_segments.popitem(last=False)
            tables.append(table)
        return tables

    def _line_tokens(self, language: str, line: str) -> list[str]:
        """Tokens of one line; lines are shared by segments, so lexing each once is enough."""
        key = (language, line)
        with self._lock:
            found = self._lines.get(key)
            if found is not None:
                self._lines.move_to_end(key)
                return found
        tokens = tokenize(line, language)
        with self._lock:
            self._lines[key] = tokens
            if len(self._lines) > _LINE_CACHE_SIZE:
                self._lines.popitem(last=False)
        return tokens

    def _context(self, language: str, earlier: list[str], last: list[str]) -> list[str]:
        """The tokens right before the cursor, enough to fill the longest context."""
        tokens = list(last)
        for segment in reversed(earlier):
            if len(tokens) > CACHE_ORDER:
                break
            tokens = self._segment(language, segment).tokens + tokens
        return tokens

    def _document(self, language: str, keys: Counter[SegmentKey]) -> DocumentModel:
        """The cached file model closest to this file, which is then updated to it."""
        with self._lock:
            pool = self._documents.setdefault(language, [])
            # Most requests continue the file of the previous one: try that first.
            overlaps = [(pool[0].overlap(keys), 0)] if pool else []
            if overlaps and overlaps[0][0] * 2 < len(keys):
                overlaps += [(d.overlap(keys), i) for i, d in enumerate(pool[1:], 1)]
            shared, index = max(overlaps, default=(0, -1))
            # Another file starts from empty counts, and the least recently used model goes:
            # taking a file's counts out costs as much as putting them in. The first request on
            # click's core.py (149,005 characters) with four other large files held took 335 ms
            # of CPU when the closest model was emptied for it, 266 ms now.
            fresh = index < 0 or shared * 2 < len(keys)
            best = DocumentModel() if fresh else pool.pop(index)
            pool.insert(0, best)
            del pool[_DOCUMENTS_PER_LANGUAGE:]
            return best

    def _table_sources(self, language: str, project_key: str | None) -> list[Source]:
        sources = []
        if project_key:
            table = self._table(self._project_dir(project_key) / f"{language or 'text'}.ngram")
            if table is not None:
                sources.append(Source(table.lookup, table.max_order, PROJECT_WEIGHT))
        base = corpora.base_language(language)
        if base:
            table = self._table(self.data_dir / "base" / f"{base}.ngram")
            if table is not None:
                sources.append(Source(table.lookup, table.max_order, BASE_WEIGHT))
        return sources

    def _table(self, path: pathlib.Path) -> NgramTable | None:
        """The table at path, reloaded when another process has rebuilt it."""
        try:
            status = os.stat(path)
        except FileNotFoundError:
            return None
        version = (status.st_mtime_ns, status.st_size)
        with self._lock:
            cached = self._tables.get(path)
            if cached is not None and cached[0] == version:
                return cached[1]
        table = NgramTable(path)
        with self._lock:
            self._tables[path] = (version, table)
        return table


def _ngram_floor(threshold: float, guess: LineGuess | None) -> float:
    """How likely the n-gram models' answer must be to matter: less than the threshold when the
    guessed line would make it surer by agreeing with it."""
    if guess is None:
        return threshold
    return max(0.0, 1 - (1 - threshold) / (1 - guess.confidence)) if guess.confidence < 1 else 0.0


def _with_line_guess(
    suggestions: list[LocalSuggestion], guess: LineGuess, stop: Sequence[str], candidates: int
) -> list[LocalSuggestion]:
    """The n-gram models' answers and the guessed line, surest first. Where an answer's first line
    is the guessed one, each is evidence for the other: it is wrong only if both are (a noisy-or),
    and a block keeps the lines after it."""
    text = guess.text[: first_stop(guess.text, stop)]
    if not text.strip():
        return suggestions
    merged = []
    agreed = False
    for suggestion in suggestions:
        if suggestion.text.split("\n", 1)[0].split() == text.split():
            agreed = True
            surer = 1 - (1 - suggestion.confidence) * (1 - guess.confidence)
            suggestion = LocalSuggestion(suggestion.text, suggestion.finish_reason, surer)
        merged.append(suggestion)
    if not agreed:
        merged.append(LocalSuggestion(text, "stop", guess.confidence))
    return sorted(merged, key=lambda s: -s.confidence)[: max(1, candidates)]


def _nearest_first(above: list[SegmentKey], below: list[SegmentKey]) -> Iterator[SegmentKey]:
    """The segments above the cursor (nearest first) and below it, taken in turn."""
    for pair in itertools.zip_longest(above, below):
        yield from (key for key in pair if key is not None)
