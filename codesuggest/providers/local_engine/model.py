"""The cache model of the current file, the mixture of count sources, and decoding.

Probabilities follow Witten-Bell interpolation over context lengths 0..N, with the counts of all
sources (base model, project index, current file) added with weights at every length: the file's
own n-grams weigh most because code repeats itself locally (Hellendoorn & Devanbu, FSE 2017).
"""

import array
import heapq
import math
import random
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from .table import ContextStats
from .tokens import context_hashes, is_line_break, token_key

# Context lengths and weights were tuned with bench/local_engine.py: long contexts in the file's
# own counts matter most (6 -> 8 tokens gained about a point of exact matches).
CACHE_ORDER = 8
CACHE_WEIGHT = 8.0
# Other files sent with the request weigh as the file's own: 16 for them, 8 for the project's
# tables, or both, moved exact matches on held-out halves of five repositories by 0.4 points at
# most (bench/engine_projects.py, tuning seed).
OTHER_FILES_WEIGHT = 8.0
PROJECT_WEIGHT = 4.0
BASE_WEIGHT = 1.0
VOCABULARY_SIZE = 100_000.0
# How many continuations are scored at each step; more costs time and rarely changes the winner.
_CANDIDATES_PER_STEP = 8
_FIRST_TOKEN_BRANCHES = 3
_BRANCH_RATIO = 0.05
_SAMPLES = 8
_SUFFIX_TOKENS_SCORED = 3
_MAX_LINE_TOKENS = 64

Lookup = Callable[[int], ContextStats | None]
# A segment's text, prefixed with NEAR for a segment beside the cursor that holds a multi-line
# quote (lexed line by line even inside strings, so that typing in a long docstring re-lexes one
# line), or with PARTIAL when its last token is a word still being typed, which is not counted.
# Plain strings keep building the multiset of a file's segments cheap.
SegmentKey = str
NEAR = "\1"
PARTIAL = "\0"
# Per context length: weighted total, distinct continuations, and (weight, counts) per source.
Level = tuple[float, float, list[tuple[float, dict[str, float]]]]


@dataclass(frozen=True)
class Source:
    lookup: Lookup
    max_order: int
    weight: float


@dataclass(frozen=True)
class SegmentCounts:
    tokens: list[str]
    # Every counted n-gram as its context's hash and the token that followed (compact: segments
    # are cached by the thousand).
    contexts: array.array
    followers: list[str]


def count_segment(tokens: list[str], counted: int) -> SegmentCounts:
    """The n-grams of the first `counted` tokens, contexts limited to this segment."""
    keys = [token_key(t) for t in tokens]
    contexts = array.array("Q")
    followers: list[str] = []
    for i in range(counted):
        hashes = context_hashes(keys[max(0, i - CACHE_ORDER) : i], CACHE_ORDER)
        contexts.extend(hashes)
        followers.extend([tokens[i]] * len(hashes))
    return SegmentCounts(tokens, contexts, followers)


class DocumentModel:
    """Counts of a file's segments, updated by adding and removing segments as the file changes.

    A large file is counted a part at a time, nearest the cursor first, so that no request waits
    for all of it: lexing and counting click's core.py (149,005 characters) took 227 ms of CPU.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        # The file's segments as last seen, and those of them counted so far.
        self.segments: Counter[SegmentKey] = Counter()
        self._held: Counter[SegmentKey] = Counter()
        # The counts of each segment held, to take them out again without recounting.
        self._members: dict[SegmentKey, SegmentCounts] = {}
        self._counts: dict[int, dict[str, int]] = {}
        self._totals: dict[int, int] = {}

    def overlap(self, segments: Counter[SegmentKey]) -> int:
        return len(self.segments.keys() & segments.keys())

    def sync(
        self,
        segments: Counter[SegmentKey],
        nearest_first: Iterable[SegmentKey],
        counts_of: Callable[[SegmentKey], SegmentCounts],
        budget: int,
    ) -> None:
        """Make the counts those of `segments`, adding segments not counted yet in the order of
        `nearest_first` until `budget` characters of them are (call with the lock held)."""
        # Comparing item views is done in C: far faster than Counter subtraction.
        for segment, n in self._held.items() - segments.items():
            wanted = segments.get(segment, 0)
            for _ in range(n - wanted):
                self._add(self._members[segment], -1)
            if not wanted:
                del self._held[segment], self._members[segment]
            elif wanted < n:
                self._held[segment] = wanted
        missing = dict(segments.items() - self._held.items())
        for segment in nearest_first if missing else ():
            if budget <= 0 or len(missing) == 0:
                break
            n = missing.pop(segment, 0)
            if not n:
                continue
            budget -= len(segment)
            counts = self._members.setdefault(segment, counts_of(segment))
            for _ in range(n - self._held.get(segment, 0)):
                self._add(counts, 1)
            self._held[segment] = n
        self.segments = segments

    def _add(self, counts: SegmentCounts, sign: int) -> None:
        for h, token in zip(counts.contexts, counts.followers, strict=True):
            inner = self._counts.get(h)
            if inner is None:
                inner = self._counts[h] = {}
            value = inner.get(token, 0) + sign
            if value > 0:
                inner[token] = value
            else:
                inner.pop(token, None)
            total = self._totals.get(h, 0) + sign
            if total > 0:
                self._totals[h] = total
            else:
                self._totals.pop(h, None)
                self._counts.pop(h, None)

    def lookup(self, context: int) -> ContextStats | None:
        total = self._totals.get(context)
        if not total:
            return None
        counts = self._counts[context]
        return ContextStats(float(total), len(counts), counts)  # type: ignore[arg-type]


def segment_table(counts: SegmentCounts) -> dict[int, dict[str, int]]:
    """A segment's n-gram counts by context, to be looked up without adding them to a file's."""
    table: dict[int, dict[str, int]] = {}
    for h, token in zip(counts.contexts, counts.followers, strict=True):
        inner = table.setdefault(h, {})
        inner[token] = inner.get(token, 0) + 1
    return table


class OtherFilesModel:
    """Counts of the other files' code a request comes with (the editor's open files, retrieved
    snippets), merged at lookup from each segment's cached table.

    They change at most requests: adding and taking them out of the file's counts, as they were
    when they came as part of the prefix, took a median of 8 ms a request on a held-out half of
    Django with 4 snippets (bench/engine_projects.py), where the rest of a request took 1.4 ms.
    """

    def __init__(self, tables: Sequence[dict[int, dict[str, int]]]) -> None:
        self._tables = tables
        self._found: dict[int, ContextStats | None] = {}

    def lookup(self, context: int) -> ContextStats | None:
        if context in self._found:
            return self._found[context]
        merged: dict[str, float] = {}
        for table in self._tables:
            for token, n in table.get(context, {}).items():
                merged[token] = merged.get(token, 0.0) + n
        stats = ContextStats(sum(merged.values()), len(merged), merged) if merged else None
        self._found[context] = stats
        return stats


class Scorer:
    """Next-token probabilities from weighted sources; results are memoised per request."""

    def __init__(self, sources: Sequence[Source]) -> None:
        self._sources = sources
        self._max_order = max(s.max_order for s in sources)
        self._memo: dict[tuple[int, ...], list[tuple[float, str]]] = {}

    @property
    def max_order(self) -> int:
        return self._max_order

    def _levels(self, keys: list[int]) -> list[Level]:
        levels: list[Level] = []
        for order, h in enumerate(context_hashes(keys, self._max_order)):
            found = [
                (s.weight, stats)
                for s in self._sources
                if order <= s.max_order and (stats := s.lookup(h)) is not None
            ]
            if not found:
                break
            total = float(sum(w * stats.total for w, stats in found))
            distinct = float(sum(stats.distinct for _, stats in found))
            levels.append((total, distinct, [(w, stats.counts) for w, stats in found]))
        return levels

    def probability(self, keys: list[int], token: str) -> float:
        return _interpolate(self._levels(keys), token)

    def ranked(self, keys: list[int]) -> list[tuple[float, str]]:
        """Likely next tokens, most probable first (ties broken by the token, for determinism)."""
        memo_key = tuple(keys[-self._max_order :])
        if memo_key in self._memo:
            return self._memo[memo_key]
        levels = self._levels(keys)
        candidates: set[str] = set()
        for _, _, parts in reversed(levels[1:] or levels):
            for _, counts in parts:
                candidates.update(_top(counts, _CANDIDATES_PER_STEP))
            if len(candidates) >= _CANDIDATES_PER_STEP:
                break
        ranked = sorted(((_interpolate(levels, t), t) for t in candidates), key=_rank_key)
        self._memo[memo_key] = ranked
        return ranked

    def matching(self, keys: list[int], partial: str) -> list[tuple[float, str]]:
        """Tokens that complete the partially typed `partial`, most probable first."""
        levels = self._levels(keys)
        candidates = {
            t
            for _, _, parts in levels
            for _, counts in parts
            for t in counts
            if t.lstrip(" ").startswith(partial)
        }
        return sorted(((_interpolate(levels, t), t) for t in candidates), key=_rank_key)


def _rank_key(item: tuple[float, str]) -> tuple[float, str]:
    return (-item[0], item[1])


def _top(counts: dict[str, float], n: int) -> list[str]:
    if len(counts) <= n:
        return list(counts)
    # Ties are broken by the token, not by dict order, which depends on a process's history.
    return heapq.nlargest(n, counts, key=lambda token: (counts[token], token))


def _interpolate(levels: list[Level], token: str) -> float:
    p = 1.0 / VOCABULARY_SIZE
    for total, distinct, parts in levels:
        count = 0.0
        for weight, counts in parts:
            found = counts.get(token)
            if found:
                count += weight * found
        p = (count + distinct * p) / (total + distinct)
    return p


@dataclass(frozen=True)
class Request:
    context: list[str]  # tokens before the cursor
    partial: str  # a word typed up to the cursor, to be completed
    pending_space: bool  # the text before the cursor ends with spaces
    suffix: list[str]  # the first tokens after the cursor
    multiline: bool
    max_tokens: int
    stop: Sequence[str]
    temperature: float
    rng: random.Random
    # Completions less likely than this are not wanted, so decoding gives them up early.
    min_log_probability: float = -math.inf


@dataclass(frozen=True)
class Completion:
    text: str
    finish_reason: str
    log_probability: float  # of the completion and what follows it
    score: float  # log_probability plus how well it reconnects with the text after the cursor


def complete(scorer: Scorer, request: Request, candidates: int) -> list[Completion]:
    """The most likely completions, best first; sampled when temperature > 0."""
    keys = [token_key(t) for t in request.context[-scorer.max_order :]]
    first = scorer.matching(keys, request.partial) if request.partial else scorer.ranked(keys)
    if not first:
        return []
    if request.temperature > 0:
        found = [_rollout(scorer, request, keys, _sample(first, request)) for _ in range(_SAMPLES)]
    else:
        found = _most_likely(scorer, request, keys, first, candidates)
    rollouts = [r for r in found if r is not None]
    unique: dict[str, Completion] = {}
    for completion in sorted(rollouts, key=lambda c: -c.score):
        if completion.text.strip() and completion.text not in unique:
            unique[completion.text] = completion
    return list(unique.values())[:candidates]


def _most_likely(
    scorer: Scorer,
    request: Request,
    keys: list[int],
    first: list[tuple[float, str]],
    candidates: int,
) -> list[Completion | None]:
    """Greedy continuations of the likeliest first tokens."""
    # Branches far less likely than the best first token rarely win; they are not worth the time.
    floor = max(first[0][0] * _BRANCH_RATIO, math.exp(request.min_log_probability))
    branches = [f for f in first[:_FIRST_TOKEN_BRANCHES] if f[0] >= floor]
    found = []
    bound = -math.inf
    for branch in branches:
        rollout = _rollout(scorer, request, keys, branch, bound)
        found.append(rollout)
        if rollout is not None and rollout.text.strip() and candidates == 1:
            bound = max(bound, rollout.score)
    return found


def _sample(ranked: list[tuple[float, str]], request: Request) -> tuple[float, str]:
    weights = [p ** (1.0 / request.temperature) for p, _ in ranked]
    return request.rng.choices(ranked, weights=weights)[0]


def _rollout(
    scorer: Scorer,
    request: Request,
    keys: list[int],
    first: tuple[float, str],
    bound: float = -math.inf,
) -> Completion | None:
    """Follow the most likely tokens from `first`; None once it cannot score above `bound`."""
    keys = list(keys)
    line_indent = _indent_of_line(request.context)
    pieces: list[str] = []
    log_p = 0.0  # of the tokens emitted
    end_log_p = 0.0  # of the token that ended the completion
    choice = first
    limit = min(request.max_tokens, _MAX_LINE_TOKENS * (8 if request.multiline else 1))
    finish = "length" if limit == request.max_tokens else "stop"
    for step in range(limit):
        if step:
            ranked = scorer.ranked(keys)
            if not ranked:
                finish = "stop"
                break
            choice = _sample(ranked, request) if request.temperature > 0 else ranked[0]
        p, token = choice
        if _ends_completion(token, request, line_indent, pieces) or _meets_suffix(token, request):
            end_log_p = math.log(p)
            finish = "stop"
            break
        log_p += math.log(p)
        if log_p < bound or log_p < request.min_log_probability:
            return None  # probabilities and scores only fall as tokens are added
        pieces.append(_emitted(token, request, step))
        keys.append(token_key(token))
        text = "".join(pieces)
        stop_at = first_stop(text, request.stop)
        if stop_at is not None:
            return Completion(text[:stop_at], "stop", log_p, log_p)
        if "\n" in token and not request.multiline:
            return Completion(text[: text.index("\n")], "stop", log_p, log_p)
    after = _reconnection(scorer, keys, request) if request.suffix else end_log_p
    return Completion("".join(pieces), finish, log_p + end_log_p, log_p + after)


def _meets_suffix(token: str, request: Request) -> bool:
    """Whether the token is the text that follows the cursor on its line."""
    return (
        bool(request.suffix) and not is_line_break(request.suffix[0]) and token == request.suffix[0]
    )


def _ends_completion(token: str, request: Request, line_indent: str, pieces: list[str]) -> bool:
    if not is_line_break(token):
        return False
    if not request.multiline or not pieces:
        return True
    indent = token.lstrip("\n")
    # A block ends where code goes back left of where it started, or at a blank line at top level.
    return len(indent) < len(line_indent) or (not line_indent and token.startswith("\n\n"))


def _emitted(token: str, request: Request, step: int) -> str:
    if step == 0 and request.partial:
        return token.lstrip(" ")[len(request.partial) :]
    if step == 0 and request.pending_space:
        return token.lstrip(" ")
    return token


def first_stop(text: str, stop: Sequence[str]) -> int | None:
    """Where the earliest stop sequence begins in `text`, if any does."""
    found = [i for s in stop if s and (i := text.find(s)) >= 0]
    return min(found) if found else None


def _indent_of_line(context: list[str]) -> str:
    for token in reversed(context):
        if is_line_break(token):
            return token.lstrip("\n")
    return ""


def _reconnection(scorer: Scorer, keys: list[int], request: Request) -> float:
    """How likely the text after the cursor is, following this completion."""
    keys = list(keys)
    log_p = 0.0
    for token in request.suffix[:_SUFFIX_TOKENS_SCORED]:
        log_p += math.log(scorer.probability(keys, token))
        keys.append(token_key(token))
    return log_p
