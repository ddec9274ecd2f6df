"""Base models per language, built from source code that is on every machine running the service.

- python: the Python standard library of the running interpreter, less its tests;
- javascript (also used for typescript and tsx): JavaScript shipped inside installed Python
  packages (Django admin, DRF, ...) and in the global node_modules (npm, corepack);
- java: the JDK's `lib/src.zip` when a JDK with sources is installed.
"""

import concurrent.futures
import fcntl
import glob
import multiprocessing
import os
import pathlib
import re
import site
import sys
import sysconfig
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass

from .project import MAX_FILE_BYTES, looks_generated_or_minified
from .table import build_table
from .tokens import tokenize

BASE_ORDER = 5
# Keeps the Java model near 100 MB; java.base comes first so the core library is always in.
MAX_CORPUS_BYTES = 40_000_000
# Below this much source, starting worker processes costs more than it saves.
_PARALLEL_FROM_BYTES = 2_000_000
# The standard library's own tests are left out of Python's model: they are 60 % of its files
# and taught it unittest's idioms (self.assertEqual(...), tearDown) where projects' code went
# on. Without them, exact matches on held-out halves of Django, requests, rich and click rose by
# 0.3 to 1.0 points (bench/engine_projects.py, tuning seed).
_PYTHON_TESTS = re.compile(r"/(test|tests|idle_test)/|/test_\w*\.py$")
_BASE_OF_LANGUAGE = {
    "python": "python",
    "javascript": "javascript",
    "typescript": "javascript",
    "tsx": "javascript",
    "java": "java",
}


@dataclass(frozen=True)
class SourceFile:
    path: str  # a file, or a zip archive holding `member`
    member: str = ""
    size: int = 0

    def read(self) -> str:
        if self.member:
            with zipfile.ZipFile(self.path) as archive:
                data = archive.read(self.member)
        else:
            data = pathlib.Path(self.path).read_bytes()
        return data.decode("utf-8", errors="replace")


def base_language(language: str) -> str:
    """The base model a language uses, or "" when it has none."""
    return _BASE_OF_LANGUAGE.get(language, "")


def build_base_models(
    base_dir: pathlib.Path, *, languages: Sequence[str] | None, force: bool
) -> list[str]:
    base_dir.mkdir(parents=True, exist_ok=True)
    # One build at a time (make run's in the background, the release step, a command typed
    # meanwhile): the next waits for it and then finds its models built, instead of spending the
    # same minutes on the same files.
    with open(base_dir / ".build.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        built = []
        for language in _wanted(languages):
            path = base_dir / f"{language}.ngram"
            if path.exists() and not force:
                continue
            files = corpus_files(language)
            if files:
                build_base_model(language, files, path)
                built.append(language)
        return built


def missing_base_models(base_dir: pathlib.Path, *, languages: Sequence[str] | None) -> list[str]:
    """The base models a build would make now: not built yet, with code on this machine."""
    return [
        language
        for language in _wanted(languages)
        if not (base_dir / f"{language}.ngram").exists() and corpus_files(language)
    ]


def _wanted(languages: Sequence[str] | None) -> list[str]:
    # In the order of _BASE_OF_LANGUAGE, Python first: the engine reads each model as soon as it
    # is written, and make run's demo project is Python. On 2 busy cores Python's took 3.5
    # minutes, after the 7.5 of Java's when the order was alphabetical.
    every = list(dict.fromkeys(_BASE_OF_LANGUAGE.values()))
    wanted = {base_language(x) for x in languages} if languages else set(every)
    return [language for language in every if language in wanted]


def build_base_model(language: str, files: Sequence[SourceFile], path: pathlib.Path) -> None:
    """Tokenise the files (in parallel when there are many) and write the model to `path`.

    Workers are spawned, not forked (forking a threaded server is unsafe), so the calling
    program's main module must be import-safe, as manage.py, gunicorn and celery are.
    """
    jobs = [(f, language) for f in files]
    if sum(f.size for f in files) < _PARALLEL_FROM_BYTES:
        streams = [_tokens(job) for job in jobs]
    else:
        context = multiprocessing.get_context("spawn")
        with concurrent.futures.ProcessPoolExecutor(os.cpu_count(), mp_context=context) as pool:
            streams = list(pool.map(_tokens, jobs, chunksize=16))
    build_table(streams, path, max_order=BASE_ORDER)


def _tokens(job: tuple[SourceFile, str]) -> list[str]:
    source, language = job
    text = source.read()
    if looks_generated_or_minified(text):
        return []
    return tokenize(text, language)


def corpus_files(language: str) -> list[SourceFile]:
    """The files the base model of a language is built from, in a stable order."""
    if language == "python":
        return _python_files()
    if language == "javascript":
        return _javascript_files()
    if language == "java":
        return _java_files()
    return []


def _python_files() -> list[SourceFile]:
    return [f for f in python_standard_library() if not _PYTHON_TESTS.search(f.path)]


def python_standard_library() -> list[SourceFile]:
    stdlib = pathlib.Path(sysconfig.get_paths()["stdlib"])
    return files_under([stdlib], (".py",), skip_parts={"site-packages"})


def _javascript_files() -> list[SourceFile]:
    roots = [pathlib.Path(p) for p in [*site.getsitepackages(), sys.prefix]]
    roots.append(pathlib.Path("/usr/lib/node_modules"))
    roots.append(pathlib.Path("/usr/local/lib/node_modules"))
    files = files_under(roots, (".js", ".mjs", ".cjs"), skip_parts=set())
    unique = {pathlib.Path(f.path).resolve(): f for f in files if not f.path.endswith(".min.js")}
    return sorted(unique.values(), key=lambda f: f.path)


def _java_files() -> list[SourceFile]:
    candidates = [os.environ.get("JAVA_HOME", ""), *sorted(glob.glob("/usr/lib/jvm/*"))]
    for home in candidates:
        archive = pathlib.Path(home, "lib", "src.zip")
        if home and archive.is_file():
            return _zip_files(archive)
    return []


def _zip_files(archive: pathlib.Path) -> list[SourceFile]:
    with zipfile.ZipFile(archive) as opened:
        members = [
            i for i in opened.infolist() if i.filename.endswith(".java") and i.file_size < 500_000
        ]
    members.sort(key=lambda i: (not i.filename.startswith("java.base/"), i.filename))
    files, total = [], 0
    for info in members:
        if total + info.file_size > MAX_CORPUS_BYTES:
            break
        files.append(SourceFile(str(archive), info.filename, info.file_size))
        total += info.file_size
    return files


def files_under(
    roots: list[pathlib.Path], extensions: tuple[str, ...], skip_parts: set[str]
) -> list[SourceFile]:
    files = []
    for root in roots:
        if not root.is_dir():
            continue
        for current, directories, names in os.walk(root):
            directories[:] = sorted(d for d in directories if d not in skip_parts)
            for name in sorted(names):
                path = os.path.join(current, name)
                if name.endswith(extensions) and os.path.isfile(path):
                    size = os.path.getsize(path)
                    if size <= MAX_FILE_BYTES:
                        files.append(SourceFile(path, size=size))
    return files
