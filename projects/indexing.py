"""Indexing a project's code, from a directory (`manage.py index_repository`) or from its Git
source (`projects.tasks.index_project`, on beat's schedule or the admin's "Re-index now").

Either way the files go to the local engine (incremental: an unchanged file costs a stat) and
then to retrieval's search index, and the project's ProjectIndex row says how it went: the
state and the files looked at so far while it runs, then the files, retrieval's chunks, the
files read, the commit and when, or the error. A Git source is fetched into its own checkout
under LOCAL_ENGINE_DIR/checkouts/, where a checkout writes only the files a commit changed.
"""

import fcntl
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from codesuggest.providers.local_engine import LocalEngine
from codesuggest.providers.local_engine.project import SKIPPED_DIRECTORIES, safe_name
from projects import retrieval
from projects.exclusions import context_exclusions
from projects.git import GitError, checkout, mask_credentials
from projects.models import IndexState, Project, ProjectIndex

logger = logging.getLogger(__name__)

# Progress goes to the database at most this often: a row update per file would cost far more
# than the stat an unchanged file costs.
PROGRESS_EVERY_SECONDS = 1.0

_RUNNING_STATES = (IndexState.FETCHING, IndexState.READING, IndexState.SEARCHABLE)

# (files looked at, files in the checkout)
OnProgress = Callable[[int, int], None]


class IndexingBusy(Exception):
    """The project is being indexed by another run."""


class ProjectDeleted(Exception):
    """The project was deleted while it was being indexed."""


def index_directory(
    *, project: Project, directory: Path, on_progress: OnProgress | None = None
) -> ProjectIndex:
    """Index the checkout in `directory` as the project's code, after any run of the same
    project has ended; the project's record, with the outcome."""
    with _project_lock(project.index_key, wait=True):
        record = _start(ProjectIndex.objects.get_or_create(project=project)[0], IndexState.READING)
        return _run(record, lambda: (directory, ""), on_progress)


def index_git_source(*, project_id: int) -> ProjectIndex | None:
    """Fetch the newest commit of the project's Git source and index it; the project's record,
    or None when it has no Git source or another run is indexing it (that run will have fetched
    as recently, so this one skips rather than waits)."""
    record = (
        ProjectIndex.objects.select_related("project__group")
        .filter(pk=project_id)
        .exclude(git_url="")
        .first()
    )
    if record is None:
        return None
    try:
        with _project_lock(record.project.index_key, wait=False):
            _start(record, IndexState.FETCHING)
            return _run(record, lambda: _fetch(record), None)
    except IndexingBusy:
        logger.info("%s is being indexed already; this run skips it", record.project.full_path)
        return None
    except ProjectDeleted:
        # forget_code, waiting for this run to end, removes what it wrote.
        logger.info("%s was deleted while being indexed; the run stops", record.project.full_path)
        return None


def forget_code(*, index_key: str) -> None:
    """Empty a deleted project's index and remove its checkout, once any run of it has ended:
    a project made later at the same path (the same index key) was served the deleted one's
    code."""
    engine = LocalEngine(settings.LOCAL_ENGINE_DIR)
    searchable = retrieval.index_directory(index_key)
    checkout = _checkout_directory(index_key)
    if not (engine.indexed_files(index_key) or searchable.exists() or checkout.exists()):
        return  # never indexed: nothing to write, not even a lock
    with _project_lock(index_key, wait=True):
        shutil.rmtree(checkout, ignore_errors=True)
        with tempfile.TemporaryDirectory() as nothing:
            engine.index_repository(project_key=index_key, directory=Path(nothing))
        retrieval.update_index(project_key=index_key, files={})
    logger.info("The code of %s, deleted, is forgotten", index_key)


def forget_excluded_code(*, project: Project) -> None:
    """Take the files the project's rules exclude now out of its index, at once rather than at
    its next run: the local engine would suggest their code meanwhile."""
    engine = LocalEngine(settings.LOCAL_ENGINE_DIR)
    excluded = context_exclusions(project).excludes
    if not any(map(excluded, engine.indexed_files(project.index_key))):
        return  # never indexed, or nothing of it excluded: nothing to write, not even a lock
    with _project_lock(project.index_key, wait=True):
        if not engine.forget_files(project_key=project.index_key, excluded=excluded):
            return
        files = engine.indexed_files(project.index_key)
        retrieval.update_index(project_key=project.index_key, files=files)
        chunks = retrieval.window_count(project.index_key)
        ProjectIndex.objects.filter(project=project).update(files=len(files), chunks=chunks)
    logger.info("Files now excluded left the index of %s", project.full_path)


def projects_with_git_sources() -> list[int]:
    return list(ProjectIndex.objects.exclude(git_url="").values_list("pk", flat=True))


def checkout_directory(project: Project) -> Path:
    return _checkout_directory(project.index_key)


def _checkout_directory(index_key: str) -> Path:
    return Path(settings.LOCAL_ENGINE_DIR) / "checkouts" / safe_name(index_key)


def _fetch(record: ProjectIndex) -> tuple[Path, str]:
    directory = checkout_directory(record.project)
    commit = checkout(url=record.git_url, branch=record.git_branch, directory=directory)
    return directory, commit


def _run(
    record: ProjectIndex, source: Callable[[], tuple[Path, str]], on_progress: OnProgress | None
) -> ProjectIndex:
    """Index the (directory, commit) `source` gives, recording the outcome on `record`. A
    failure leaves the previous index as it was, and serving."""
    try:
        directory, commit = source()
        return _index(record, directory, commit, on_progress)
    except ProjectDeleted:
        raise
    except GitError as error:
        return _fail(record, str(error))
    except OSError as error:
        return _fail(record, f"A file could not be read: {error}")
    except BaseException as error:  # a time limit, an interrupted command, a bug
        _fail(record, f"Indexing stopped ({type(error).__name__}); see the log")
        raise


def _index(
    record: ProjectIndex, directory: Path, commit: str, on_progress: OnProgress | None
) -> ProjectIndex:
    project = record.project
    _save(record, state=IndexState.READING)
    engine = LocalEngine(settings.LOCAL_ENGINE_DIR)
    progress = _Progress(record, total=_count_files(directory), on_progress=on_progress)
    report = engine.index_repository(
        project_key=project.index_key,
        directory=directory,
        excludes=progress.counting(
            _only_readable_files_inside(directory, context_exclusions(project).excludes)
        ),
    )
    progress.finish()
    _save(record, state=IndexState.SEARCHABLE)
    files = engine.indexed_files(project.index_key)
    # The same files, searchable for the snippets put in every provider's prompt.
    retrieval.update_index(project_key=project.index_key, files=files)
    _save(
        record,
        state=IndexState.DONE,
        files=len(files),
        chunks=retrieval.window_count(project.index_key),
        files_read=report.indexed,
        files_skipped=report.skipped,
        files_removed=report.removed,
        commit=commit,
        indexed_at=timezone.now(),
        error="",
    )
    logger.info(
        "Indexed %s%s: %d files read, %d unchanged, %d skipped, %d removed",
        project.full_path,
        f" at {commit[:12]}" if commit else "",
        report.indexed,
        report.unchanged,
        report.skipped,
        report.removed,
    )
    return record


def _start(record: ProjectIndex, state: IndexState) -> ProjectIndex:
    return _save(record, state=state, started_at=timezone.now(), files_done=0, files_total=0)


def _fail(record: ProjectIndex, error: str) -> ProjectIndex:
    error = mask_credentials(error)
    logger.warning("Indexing %s failed: %s", record.project.full_path, error)
    return _save(record, state=IndexState.FAILED, error=error)


def _save(record: ProjectIndex, **values: object) -> ProjectIndex:
    """Set and save these fields only: an admin may be changing the source meanwhile."""
    for field, value in values.items():
        setattr(record, field, value)
    if not ProjectIndex.objects.filter(pk=record.pk).update(**values):
        raise ProjectDeleted(record.project.full_path)
    return record


class _Progress:
    """Counts the files the engine looks at, through the exclusion check it makes for each."""

    def __init__(self, record: ProjectIndex, *, total: int, on_progress: OnProgress | None) -> None:
        self.record = record
        self.total = total
        self.on_progress = on_progress
        self.done = 0
        self.reported_at = time.monotonic()
        self._report()

    def counting(self, excludes: Callable[[str], bool]) -> Callable[[str], bool]:
        def counted(relative: str) -> bool:
            self.done += 1
            if time.monotonic() - self.reported_at >= PROGRESS_EVERY_SECONDS:
                self._report()
            return excludes(relative)

        return counted

    def finish(self) -> None:
        # The total counts files .gitignore leaves out, which the engine never looks at.
        self.done = self.total
        self._report()

    def _report(self) -> None:
        self.reported_at = time.monotonic()
        done = min(self.done, self.total)
        ProjectIndex.objects.filter(pk=self.record.pk).update(
            files_done=done, files_total=self.total
        )
        self.record.files_done, self.record.files_total = done, self.total
        if self.on_progress is not None:
            self.on_progress(done, self.total)


def _only_readable_files_inside(
    directory: Path, excludes: Callable[[str], bool]
) -> Callable[[str], bool]:
    """`excludes`, and every file that is not a regular file of the checkout reached by its own
    name: a repository's link to /etc/passwd, or to another project's checkout, would put that
    file in the prompts of this project's users, and a link to an excluded file of its own would
    put that one there under the link's name, which no rule names; reading a FIFO would wait for
    ever, and a broken link failed the whole run. A file that a link names is indexed under its
    own name."""
    root = Path(os.path.realpath(directory))

    def excluded(relative: str) -> bool:
        path = directory / relative
        if not path.is_file() or Path(os.path.realpath(path)) != root / relative:
            return True
        return excludes(relative)

    return excluded


def _count_files(directory: Path) -> int:
    """The files the engine may look at: all but those in the directories it skips."""
    count = 0
    for _current, directories, files in os.walk(directory):
        directories[:] = [name for name in directories if name not in SKIPPED_DIRECTORIES]
        count += len(files)
    return count


def run_was_lost(index: ProjectIndex) -> bool:
    """Whether the record says a run is going that no process runs: its worker was killed (or
    its machine lost) before the run could record how it ended. The broker hands the task out
    again (acks_late), and beat's schedule runs it anyway; until then only this tells."""
    if index.state not in _RUNNING_STATES:
        return False
    running_path = _lock_paths(index.project.index_key)[1]
    try:
        with running_path.open() as running:  # not made here: only runs make it
            fcntl.flock(running, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError:  # a run holds it, or it is on a disk that this host cannot see
        return False
    return True


@contextmanager
def _project_lock(index_key: str, *, wait: bool) -> Iterator[None]:
    """One run a project at a time, across the processes of a host (whose workers and web
    processes share LOCAL_ENGINE_DIR). A run also holds a second lock, the one run_was_lost
    looks at: a look at the first, for an instant, could make a run that does not wait skip."""
    lock_path, running_path = _lock_paths(index_key)
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with lock_path.open("w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            raise IndexingBusy(index_key) from None
        with running_path.open("w") as running:
            fcntl.flock(running, fcntl.LOCK_EX)
            yield  # closing the files lets go of the locks


def _lock_paths(index_key: str) -> tuple[Path, Path]:
    """The lock that runs take, and the one that tells that a run is going."""
    directory, name = Path(settings.LOCAL_ENGINE_DIR) / "indexing", safe_name(index_key)
    return directory / f"{name}.lock", directory / f"{name}.running"
