"""Cutting the text around the cursor into segments that are lexed and counted once, then cached.

A segment is a run of lines between blank lines, definitions or compound statements, so that
typing changes one small segment.
Scanning 100 KB for cuts costs milliseconds, so the cutter remembers recent cuts and rescans only
what differs from the closest one: in an editor, successive requests share almost all their text.
"""

import re
import threading
from collections import deque
from dataclasses import dataclass

from .tokens import cut, opens_string, segment_starts

_REMEMBERED = 16
# How many remembered cuts a request is compared with, most recent first.
_PROBED = 3


@dataclass(frozen=True)
class Layout:
    above: list[str]  # segments of the prefix, the last one ending at the cursor
    below: list[str]  # segments of the suffix, the first one starting at the cursor


class SegmentCutter:
    def __init__(self, quotes: re.Pattern[str]) -> None:
        self._quotes = quotes
        self._lock = threading.Lock()
        self._prefixes: deque[tuple[str, list[int]]] = deque(maxlen=_REMEMBERED)
        self._suffixes: deque[tuple[str, list[int], bool]] = deque(maxlen=_REMEMBERED)

    def layout(self, prefix: str, suffix: str) -> Layout:
        starts = self._prefix_starts(prefix)
        above = cut(prefix, starts) or [""]
        # Whether the suffix starts inside a multi-line string: judged from the end of the file,
        # which is outside strings, because the text hidden at the cursor may hold quotes.
        odd = opens_string(suffix, self._quotes)
        below = cut(suffix, self._suffix_starts(suffix, odd))
        return Layout(above, below)

    def _prefix_starts(self, prefix: str) -> list[int]:
        with self._lock:
            remembered = list(self._prefixes)
        kept: list[int] = []
        for text, starts in list(reversed(remembered))[:_PROBED]:
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
                kept = starts[: low - 1]
        starts = kept + segment_starts(prefix, self._quotes, kept[-1] if kept else 0)
        with self._lock:
            self._prefixes.append((prefix, starts))
        return starts

    def _suffix_starts(self, suffix: str, odd: bool) -> list[int]:
        with self._lock:
            remembered = list(self._suffixes)
        best: list[int] | None = None
        for text, starts, _ in list(reversed(remembered))[:_PROBED]:
            shift = len(suffix) - len(text)
            # The smallest k from which text and suffix end alike.
            low, high = 0, len(starts)
            while low < high:
                middle = (low + high) // 2
                if starts[middle] + shift > 0 and suffix.endswith(text[starts[middle] :]):
                    high = middle
                else:
                    low = middle + 1
            if low + 1 >= len(starts):
                continue
            anchor = starts[low + 1] + shift
            if odd != opens_string(suffix, self._quotes, 0, anchor):
                continue  # the shared text is not outside strings in both: scan it all
            head = segment_starts(suffix, self._quotes, 0, anchor, odd)
            found = [*head, anchor, *(s + shift for s in starts[low + 2 :])]
            if best is None or len(found) - len(head) > len(best):
                best = found
        if best is None:
            best = segment_starts(suffix, self._quotes, 0, None, odd)
        with self._lock:
            self._suffixes.append((suffix, best, odd))
        return best
