from django.conf import settings
from django.core.management.base import BaseCommand

from codesuggest.providers.local_engine import LocalEngine


class Command(BaseCommand):
    help = (
        "Build the local engine's base models from source code on this machine (once; "
        "later runs return at once unless --force)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--language", action="append", dest="languages", help="only these")
        parser.add_argument("--force", action="store_true", help="build again")

    def handle(self, *args, languages: list[str] | None, force: bool, **options):
        built = LocalEngine(settings.LOCAL_ENGINE_DIR).build_base_models(
            languages=languages, force=force
        )
        if built and options["verbosity"] > 0:
            self.stderr.write(f"Built the local engine's base models for {', '.join(built)}")
