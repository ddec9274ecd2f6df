from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from codesuggest.providers.local_engine import LocalEngine
from projects import retrieval
from projects.exclusions import context_exclusions
from projects.models import Project


class Command(BaseCommand):
    help = (
        "Feed a checkout's code to the local engine and to retrieval for a project "
        "(incremental: unchanged files cost nothing; .gitignore'd, vendored, generated, "
        "minified and huge files are skipped, and so are those the project's context "
        "exclusions name)."
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
        engine = LocalEngine(settings.LOCAL_ENGINE_DIR)
        report = engine.index_repository(
            project_key=project.index_key,
            directory=directory,
            excludes=context_exclusions(project).excludes,
        )
        # The same files, searchable for the snippets put in every provider's prompt.
        retrieval.update_index(
            project_key=project.index_key, files=engine.indexed_files(project.index_key)
        )
        if options["verbosity"] > 1:
            self.stderr.write(
                f"{report.indexed} indexed, {report.unchanged} unchanged, "
                f"{report.skipped} skipped, {report.removed} removed"
            )
