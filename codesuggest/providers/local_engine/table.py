"""N-gram counts in one file of sorted hash arrays, memory-mapped so worker processes share them.

For every kept context (the hash of up to `max_order` previous tokens, see tokens.context_hashes)
the file holds its total count, its number of distinct continuations, and its most frequent
continuations with their counts. Looking a context up is a binary search in the mapped array.
"""

import functools
import json
import mmap
import os
import pathlib
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from .tokens import HASH_MULTIPLIER, token_key

_MAGIC = b"CSNGRAM1"
_ALIGN = 64
# Multiplier that turns a (context, token id) pair into one sortable key.
_PAIR_MULTIPLIER = np.uint64(0xC2B2AE3D27D4EB4F)


@dataclass(frozen=True)
class ContextStats:
    total: float
    distinct: int
    counts: dict[str, float]


def build_table(
    streams: Iterable[Sequence[str]],
    path: pathlib.Path,
    *,
    max_order: int,
    top_k: int = 12,
    unigram_top_k: int = 512,
    min_context_count: int = 2,
) -> None:
    """Count the n-grams of the token streams (one per file) and write them to `path` atomically."""
    vocab: dict[str, int] = {}
    ids_parts: list[np.ndarray] = []
    position_parts: list[np.ndarray] = []
    for stream in streams:
        if stream:
            ids_parts.append(
                np.fromiter((vocab.setdefault(t, len(vocab)) for t in stream), np.int64)
            )
            position_parts.append(np.arange(len(stream), dtype=np.int64))
    words = list(vocab)
    ids = np.concatenate(ids_parts) if ids_parts else np.zeros(0, np.int64)
    position_in_file = np.concatenate(position_parts) if position_parts else ids.copy()
    keys = np.fromiter((token_key(w) for w in words), np.uint64, len(words))[ids]

    context_arrays, entry_arrays = [], []
    hashes = np.zeros(len(ids), np.uint64)
    multiplier = np.uint64(HASH_MULTIPLIER)
    for order in range(max_order + 1):
        if order:
            shifted = hashes.copy()
            shifted[order:] = hashes[order:] * multiplier + keys[:-order]
            hashes = shifted
        valid = position_in_file >= order
        limit = unigram_top_k if order == 0 else top_k
        minimum = min_context_count if order >= 2 else 1
        contexts, entries = _count_order(hashes[valid], ids[valid], limit, minimum)
        context_arrays.append(contexts)
        entry_arrays.append(entries)
    _write(path, words, np.concatenate(context_arrays), np.concatenate(entry_arrays), max_order)


def build_keyed_table(
    keys: np.ndarray, followers: Sequence[str], path: pathlib.Path, *, top_k: int = 12
) -> None:
    """Count what followed each key (any 64-bit hash, one per follower) and write them to `path`
    as a table whose contexts are the keys themselves."""
    vocab: dict[str, int] = {}
    ids = np.fromiter(
        (vocab.setdefault(f, len(vocab)) for f in followers), np.int64, len(followers)
    )
    contexts, entries = _count_order(keys.astype(np.uint64), ids, top_k, 1)
    _write(path, list(vocab), contexts, entries, max_order=0)


def _count_order(
    contexts: np.ndarray, tokens: np.ndarray, limit: int, minimum: int
) -> tuple[np.ndarray, np.ndarray]:
    """Per context (hash, total, distinct) and its top entries (hash, rank, token, count)."""
    pairs = contexts * _PAIR_MULTIPLIER + tokens.astype(np.uint64)
    _, first, counts = np.unique(pairs, return_index=True, return_counts=True)
    pair_context, pair_token = contexts[first], tokens[first]
    order = np.lexsort((-counts, pair_context))
    pair_context, pair_token, counts = pair_context[order], pair_token[order], counts[order]
    context_hash, context_first, distinct = np.unique(
        pair_context, return_index=True, return_counts=True
    )
    if len(context_hash) == 0:
        return np.zeros(0, _CONTEXT_DTYPE), np.zeros(0, _ENTRY_DTYPE)
    totals = np.add.reduceat(counts, context_first)
    rank = np.arange(len(counts)) - np.repeat(context_first, distinct)
    kept_context = totals >= minimum
    kept_entry = (rank < limit) & np.repeat(kept_context, distinct)

    context_rows = np.zeros(int(kept_context.sum()), _CONTEXT_DTYPE)
    context_rows["hash"] = context_hash[kept_context]
    context_rows["total"] = totals[kept_context]
    context_rows["distinct"] = distinct[kept_context]
    entry_rows = np.zeros(int(kept_entry.sum()), _ENTRY_DTYPE)
    entry_rows["hash"] = pair_context[kept_entry]
    entry_rows["rank"] = rank[kept_entry]
    entry_rows["token"] = pair_token[kept_entry]
    entry_rows["count"] = counts[kept_entry]
    return context_rows, entry_rows


_CONTEXT_DTYPE = np.dtype([("hash", np.uint64), ("total", np.uint32), ("distinct", np.uint32)])
_ENTRY_DTYPE = np.dtype(
    [("hash", np.uint64), ("rank", np.uint32), ("token", np.int64), ("count", np.uint32)]
)


def _write(
    path: pathlib.Path,
    words: list[str],
    contexts: np.ndarray,
    entries: np.ndarray,
    max_order: int,
) -> None:
    contexts = contexts[np.argsort(contexts["hash"], kind="stable")]
    entries = entries[np.lexsort((entries["rank"], entries["hash"]))]
    used, token_ids = np.unique(entries["token"], return_inverse=True)
    blob_parts = [words[i].encode("utf-8", "surrogatepass") for i in used.tolist()]
    offsets = np.zeros(len(blob_parts) + 1, np.uint64)
    offsets[1:] = np.cumsum([len(b) for b in blob_parts])
    arrays = {
        "context_hash": contexts["hash"].copy(),
        "context_total": contexts["total"].copy(),
        "context_distinct": contexts["distinct"].copy(),
        "context_start": np.searchsorted(entries["hash"], contexts["hash"]).astype(np.uint32),
        "entry_token": token_ids.astype(np.uint32),
        "entry_count": entries["count"].copy(),
        "word_offset": offsets,
        "word_blob": np.frombuffer(b"".join(blob_parts), np.uint8),
    }
    arrays["context_start"] = np.append(arrays["context_start"], np.uint32(len(entries)))
    header: dict[str, object] = {"max_order": max_order, "arrays": {}}
    offset = 0
    for name, array in arrays.items():
        header["arrays"][name] = [array.dtype.str, len(array), offset]  # type: ignore[index]
        offset += -(-array.nbytes // _ALIGN) * _ALIGN
    header_bytes = json.dumps(header).encode()
    data_start = -(-(len(_MAGIC) + 8 + len(header_bytes)) // _ALIGN) * _ALIGN

    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with temporary.open("wb") as out:
        out.write(_MAGIC + struct.pack("<Q", len(header_bytes)) + header_bytes)
        for name, array in arrays.items():
            out.seek(data_start + header["arrays"][name][2])  # type: ignore[index]
            out.write(array.tobytes())
        out.truncate(data_start + offset)
    os.replace(temporary, path)


class NgramTable:
    """A table file mapped read-only; lookups are cached per process."""

    def __init__(self, path: pathlib.Path) -> None:
        with path.open("rb") as f:
            self._map = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        if self._map[: len(_MAGIC)] != _MAGIC:
            raise ValueError(f"{path} is not an n-gram table")
        (length,) = struct.unpack_from("<Q", self._map, len(_MAGIC))
        header = json.loads(self._map[len(_MAGIC) + 8 : len(_MAGIC) + 8 + length])
        data_start = -(-(len(_MAGIC) + 8 + length) // _ALIGN) * _ALIGN
        self.max_order: int = header["max_order"]
        self.size_bytes = len(self._map)
        arrays = {
            name: np.frombuffer(self._map, np.dtype(dtype), count=count, offset=data_start + offset)
            for name, (dtype, count, offset) in header["arrays"].items()
        }
        self._hash = arrays["context_hash"]
        self._total = arrays["context_total"]
        self._distinct = arrays["context_distinct"]
        self._start = arrays["context_start"]
        self._token = arrays["entry_token"]
        self._count = arrays["entry_count"]
        self._word_offset = arrays["word_offset"]
        self._word_blob = arrays["word_blob"]
        self.lookup = functools.lru_cache(maxsize=1 << 17)(self._lookup)

    def _lookup(self, context: int) -> ContextStats | None:
        key = np.uint64(context)
        index = int(np.searchsorted(self._hash, key))
        if index >= len(self._hash) or self._hash[index] != key:
            return None
        start, end = int(self._start[index]), int(self._start[index + 1])
        counts = {
            self._word(token): float(count)
            for token, count in zip(
                self._token[start:end].tolist(), self._count[start:end].tolist(), strict=True
            )
        }
        return ContextStats(float(self._total[index]), int(self._distinct[index]), counts)

    @functools.lru_cache(maxsize=1 << 16)  # noqa: B019 - tables live as long as the process
    def _word(self, token: int) -> str:
        start, end = int(self._word_offset[token]), int(self._word_offset[token + 1])
        return self._word_blob[start:end].tobytes().decode("utf-8", "surrogatepass")
