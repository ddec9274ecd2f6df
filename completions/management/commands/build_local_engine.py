import os
import pathlib
import subprocess
import sys
import time

from django.conf import settings
from django.core.management.base import BaseCommand

from codesuggest.providers.local_engine import LocalEngine

MANAGE_PY = pathlib.Path(__file__).resolve().parents[3] / "manage.py"


class Command(BaseCommand):
    help = (
        "Build the local engine's base models from source code on this machine (once; "
        "later runs return at once unless --force)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--language", action="append", dest="languages", help="only these")
        parser.add_argument("--force", action="store_true", help="build again")
        parser.add_argument(
            "--background",
            action="store_true",
            help="build in a process of its own, logged to LOCAL_ENGINE_DIR/build.log, and "
            "return at once",
        )

    def handle(self, *args, languages: list[str] | None, force: bool, background: bool, **options):
        engine = LocalEngine(settings.LOCAL_ENGINE_DIR)
        if background:
            self.start_in_background(engine, languages=languages, force=force)
            return
        started = time.monotonic()
        built = engine.build_base_models(languages=languages, force=force)
        if built and options["verbosity"] > 0:
            self.stderr.write(
                f"Built the local engine's base models for {', '.join(built)} "
                f"in {time.monotonic() - started:.0f} s"
            )

    def start_in_background(
        self, engine: LocalEngine, *, languages: list[str] | None, force: bool
    ) -> None:
        # The server answers from the file and the project's index meanwhile and reads each model
        # as soon as it is written: `make run` on a fresh clone serves minutes sooner (the build
        # took 2.5 minutes of a 2-core machine when quiet, 8.5 when busy).
        missing = engine.missing_base_models(languages=languages)
        if not (missing or force):
            return
        log_path = settings.LOCAL_ENGINE_DIR / "build.log"
        log_path.parent.mkdir(parents=True, exist_ok=True)
        command = [sys.executable, str(MANAGE_PY), "build_local_engine"]
        command += [f"--language={language}" for language in languages or []]
        command += ["--force"] * force
        # Niced, so that requests win over the build for the cores; in a session of its own, so
        # that stopping the server with Ctrl-C leaves it to finish for the next start. Appended
        # to: a second build started meanwhile waits for the first and logs beside it.
        with open(log_path, "ab") as log:
            subprocess.Popen(  # noqa: S603 - our own command, with arguments we parsed
                ["nice", "-n", "10", *command],  # noqa: S607 - POSIX's nice, wherever it lives
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                # Where this process looked, should its settings not come from the environment.
                env={**os.environ, "LOCAL_ENGINE_DIR": str(settings.LOCAL_ENGINE_DIR)},
                start_new_session=True,
            )
        self.stdout.write(
            "The local engine's base models are being built in the background (a few minutes, "
            f"the first time only); suggestions get better once they are. Log: {log_path}"
        )
