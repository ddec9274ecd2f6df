from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from projects.indexing import index_directory
from projects.models import IndexState, Project


class Command(BaseCommand):
    help = (
        "Feed a checkout's code to the local engine and to retrieval for a project "
        "(incremental: unchanged files cost nothing; .gitignore'd, vendored, generated, "
        "minified and huge files are skipped, and so are those the project's context "
        "exclusions name). With -v 2 the run's counts on standard error; with -v 3 its "
        "progress as well."
    )

    def add_arguments(self, parser):
        parser.add_argument("full_path", help="the project, e.g. acme/platform/tools")
        parser.add_argument("directory", type=Path, help="a checkout of its code")

    def handle(self, *args, full_path: str, directory: Path, **options):
        project = Project.objects.by_full_path(full_path)
        if project is None:
            raise CommandError(f"No project at {full_path}")
        if not directory.is_dir():
            raise CommandError(f"{directory} is not a directory")
        verbosity = options["verbosity"]
        record = index_directory(
            project=project,
            directory=directory,
            on_progress=self._progress if verbosity > 2 else None,
        )
        if record.state == IndexState.FAILED:
            raise CommandError(record.error)
        if verbosity > 1:
            self.stderr.write(
                f"{record.files_read} indexed, {record.files - record.files_read} unchanged, "
                f"{record.files_skipped} skipped, {record.files_removed} removed"
            )
        if verbosity > 2:
            self.stderr.write(f"{record.files} files and {record.chunks} chunks in the index")

    def _progress(self, done: int, total: int) -> None:
        self.stderr.write(f"{done}/{total} files looked at")
