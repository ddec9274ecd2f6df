"""Retrieval: the snippets of a project's other files most like the code a request is about.

Repository-level completion gains most from code of the same repository put in the prompt
(CrossCodeEval: exact match about doubles with BM25-retrieved snippets), whatever the model. So an
indexed project's files (those `index_repository` gave the local engine, less its context
exclusions) are cut into windows of WINDOW_LINES lines every STRIDE_LINES lines (RepoCoder's and
CrossCodeEval's windows) and searched with BM25 in a tantivy index, one a project on disk under
LOCAL_ENGINE_DIR/retrieval/, which every web and worker process opens read-only and reopens
after a commit.

tantivy rather than PostgreSQL's full-text search, measured on the same windows of 1,000,000
lines (bench/retrieval.py), in one run on a busy machine: a median of 1.9 ms against 1.7 s, a
p95 of 27 ms against 5.5 s (6.6 ms when the machine is quieter). PostgreSQL ranks every window
holding any of the query's words; tantivy skips those that cannot reach the top (block-max
WAND). And tantivy serves the embedded mode, on SQLite, as well.

A project without an index costs one stat a request.
"""

import os
import re
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import tantivy
from django.conf import settings

from codesuggest.providers.local_engine.project import exclusive, safe_name
from projects.exclusions import repository_paths

WINDOW_LINES = 20
STRIDE_LINES = 10
# The query: the code just above the cursor, as CrossCodeEval's retrieval takes it.
QUERY_LINES = 10
SNIPPETS = 4
# Query words in more windows than this share are left out of a large index's queries: at
# 1,000,000 lines of Python, the search's median fell from 2.1 to 0.8 ms (bench/retrieval.py),
# recall@4 within ±0.4 points (a tenth: 0.5 ms, but recall@4 0.5 to 0.8 points lower). A small
# index is searched quickly whatever the words, and in a few windows every word is common.
COMMON_SHARE = 0.25
LARGE_INDEX_WINDOWS = 10_000
# Hits fetched beyond SNIPPETS, to make up for those of the current file, of files the editor
# sent already, of newly excluded files and overlapping windows.
SPARE_HITS = 12
# tantivy's default tokenizer: runs of letters and digits, lower-cased, none over 40 bytes.
_WORD = re.compile(r"[^\W_]+")
_MAX_WORD_BYTES = 40
_WRITER_HEAP_BYTES = 64_000_000
# What the index holds: each file's text file in the local engine (named by its digest), so that
# only new and changed files are read again.
_STATE = "files.txt"


@dataclass(frozen=True)
class Snippet:
    path: str
    first_line: int  # 1-based
    text: str


def _schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    # "raw": the whole path is one term, so that a changed file's windows are deleted by it.
    builder.add_text_field("path", stored=True, tokenizer_name="raw")
    builder.add_integer_field("first_line", stored=True)
    builder.add_text_field("code", stored=True)
    return builder.build()


_SCHEMA = _schema()


def index_directory(project_key: str) -> Path:
    return Path(settings.LOCAL_ENGINE_DIR) / "retrieval" / safe_name(project_key)


# Indexing ---------------------------------------------------------------------------------------


def update_index(*, project_key: str, files: Mapping[str, Path]) -> int:
    """Bring the project's retrieval index to `files` (each indexed file's path in the checkout
    and the file holding its text, named by its content's digest): the windows of new and
    changed files are added, those of changed and removed files deleted. The number of files
    whose windows changed."""
    directory = index_directory(project_key)
    directory.mkdir(parents=True, exist_ok=True)
    # A second indexing of the project waits (tantivy's own lock would make it fail), then
    # finds the index up to date.
    with exclusive(directory / ".lock"):
        held = _read_state(directory)
        wanted = {path: text_file.name for path, text_file in files.items()}
        changed = [p for p in held.keys() | wanted.keys() if held.get(p) != wanted.get(p)]
        if not changed and tantivy.Index.exists(str(directory)):
            return 0
        index = tantivy.Index(_SCHEMA, path=str(directory), reuse=True)
        writer = index.writer(heap_size=_WRITER_HEAP_BYTES, num_threads=1)
        for path in sorted(changed):
            writer.delete_documents_by_term("path", path)
            if path in files:
                _add_windows(writer, path, files[path].read_text())
        writer.commit()
        writer.wait_merging_threads()
        _write_state(directory, wanted)
        return len(changed)


def _add_windows(writer: tantivy.IndexWriter, path: str, text: str) -> None:
    for first_line, window in windows(text):
        writer.add_document(tantivy.Document(path=path, first_line=first_line, code=window))


def windows(text: str) -> Iterable[tuple[int, str]]:
    """(first line, text) of each window of the file, overlapping by half; blank ones left out."""
    lines = text.splitlines()
    for start in range(0, max(len(lines) - STRIDE_LINES, 1), STRIDE_LINES):
        window = "\n".join(lines[start : start + WINDOW_LINES])
        if window.strip():
            yield start + 1, window


def _read_state(directory: Path) -> dict[str, str]:
    state = directory / _STATE
    if not state.exists():
        return {}
    return dict(line.split("\0", 1) for line in state.read_text().splitlines())


def _write_state(directory: Path, files: Mapping[str, str]) -> None:
    temporary = directory / f".{_STATE}.{os.getpid()}"
    temporary.write_text("".join(f"{path}\0{name}\n" for path, name in sorted(files.items())))
    os.replace(temporary, directory / _STATE)


# Searching --------------------------------------------------------------------------------------


def snippets_like(
    *,
    project_key: str | None,
    code: str,
    leave_out: Callable[[str], bool],
    limit: int = SNIPPETS,
) -> list[Snippet]:
    """The `limit` windows of the project's indexed files most like the last QUERY_LINES lines
    of `code` (BM25), best first, but those of the files `leave_out` names (the current file,
    those the editor sent, the excluded ones) and windows overlapping a better one."""
    searcher = _searcher(project_key) if project_key else None
    if searcher is None:
        return []
    words = _telling_words(searcher, query_words(code))
    if not words:
        return []
    query = tantivy.Query.boolean_query(
        [(tantivy.Occur.Should, tantivy.Query.term_query(_SCHEMA, "code", w)) for w in words]
    )
    found: list[Snippet] = []
    for _score, address in searcher.search(query, limit + SPARE_HITS, count=False).hits:
        document = searcher.doc(address)
        snippet = Snippet(document["path"][0], document["first_line"][0], document["code"][0])
        if not leave_out(snippet.path) and not any(_overlap(snippet, s) for s in found):
            found.append(snippet)
            if len(found) == limit:
                break
    return found


def query_words(code: str) -> list[str]:
    """The query's terms: the words of the last QUERY_LINES lines of `code`, cut as tantivy's
    default tokenizer cuts the indexed code."""
    text = "\n".join(code.splitlines()[-QUERY_LINES:])
    words = dict.fromkeys(_WORD.findall(text.lower()))
    return [word for word in words if len(word.encode()) <= _MAX_WORD_BYTES]


def _telling_words(searcher: tantivy.Searcher, words: list[str]) -> list[str]:
    """The words but those in more than COMMON_SHARE of the windows (self, return, if): BM25
    gives them little weight, and their long postings were most of a search's time."""
    if searcher.num_docs < LARGE_INDEX_WINDOWS:
        return words
    most = COMMON_SHARE * searcher.num_docs
    return [word for word in words if searcher.doc_freq("code", word) <= most]


def _overlap(a: Snippet, b: Snippet) -> bool:
    return a.path == b.path and abs(a.first_line - b.first_line) < WINDOW_LINES


def is_named(path: str, file_name: str) -> bool:
    """Whether the indexed `path` is the file a client names `file_name` (the file being edited,
    one it sends along), read as context exclusions read it (an absolute name or URI by its
    tails)."""
    return path in repository_paths(file_name)


class _Searchers:
    """Each process's open indexes, reloaded when a commit has replaced one's meta.json (which
    tantivy writes to a new file and renames: a new inode)."""

    def __init__(self) -> None:
        self._open: dict[Path, tuple[tuple[int, int], tantivy.Index]] = {}
        self._lock = threading.Lock()

    def searcher(self, directory: Path) -> tantivy.Searcher | None:
        try:
            meta = (directory / "meta.json").stat()
        except FileNotFoundError:
            return None  # the project has no index
        version = (meta.st_ino, meta.st_mtime_ns)
        with self._lock:
            seen, index = self._open.get(directory, (None, None))
            if index is None:
                index = tantivy.Index.open(str(directory))
            elif seen != version:
                index.reload()
            self._open[directory] = (version, index)
        return index.searcher()


_searchers = _Searchers()


def _searcher(project_key: str) -> tantivy.Searcher | None:
    return _searchers.searcher(index_directory(project_key))


def window_count(project_key: str) -> int:
    """How many windows the project's index holds (0 without one)."""
    searcher = _searcher(project_key)
    return searcher.num_docs if searcher is not None else 0


def as_context(snippets: Sequence[Snippet]) -> tuple[tuple[str, str], ...]:
    """Snippets as context items: named by their file, as the editor names the files it sends."""
    return tuple((snippet.path, snippet.text) for snippet in snippets)
