"""Cutting the text around the cursor into segments that are lexed and counted once, then cached.

A segment is a run of lines between blank lines, definitions or compound statements, so that
typing changes one small segment.
Scanning 100 KB for cuts costs milliseconds, so the cutter remembers recent cuts and rescans only
what differs from the closest one: in an editor, successive requests share almost all their text.
"""

import itertools
import threading
from collections import deque
from dataclasses import dataclass

from .tokens import multiline_quotes, opens_string, quote_count, segment_starts

_REMEMBERED = 16
# How many remembered cuts a request is compared with, most recent first.
_PROBED = 3


@dataclass(frozen=True)
class Layout:
    above: list[str]  # segments of the prefix, the last one ending at the cursor
    below: list[str]  # segments of the suffix, the first one starting at the cursor


class SegmentCutter:
    """Cuts the text around the cursor of one language, reusing the pieces of recent cuts.

    Reused pieces are the very string objects of earlier requests, whose hashes Python keeps, so
    the cost of a request grows with what changed rather than with the size of the file.
    """

    def __init__(self, language: str) -> None:
        self._language = language
        self._quotes = multiline_quotes(language)
        self._lock = threading.Lock()
        # (prefix, starts, pieces)
        self._prefixes: deque[tuple[str, list[int], list[str]]] = deque(maxlen=_REMEMBERED)
        # (suffix, starts as distances from the end, pieces)
        self._suffixes: deque[tuple[str, list[int], list[str]]] = deque(maxlen=_REMEMBERED)

    def layout(self, prefix: str, suffix: str) -> Layout:
        return Layout(self._above(prefix) or [""], self._below(suffix))

    def _above(self, prefix: str) -> list[str]:
        with self._lock:
            remembered = list(self._prefixes)[-_PROBED:]
        kept: list[int] = []
        pieces: list[str] = []
        for text, starts, old_pieces in remembered:
            # The largest k whose cut lies in text that the prefix shares.
            low, high = 0, len(starts)
            while low < high:
                middle = (low + high) // 2
                if starts[middle] < len(prefix) and prefix.startswith(text[: starts[middle]]):
                    low = middle + 1
                else:
                    high = middle
            # The cut at starts[low - 1] depends on the text after it: rescan from the one before.
            if low - 1 > len(kept):
                kept, pieces = starts[: low - 1], old_pieces[: low - 1]
        begin = kept[-1] if kept else 0
        new = segment_starts(prefix, self._quotes, begin)
        pieces = pieces + _slices(prefix, [begin, *new, len(prefix)])
        with self._lock:
            self._prefixes.append((prefix, kept + new, pieces))
        return pieces

    def _below(self, suffix: str) -> list[str]:
        # Whether the suffix starts inside a multi-line string: judged from the end of the file,
        # which is outside strings, because the text hidden at the cursor may hold quotes.
        odd = quote_count(suffix, self._language) % 2 == 1
        with self._lock:
            remembered = list(self._suffixes)[-_PROBED:]
        best: tuple[list[int], list[str]] | None = None
        for text, ends, old_pieces in remembered:
            # The smallest k from which text and suffix end alike.
            low, high = 0, len(ends)
            while low < high:
                middle = (low + high) // 2
                if ends[middle] < len(suffix) and suffix.endswith(text[len(text) - ends[middle] :]):
                    high = middle
                else:
                    low = middle + 1
            if low + 1 >= len(ends):
                continue
            anchor = len(suffix) - ends[low + 1]
            if odd != opens_string(suffix, self._quotes, 0, anchor):
                continue  # the shared text is not outside strings in both: scan it all
            head = segment_starts(suffix, self._quotes, 0, anchor, odd)
            reused = len(ends) - low - 1
            if best is None or reused > len(best[0]) - len(head):
                best = (
                    [len(suffix) - h for h in head] + ends[low + 1 :],
                    _slices(suffix, [0, *head, anchor]) + old_pieces[low + 2 :],
                )
        if best is None:
            starts = segment_starts(suffix, self._quotes, 0, None, odd)
            best = ([len(suffix) - s for s in starts], _slices(suffix, [0, *starts, len(suffix)]))
        with self._lock:
            self._suffixes.append((suffix, *best))
        return best[1]


def _slices(text: str, bounds: list[int]) -> list[str]:
    return [text[a:b] for a, b in itertools.pairwise(bounds) if b > a]
