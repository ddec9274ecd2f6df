"""The built-in engine on real repositories, each with half of its files indexed (issue 14).

    .venv/bin/python bench/engine_projects.py [--work DIR] [--reuse] [--positions N] [--seed S]
        [--only NAME ...] [--sweep] [--served-only] [--opened]

Each repository on the machine (Django, requests, rich and click from the venv, npm's own code
from the global node_modules) is split by file in halves with the seed; one half is indexed as a
project, as `manage.py index_repository` indexes a checkout (the engine's tables and retrieval),
and completions are asked at positions sampled in the other half: the rest of the line at its
start and after its first token (bench/local_engine.py's positions), from the file's text above
the cursor and below the line, as an editor moving down each file sends them. Each position is
asked three ways: without a project; with the project's tables; and as the service asks it,
with the tables and the retrieved snippets put above the file (completions/services.py).

With --opened, each repository is then indexed whole and new lines are opened between two lines
of its files, as in an editor on a project whose index holds the file as committed: it prints how
often the engine answers there, and how often with the line below or above again.

Positions are a seed's: tune with one seed (say --seed 1) and report with the default one, so
that no reported position was tuned on. The Python base model is the standard library; the
JavaScript one is built here from the usual corpus less npm's own files, the evaluated ones.
"""

import argparse
import math
import os
import pathlib
import random
import re
import shutil
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))

ARGUMENTS = argparse.ArgumentParser(description=__doc__)
ARGUMENTS.add_argument("--work", type=pathlib.Path, default=pathlib.Path(tempfile.gettempdir()))
ARGUMENTS.add_argument("--reuse", action="store_true", help="reuse the base models of a run")
ARGUMENTS.add_argument("--positions", type=int, default=400, help="per repository")
ARGUMENTS.add_argument("--seed", type=int, default=20240501)
ARGUMENTS.add_argument("--only", nargs="*", help="the repositories to evaluate (all by default)")
ARGUMENTS.add_argument("--sweep", action="store_true", help="also answers at every threshold")
ARGUMENTS.add_argument("--served-only", action="store_true", help="only as the service asks")
ARGUMENTS.add_argument(
    "--opened", action="store_true", help="also lines opened in files of the index, whole"
)

# Retrieval reads its index's place from the settings, which must be set before Django starts.
WORK = ARGUMENTS.parse_known_args()[0].work / "codesuggest-engine-projects-bench"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "codesuggest.settings")
os.environ.setdefault("CODESUGGEST_EMBEDDED", "true")
os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-secret-key-long-enough-for-hs256")
os.environ["LOCAL_ENGINE_DIR"] = str(WORK)

import django  # noqa: E402

django.setup()

from local_engine import THRESHOLDS, edit_similarity, normalise, positions_in  # noqa: E402
from local_engine import shown as is_shown  # noqa: E402

from codesuggest.providers.local_engine import DEFAULT_MIN_CONFIDENCE, LocalEngine  # noqa: E402
from codesuggest.providers.local_engine.corpora import (  # noqa: E402
    SourceFile,
    build_base_model,
    corpus_files,
    files_under,
)
from codesuggest.providers.local_engine.project import (  # noqa: E402
    SKIPPED_DIRECTORIES,
    looks_generated_or_minified,
)
from completions.languages import detect_language  # noqa: E402
from completions.postprocessing import postprocess_completion  # noqa: E402
from completions.prompts import context_preamble  # noqa: E402
from projects import retrieval  # noqa: E402

SITE_PACKAGES = pathlib.Path(django.__file__).parent.parent
EXTENSIONS = {"python": (".py",), "javascript": (".js", ".mjs", ".cjs")}
# An editor asks at several places in a file; the first request in a file lexes most.
MIN_POSITIONS_PER_FILE = 8
CONDITIONS = ("no index", "tables", "tables+snippets")
MAX_TOKENS = 64


@dataclass(frozen=True)
class Repository:
    name: str
    root: pathlib.Path
    language: str

    def files(self) -> list[SourceFile]:
        """The files indexing would read: vendored directories and minified files left out."""
        found = files_under([self.root], EXTENSIONS[self.language], set(SKIPPED_DIRECTORIES))
        return [f for f in found if not looks_generated_or_minified(f.read())]


REPOSITORIES = (
    Repository("django", SITE_PACKAGES / "django", "python"),
    Repository("requests", SITE_PACKAGES / "requests", "python"),
    Repository("rich", SITE_PACKAGES / "rich", "python"),
    Repository("click", SITE_PACKAGES / "click", "python"),
    Repository("npm", pathlib.Path("/usr/lib/node_modules/npm"), "javascript"),
)


@dataclass
class Result:
    kind: str
    answer: str
    expected: str
    confidence: float
    cpu_ms: float
    first_in_file: bool
    # The best answer whatever its confidence (with --sweep), to judge other thresholds.
    unfiltered: tuple[str, float] | None = None

    @property
    def exact(self) -> bool:
        return bool(self.answer) and normalise(self.answer) == normalise(self.expected)


def build_base_models(reuse: bool) -> None:
    """Python's from the whole standard library; JavaScript's without npm's own files."""
    npm = next(r for r in REPOSITORIES if r.name == "npm").root
    own = {f.path for f in files_under([npm], EXTENSIONS["javascript"], set(SKIPPED_DIRECTORIES))}
    for language in ("python", "javascript"):
        path = WORK / "base" / f"{language}.ngram"
        if reuse and path.exists():
            continue
        files = [f for f in corpus_files(language) if f.path not in own]
        started = time.perf_counter()
        build_base_model(language, files, path)
        print(f"{language} base model: {len(files)} files, {time.perf_counter() - started:.0f} s")


def split(repository: Repository, seed: int) -> tuple[list[SourceFile], list[SourceFile]]:
    files = repository.files()
    random.Random(seed).shuffle(files)
    half = len(files) // 2
    return files[:half], files[half:]


def index(engine: LocalEngine, repository: Repository, indexed: list[SourceFile]) -> str:
    """Index a copy of these files as the project `bench/<name>`; returns its key."""
    key = f"bench/{repository.name}"
    checkout = WORK / "checkouts" / repository.name
    shutil.rmtree(checkout, ignore_errors=True)
    for source in indexed:
        target = checkout / pathlib.Path(source.path).relative_to(repository.root)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(source.read())
    started = time.perf_counter()
    engine.index_repository(project_key=key, directory=checkout)
    retrieval.update_index(project_key=key, files=engine.indexed_files(key))
    print(
        f"{repository.name}: {len(indexed)} files indexed in {time.perf_counter() - started:.0f} s"
    )
    return key


def as_served(text: str, relative: str, project_key: str) -> tuple[str, str]:
    """What the service gives the engine: the retrieved snippets as other files' code, and
    the file above the cursor."""
    snippets = retrieval.snippets_like(
        project_key=project_key, code=text, leave_out=lambda path: path == relative
    )
    return context_preamble(retrieval.as_context(snippets), detect_language(relative)), text


def ask(
    engine: LocalEngine,
    repository: Repository,
    held_out: list[SourceFile],
    positions: int,
    seed: int,
    context_and_prefix: Callable[[str, str], tuple[str, str]],
    project_key: str | None,
    sweep: bool,
) -> list[Result]:
    rng = random.Random(seed)
    per_file = max(MIN_POSITIONS_PER_FILE, math.ceil(positions / max(1, len(held_out))))
    results: list[Result] = []
    for source in held_out:
        if len(results) >= positions:
            break
        text = source.read()
        relative = str(pathlib.Path(source.path).relative_to(repository.root))
        chosen = positions_in(
            text, rng, min(per_file, positions - len(results)), repository.language
        )
        for n, (kind, cursor, end, expected) in enumerate(chosen):
            context, prefix = context_and_prefix(text[:cursor], relative)
            arguments = {
                "prefix": prefix,
                "other_files": context,
                "suffix": text[end:],
                "language": repository.language,
                "project_key": project_key,
                "max_tokens": MAX_TOKENS,
            }
            started = time.process_time()
            suggestions = engine.complete(**arguments)
            cpu_ms = (time.process_time() - started) * 1000
            unfiltered = None
            if sweep:
                best = engine.complete(**arguments, min_confidence=0.0)
                unfiltered = (best[0].text, best[0].confidence) if best else ("", 0.0)
            answer = suggestions[0] if suggestions else None
            results.append(
                Result(
                    kind=kind,
                    answer=answer.text if answer else "",
                    expected=expected,
                    confidence=answer.confidence if answer else 0.0,
                    cpu_ms=cpu_ms,
                    first_in_file=n == 0,
                    unfiltered=unfiltered,
                )
            )
    return results


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))] if ordered else 0.0


def print_table(name: str, by_condition: dict[str, list[Result]]) -> None:
    print(f"\n| {name} | positions | n | EM all | answered | EM of answers | edit sim | "
          "p50 ms | p99 ms | first in file p50 / max ms |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|---|")
    for condition, results in by_condition.items():
        for kind in ("line-start", "mid-line", "all"):
            rows = [r for r in results if kind in ("all", r.kind)]
            answered = [r for r in rows if r.answer]
            exact = sum(r.exact for r in rows)
            similarity = statistics.fmean(
                edit_similarity(normalise(r.answer), normalise(r.expected)) for r in rows
            )
            warm = [r.cpu_ms for r in rows if not r.first_in_file]
            first = [r.cpu_ms for r in rows if r.first_in_file]
            print(
                f"| {condition} | {kind} | {len(rows)} | {exact / len(rows):.1%} "
                f"| {len(answered) / len(rows):.1%} "
                f"| {exact / len(answered) if answered else 0:.1%} | {similarity:.3f} "
                f"| {percentile(warm, 0.5):.1f} | {percentile(warm, 0.99):.1f} "
                f"| {percentile(first, 0.5):.0f} / {max(first, default=0):.0f} |"
            )


def print_sweep(name: str, results: list[Result]) -> None:
    """Answers at each threshold: the share answered, and the exact ones of them and of all."""
    print(
        f"\n{name}, as served: threshold (twice it at line starts) | answered | EM of answers "
        "| EM all"
    )
    for threshold in sorted({*THRESHOLDS, DEFAULT_MIN_CONFIDENCE}):
        shown = [
            r
            for r in results
            if r.unfiltered and r.unfiltered[0] and is_shown(r.unfiltered[1], r.kind, threshold)
        ]
        exact = sum(
            normalise(r.unfiltered[0]) == normalise(r.expected) for r in shown if r.unfiltered
        )
        mark = "  <- default" if threshold == DEFAULT_MIN_CONFIDENCE else ""
        print(
            f"  {threshold:.2f} | {len(shown) / len(results):.1%} "
            f"| {exact / len(shown) if shown else 0:.1%} | {exact / len(results):.1%}{mark}"
        )


def opened_lines(engine: LocalEngine, repository: Repository, seed: int, positions: int) -> None:
    """A new line opened between two lines of a file that the index holds as it is, as in an
    editor on a project indexed whole: how often the engine answers there, and how often with
    the line below or above again (the index saw the line below there); then what is left after
    the service's clean-up (completions/postprocessing.py), which drops a repeat of the line below
    for the languages it parses."""
    files = repository.files()
    key = index(engine, repository, files)
    rng = random.Random(seed)
    counts: Counter[str] = Counter()
    for source in rng.sample(files, min(len(files), positions // 10)):
        text = source.read()
        ends = [m.start() for m in re.finditer("\n", text)][1:-1]
        for end in sorted(rng.sample(ends, min(10, len(ends)))):
            line = text[text.rfind("\n", 0, end) + 1 : end]
            if not line.strip():
                continue
            prefix, suffix = text[:end] + "\n" + line[: len(line) - len(line.lstrip())], text[end:]
            counts["asked"] += 1
            suggestions = engine.complete(
                prefix=prefix, suffix=suffix, language=repository.language, project_key=key,
                max_tokens=MAX_TOKENS,
            )  # fmt: skip
            answer = suggestions[0].text if suggestions else ""
            shown = postprocess_completion(
                prefix=prefix, suffix=suffix, suggestion=answer,
                language=detect_language(source.path), hit_token_limit=False,
            )  # fmt: skip
            below = normalise(next((s for s in suffix.splitlines() if s.strip()), ""))
            for stage, said in (("engine", answer), ("shown", shown)):
                if said:
                    counts[stage] += 1
                    counts[f"{stage} below"] += normalise(said) == below
                    counts[f"{stage} above"] += normalise(said) == normalise(line)
    print(
        f"{repository.name}, lines opened in indexed files: {counts['asked']} asked; the engine "
        f"answered {counts['engine']}, {counts['engine below']} of them with the line below "
        f"again, {counts['engine above']} with the line above; after the clean-up "
        f"{counts['shown']} shown, {counts['shown below']} and {counts['shown above']}"
    )


def first_request_on_largest(held_out: dict[str, list[SourceFile]]) -> None:
    """The first request on the largest held-out file, in the middle of it, to an engine that
    has its models loaded and has served the second largest file of that language."""
    files = sorted(
        ((r.language, f) for r in REPOSITORIES for f in held_out.get(r.name, [])),
        key=lambda pair: -pair[1].size,
    )
    language, source = files[0]
    previous = next(f for other, f in files[1:] if other == language).read()
    engine = LocalEngine(WORK)
    middle = previous.index("\n", len(previous) // 2) + 1
    engine.complete(
        prefix=previous[:middle],
        suffix=previous[middle:],
        language=language,
        project_key=None,
        max_tokens=8,
    )
    text = source.read()
    cursor = text.index("\n", len(text) // 2) + 1
    started, cpu_started = time.perf_counter(), time.process_time()
    engine.complete(
        prefix=text[:cursor], suffix=text[cursor:], language=language, project_key=None,
        max_tokens=MAX_TOKENS,
    )  # fmt: skip
    print(
        f"\nfirst request on the largest held-out file ({source.path}, {len(text):,} characters): "
        f"{(time.perf_counter() - started) * 1000:.0f} ms "
        f"({(time.process_time() - cpu_started) * 1000:.0f} ms CPU)"
    )


def main() -> None:
    arguments = ARGUMENTS.parse_args()
    build_base_models(arguments.reuse)
    for previous in ("checkouts", "projects", "retrieval"):
        shutil.rmtree(WORK / previous, ignore_errors=True)
    held_outs: dict[str, list[SourceFile]] = {}
    for repository in REPOSITORIES:
        if arguments.only and repository.name not in arguments.only:
            continue
        indexed, held_out = split(repository, arguments.seed)
        held_outs[repository.name] = held_out
        key = index(LocalEngine(WORK), repository, indexed)
        served = lambda text, relative, key=key: as_served(text, relative, key)  # noqa: E731
        plain = lambda text, relative: ("", text)  # noqa: E731
        by_condition = {
            # A new engine each time: no file is lexed already.
            condition: ask(
                LocalEngine(WORK),
                repository,
                held_out,
                arguments.positions,
                arguments.seed,
                served if condition == "tables+snippets" else plain,
                None if condition == "no index" else key,
                arguments.sweep and condition == "tables+snippets",
            )
            for condition in CONDITIONS
            if condition == CONDITIONS[-1] or not arguments.served_only
        }
        print_table(repository.name, by_condition)
        if arguments.sweep:
            print_sweep(repository.name, by_condition["tables+snippets"])
        if arguments.opened:
            opened_lines(LocalEngine(WORK), repository, arguments.seed, arguments.positions)
    first_request_on_largest(held_outs)


if __name__ == "__main__":
    main()
