"""Benchmark of the built-in local completion engine (run by hand; prints numbers).

    .venv/bin/python bench/local_engine.py [--work DIR] [--reuse] [--positions N]

The Python standard library is split by file with a fixed seed; the base model is built on the
train split only and completions are asked at positions in held-out files: at the start of a line
(after indentation) and mid-line (after the line's first token), predicting the rest of the line
from the text above and the text below (from the next line on). An empty answer is a miss.
"""

import argparse
import http.client
import json
import os
import pathlib
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))

from codesuggest.providers.local_engine import (
    DEFAULT_MIN_CONFIDENCE,
    LINE_START_CONFIDENCE_FACTOR,
    LocalEngine,
)
from codesuggest.providers.local_engine.corpora import (
    SourceFile,
    build_base_model,
    corpus_files,
    files_under,
    python_standard_library,
)
from codesuggest.providers.local_engine.tokens import tokenize

SEED = 20240501
HELD_OUT_SHARE = 0.05
THRESHOLDS = (0.0, 0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5)


def normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text.strip())


def edit_similarity(a: str, b: str) -> float:
    if not a and not b:
        return 1.0
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return 1 - previous[-1] / max(len(a), len(b))


# What a comment line starts with, per language: no position is asked in one.
COMMENT_STARTS = {"python": ("#",), "javascript": ("//", "/*", "*")}


def positions_in(
    text: str, rng: random.Random, count: int, language: str = "python"
) -> list[tuple[str, int, int, str]]:
    """(kind, cursor offset, end of line offset, expected rest of line), in file order."""
    found = []
    offset = 0
    for line in text.splitlines(keepends=True):
        body = line.rstrip("\r\n")
        stripped = body.strip()
        start = offset + len(body) - len(body.lstrip())
        end = offset + len(body)
        offset += len(line)
        if not stripped or stripped.startswith(COMMENT_STARTS[language]):
            continue
        found.append(("line-start", start, end, stripped))
        tokens = tokenize(stripped, language)
        if len(tokens) > 1 and "\n" not in tokens[0]:
            cursor = start + len(tokens[0])
            rest = text[cursor:end].strip()
            if rest:
                found.append(("mid-line", cursor, end, rest))
    chosen = rng.sample(found, min(count, len(found)))
    return sorted(chosen, key=lambda p: p[1])


def evaluate(
    engine: LocalEngine, files: list[SourceFile], total: int, project_key: str | None, seed: int
) -> list[dict[str, object]]:
    rng = random.Random(seed)
    per_file = max(1, total // max(1, len(files)))
    results: list[dict[str, object]] = []
    for source in files:
        text = source.read()
        for kind, cursor, end, expected in positions_in(text, rng, per_file):
            suggestions = engine.complete(
                prefix=text[:cursor],
                suffix=text[end:],
                language="python",
                project_key=project_key,
                max_tokens=64,
                min_confidence=0.0,
            )
            answer = suggestions[0].text if suggestions else ""
            confidence = suggestions[0].confidence if suggestions else 0.0
            results.append(
                {
                    "kind": kind,
                    "exact": bool(answer) and normalise(answer) == normalise(expected),
                    "similarity": edit_similarity(normalise(answer), normalise(expected)),
                    "confidence": confidence,
                }
            )
    return results


def shown(confidence: float, kind: str, threshold: float) -> bool:
    """Whether the engine shows an answer this confident at this threshold: a whole new line
    needs LINE_START_CONFIDENCE_FACTOR times it."""
    factor = LINE_START_CONFIDENCE_FACTOR if kind == "line-start" else 1.0
    return confidence > 0 and confidence >= threshold * factor


def report_accuracy(results: list[dict[str, object]]) -> None:
    print(f"{'positions':<12}{'n':>6}{'exact':>9}{'edit sim':>10}")
    for kind in ("line-start", "mid-line", "all"):
        rows = [r for r in results if kind in ("all", r["kind"])]
        exact = sum(bool(r["exact"]) for r in rows) / len(rows)
        similarity = statistics.fmean(float(r["similarity"]) for r in rows)  # type: ignore[arg-type]
        print(f"{kind:<12}{len(rows):>6}{exact:>9.1%}{similarity:>10.3f}")
    print(f"\n{'threshold':<12}{'answered':>9}{'exact of answered':>19}  (line starts: twice it)")
    for threshold in sorted({*THRESHOLDS, DEFAULT_MIN_CONFIDENCE}):
        answered = [r for r in results if shown(float(r["confidence"]), str(r["kind"]), threshold)]  # type: ignore[arg-type]
        precision = sum(bool(r["exact"]) for r in answered) / len(answered) if answered else 0.0
        mark = "  <- default" if threshold == DEFAULT_MIN_CONFIDENCE else ""
        print(f"{threshold:<12.2f}{len(answered) / len(results):>9.1%}{precision:>19.1%}{mark}")


def large_file_cursors(
    files: list[SourceFile], rng: random.Random
) -> tuple[str, list[tuple[str, str]]]:
    """A file of >160 KB made of held-out code, and 200 (prefix, suffix) pairs with at least
    100 KB above the cursor, at successive positions, as a developer moving down the file."""
    text = ""
    for source in sorted(files, key=lambda f: -f.size):
        text += source.read()
        if len(text) > 160_000:
            break
    lines = [m.end() for m in re.finditer("\n", text) if 100_000 <= m.end() < len(text) - 2000]
    cursors = []
    for cursor in sorted(rng.sample(lines, 200)):
        indent = len(text[cursor:]) - len(text[cursor:].lstrip(" "))
        cursors.append((text[: cursor + indent], text[text.index("\n", cursor) :]))
    return text, cursors


def print_percentiles(label: str, values: list[float]) -> float:
    ordered = sorted(values)
    p50, p99 = ordered[len(ordered) // 2], ordered[int(len(ordered) * 0.99)]
    print(f"  {label:<11} p50 {p50:.1f} ms, p99 {p99:.1f} ms")
    return p50


def measure_latency(engine: LocalEngine, cursors: list[tuple[str, str]]) -> float:
    timings, cpu_timings = [], []
    for prefix, suffix in cursors:
        started, cpu_started = time.perf_counter(), time.process_time()
        engine.complete(
            prefix=prefix, suffix=suffix, language="python", project_key=None, max_tokens=64
        )
        timings.append((time.perf_counter() - started) * 1000)
        cpu_timings.append((time.process_time() - cpu_started) * 1000)
    print(
        f"latency with >=100 KB above the cursor, {len(cursors) - 1} requests at successive "
        f"positions after a first one ({timings[0]:.0f} ms, {cpu_timings[0]:.0f} ms of CPU; it "
        "lexes the code nearest the cursor):"
    )
    print_percentiles("CPU time", cpu_timings[1:])
    return print_percentiles("wall clock", timings[1:])


def measure_http_latency(work: pathlib.Path, cursors: list[tuple[str, str]]) -> float:
    """The same requests through POST /api/v4/code_suggestions/completions of a gunicorn
    server (one worker, production configuration) using the same base model."""
    env = {
        **os.environ,
        "DJANGO_SECRET_KEY": "bench-only-secret-key-long-enough-for-hs256",
        "DATABASE_URL": f"sqlite:///{work / 'bench.sqlite3'}",
        "LOCAL_ENGINE_DIR": str(work),
        "CODE_SUGGESTIONS_RATE_LIMIT": "0",
        "GUNICORN_WORKERS": "1",
        # One process, SQLite and no Redis: production settings refuse that unless told.
        "CODESUGGEST_EMBEDDED": "true",
        "LOG_LEVEL": "WARNING",
    }
    (work / "bench.sqlite3").unlink(missing_ok=True)
    root = pathlib.Path(__file__).resolve().parent.parent

    def manage(*args: str) -> str:
        command = [sys.executable, "manage.py", *args]
        return subprocess.run(
            command, env=env, cwd=root, check=True, capture_output=True, text=True
        ).stdout.strip()

    manage("migrate", "--no-input")
    manage("create_user", "bench")
    token = manage("create_token", "bench")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env["GUNICORN_BIND"] = f"127.0.0.1:{port}"
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "codesuggest.asgi"],
        env=env,
        cwd=root,
    )
    try:
        connection = _connect(port)
        timings = []
        for prefix, suffix in cursors:
            body = json.dumps(
                {
                    "current_file": {
                        "file_name": "big.py",
                        "content_above_cursor": prefix,
                        "content_below_cursor": suffix,
                    }
                }
            )
            started = time.perf_counter()
            connection.request(
                "POST",
                "/api/v4/code_suggestions/completions",
                body,
                {"PRIVATE-TOKEN": token, "Content-Type": "application/json"},
            )
            response = connection.getresponse()
            response.read()
            timings.append((time.perf_counter() - started) * 1000)
            assert response.status == 200, response.status
    finally:
        server.terminate()
        server.wait(10)
    print(f"through the HTTP endpoint ({len(timings[1:])} requests after the first, same cursors):")
    return print_percentiles("wall clock", timings[1:])


def _connect(port: int) -> http.client.HTTPConnection:
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), 1).close()
            return http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--work", type=pathlib.Path, default=pathlib.Path(tempfile.gettempdir()))
    parser.add_argument("--reuse", action="store_true", help="reuse the models of a previous run")
    parser.add_argument("--positions", type=int, default=2000)
    arguments = parser.parse_args()
    work = arguments.work / "codesuggest-local-engine-bench"

    # Held out from the whole standard library, its tests included as before they were left
    # out of the base model, so that numbers from before and after compare.
    files = python_standard_library()
    random.Random(SEED).shuffle(files)
    cut = int(len(files) * HELD_OUT_SHARE)
    held_out = files[:cut]
    left_out = set(held_out)
    train = [f for f in corpus_files("python") if f not in left_out]
    model = work / "base" / "python.ngram"
    print(f"standard library: {len(train)} train files, {len(held_out)} held-out files")
    if not (arguments.reuse and model.exists()):
        started = time.perf_counter()
        build_base_model("python", train, model)
        print(f"base model build: {time.perf_counter() - started:.0f} s")
    print(f"base model size: {model.stat().st_size / 1e6:.1f} MB")

    engine = LocalEngine(work)
    started = time.perf_counter()
    engine.complete(prefix="import ", suffix="", language="python", project_key=None, max_tokens=8)
    print(f"first completion (loads the model): {(time.perf_counter() - started) * 1000:.0f} ms")

    print("\n== held-out standard library files ==")
    report_accuracy(evaluate(engine, held_out, arguments.positions, None, SEED))
    print()
    _, cursors = large_file_cursors(held_out, random.Random(SEED))
    in_engine = measure_latency(engine, cursors)
    through_http = measure_http_latency(work, cursors)
    print(f"  HTTP / engine p50 ratio: {through_http / in_engine:.2f}x")

    print("\n== half of a repository indexed (Django from .venv) ==")
    django = pathlib.Path(__import__("django").__file__).parent
    django_files = files_under([django], (".py",), skip_parts=set())
    random.Random(SEED).shuffle(django_files)
    half = len(django_files) // 2
    indexed_half, other_half = django_files[:half], django_files[half:]
    project_dir = work / "django-half"
    shutil.rmtree(project_dir, ignore_errors=True)
    shutil.rmtree(work / "projects", ignore_errors=True)
    for source in indexed_half:
        target = project_dir / pathlib.Path(source.path).relative_to(django)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(source.read())
    started = time.perf_counter()
    report = engine.index_repository(project_key="bench/django", directory=project_dir)
    print(f"indexing half of Django ({report}): {time.perf_counter() - started:.1f} s")
    started = time.perf_counter()
    report = engine.index_repository(project_key="bench/django", directory=project_dir)
    print(f"indexing it again ({report}): {time.perf_counter() - started:.2f} s")
    sample = other_half[:60]
    for key in (None, "bench/django"):
        results = evaluate(engine, sample, arguments.positions // 2, key, SEED + 1)
        exact = sum(bool(r["exact"]) for r in results) / len(results)
        label = "with index" if key else "without index"
        print(f"{label:<15} n={len(results)}  exact {exact:.1%}")


if __name__ == "__main__":
    main()
