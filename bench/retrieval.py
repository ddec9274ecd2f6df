"""Retrieval (projects/retrieval.py), by hand:

    .venv/bin/python bench/retrieval.py [--lines 1000000] [--queries 1000] [--postgres URL]
                                        [--postgres-queries 50]

Latency: the Python files of .venv's site-packages, to `--lines` lines, are indexed as one
project; queries are the QUERY_LINES lines above random lines of those files (their own file left
out). p50/p95/p99 in milliseconds and as a ratio of a baseline measured in the same run: what
every completion does in process for the same request, fitting its prompt (budget_prompt,
context_preamble) and post-processing the line that follows as the model's answer; and the
thread's CPU time, which a busy machine does not inflate.
With `--postgres` (a server URL; a database `retrieval_bench` is created there and dropped
after), the same windows and the first `--postgres-queries` queries in PostgreSQL's full-text
search (GIN, ts_rank), the candidate retrieval was chosen against.

Recall@k on held-out halves: each of a few real packages (Django, requests, rich, click, when
installed) is split by file with a fixed seed; one half is indexed, and at random lines of the
other half's files the QUERY_LINES lines above are the query. Hit: a retrieved window holds the
line (stripped, of at least MIN_LINE_CHARS characters). "anywhere" is the share of lines that
some indexed window holds at all: what retrieval could find.
"""

import argparse
import atexit
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "codesuggest.settings")
os.environ.setdefault("CODESUGGEST_EMBEDDED", "true")
os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-secret-key-long-enough-for-hs256")
os.environ["LOCAL_ENGINE_DIR"] = tempfile.mkdtemp(prefix="retrieval-bench-")
atexit.register(shutil.rmtree, os.environ["LOCAL_ENGINE_DIR"])

import django  # noqa: E402

django.setup()

from completions.languages import detect_language  # noqa: E402
from completions.postprocessing import postprocess_completion  # noqa: E402
from completions.prompts import budget_prompt, context_preamble  # noqa: E402
from projects import retrieval  # noqa: E402

SITE_PACKAGES = ROOT / ".venv" / "lib" / "python3.11" / "site-packages"
SEED = 20261202
RECALL_PACKAGES = ("django", "requests", "rich", "click")
RECALL_KS = (1, 4, 10)
MIN_LINE_CHARS = 10


def python_files(root: Path, max_lines: int) -> dict[str, Path]:
    """The Python files under root, in path order, until `max_lines` lines."""
    found: dict[str, Path] = {}
    lines = 0
    for path in sorted(root.rglob("*.py")):
        try:
            count = path.read_text().count("\n")
        except (UnicodeDecodeError, OSError):
            continue
        found[str(path.relative_to(root))] = path
        lines += count
        if lines >= max_lines:
            break
    return found


def cursors(files: dict[str, Path], count: int, rng: random.Random) -> list[tuple[str, str, str]]:
    """(path, text above the cursor, the line at the cursor) at random non-trivial lines."""
    paths = sorted(files)
    found: list[tuple[str, str, str]] = []
    while len(found) < count:
        path = rng.choice(paths)
        lines = files[path].read_text().splitlines()
        candidates = [
            n
            for n in range(retrieval.QUERY_LINES, len(lines))
            if len(lines[n].strip()) >= MIN_LINE_CHARS
        ]
        if candidates:
            n = rng.choice(candidates)
            found.append((path, "\n".join(lines[:n]) + "\n", lines[n].strip()))
    return found


def percentiles(samples: Sequence[float]) -> tuple[float, float, float]:
    cuts = statistics.quantiles(samples, n=100)
    return cuts[49], cuts[94], cuts[98]


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return (time.perf_counter() - started) * 1000


def timed_on_cpu(action: Callable[[], object], cpu_samples: list[float]) -> float:
    """Wall-clock milliseconds; the thread's CPU milliseconds (the time it ran, however busy
    the machine was) go to `cpu_samples`. tantivy searches in the calling thread."""
    started = time.thread_time()
    wall = timed(action)
    cpu_samples.append((time.thread_time() - started) * 1000)
    return wall


def leave_out(path: str) -> Callable[[str], bool]:
    return lambda other: retrieval.is_named(other, path)


def latency(args: argparse.Namespace) -> None:
    files = python_files(SITE_PACKAGES, args.lines)
    lines = sum(path.read_text().count("\n") for path in files.values())
    started = time.perf_counter()
    retrieval.update_index(project_key="bench", files=files)
    index_seconds = time.perf_counter() - started
    windows = sum(1 for path in files.values() for _ in retrieval.windows(path.read_text()))
    print(f"{len(files)} files, {lines} lines, {windows} windows, indexed in {index_seconds:.1f} s")
    queries = cursors(files, args.queries, random.Random(SEED))
    python = detect_language("x.py")

    def pipeline(above: str, line: str) -> None:
        budget = budget_prompt(prefix=above, suffix="", context=(), max_prompt_tokens=8128)
        context_preamble(budget.context, python)
        postprocess_completion(
            prefix=above, suffix="", suggestion=line, language=python, hit_token_limit=False
        )

    def search(path: str, above: str) -> None:
        retrieval.snippets_like(project_key="bench", code=above, leave_out=leave_out(path))

    def search_unindexed(path: str, above: str) -> None:
        retrieval.snippets_like(project_key="no-index", code=above, leave_out=leave_out(path))

    search(*queries[0][:2])  # opens the index
    # (name, wall-clock samples, CPU samples)
    rows: list[tuple[str, list[float], list[float]]] = [
        ("baseline: prompt and post-processing", [], []),
        ("tantivy: snippets_like", [], []),
        ("a project without an index: snippets_like", [], []),
    ]
    # Interleaved, so that the machine's load weighs alike on each.
    for path, above, line in queries:
        actions = (
            lambda: pipeline(above, line),  # noqa: B023 (called at once)
            lambda: search(path, above),  # noqa: B023
            lambda: search_unindexed(path, above),  # noqa: B023
        )
        for (_, wall, cpu), action in zip(rows, actions, strict=True):
            wall.append(timed_on_cpu(action, cpu))
    if args.postgres:
        asked = queries[: args.postgres_queries]
        rows.append(("PostgreSQL FTS: ts_rank", postgres_latency(args.postgres, files, asked), []))
    base = percentiles(rows[0][1])
    print(
        f"\n| at {lines:,} lines | queries | p50 ms | p95 ms | p99 ms "
        "| p50/p95/p99 ÷ baseline | CPU p50/p95/p99 ms |"
    )
    print("|---|---|---|---|---|---|---|")
    for name, wall, cpu in rows:
        cuts = percentiles(wall)
        ratios = " / ".join(f"{c / b:.1f}" for c, b in zip(cuts, base, strict=True))
        milliseconds = " | ".join(f"{c:.2f}" for c in cuts)
        on_cpu = " / ".join(f"{c:.2f}" for c in percentiles(cpu)) if cpu else "(the server's)"
        print(f"| {name} | {len(wall)} | {milliseconds} | {ratios} | {on_cpu} |")


def postgres_latency(url: str, files: dict[str, Path], queries: list[tuple[str, str, str]]):
    """The same windows and queries in PostgreSQL's full-text search ('simple': no stemming,
    as code is not English), the best SNIPPETS + SPARE_HITS by ts_rank."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as server:
        server.execute("DROP DATABASE IF EXISTS retrieval_bench")
        server.execute("CREATE DATABASE retrieval_bench")
    database = url.rsplit("/", 1)[0] + "/retrieval_bench"
    try:
        with psycopg.connect(database, autocommit=True) as db:
            db.execute(
                "CREATE TABLE chunk (path text, first_line int, code text, "
                "words tsvector GENERATED ALWAYS AS (to_tsvector('simple', code)) STORED)"
            )
            with db.cursor().copy("COPY chunk (path, first_line, code) FROM STDIN") as copy:
                for path, file in files.items():
                    for first_line, code in retrieval.windows(file.read_text()):
                        copy.write_row((path, first_line, code.replace("\0", "")))
            db.execute("CREATE INDEX ON chunk USING gin (words)")
            db.execute("ANALYZE chunk")
            sql = (
                "SELECT path, first_line, code FROM chunk WHERE words @@ to_tsquery('simple', %s) "
                "AND path <> %s ORDER BY ts_rank(words, to_tsquery('simple', %s)) DESC LIMIT %s"
            )
            limit = retrieval.SNIPPETS + retrieval.SPARE_HITS
            samples = []
            for path, above, _ in queries:
                terms = " | ".join(retrieval.query_words(above)) or "nothing"
                samples.append(
                    timed(lambda t=terms, p=path: db.execute(sql, (t, p, t, limit)).fetchall())
                )
            return samples
    finally:
        with psycopg.connect(url, autocommit=True) as server:
            server.execute("DROP DATABASE IF EXISTS retrieval_bench")


def recall(args: argparse.Namespace) -> None:
    columns = " | ".join(f"recall@{k}" for k in RECALL_KS)
    print(f"\n| package (held-out half) | lines asked | anywhere | {columns} |")
    print("|---|---|---|" + "---|" * len(RECALL_KS))
    for package in RECALL_PACKAGES:
        root = SITE_PACKAGES / package
        if not root.is_dir():
            continue
        files = python_files(root, sys.maxsize)
        paths = sorted(files)
        random.Random(SEED).shuffle(paths)
        indexed = {path: files[path] for path in paths[: len(paths) // 2]}
        held_out = {path: files[path] for path in paths[len(paths) // 2 :]}
        key = f"recall-{package}"
        retrieval.update_index(project_key=key, files=indexed)
        indexed_lines = {
            line.strip() for path in indexed.values() for line in path.read_text().splitlines()
        }
        asked = cursors(held_out, args.queries, random.Random(SEED))
        hits = dict.fromkeys(RECALL_KS, 0)
        for path, above, line in asked:
            found = retrieval.snippets_like(
                project_key=key, code=above, leave_out=leave_out(path), limit=max(RECALL_KS)
            )
            for k in RECALL_KS:
                hits[k] += any(line in snippet.text for snippet in found[:k])
        anywhere = sum(line in indexed_lines for _, _, line in asked)
        shares = " | ".join(f"{hits[k] / len(asked):.1%}" for k in RECALL_KS)
        print(f"| {package} | {len(asked)} | {anywhere / len(asked):.1%} | {shares} |")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--postgres", help="e.g. postgresql://postgres@127.0.0.1:5432/postgres")
    # PostgreSQL takes seconds a query at 1,000,000 lines: the first of the queries only.
    parser.add_argument("--postgres-queries", type=int, default=50)
    args = parser.parse_args()
    latency(args)
    recall(args)


if __name__ == "__main__":
    main()
