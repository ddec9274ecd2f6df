from django.core.management.base import BaseCommand

from projects.management.commands._base import fails_clearly, on_off
from projects.services import code_suggestions_set


class Command(BaseCommand):
    help = "Turn code suggestions on or off for a group or project (--lock imposes a group's)."

    def add_arguments(self, parser):
        parser.add_argument("full_path")
        parser.add_argument("state", choices=["on", "off"])
        parser.add_argument("--lock", action="store_true")

    @fails_clearly
    def handle(self, *args, full_path: str, state: str, lock: bool, **options):
        code_suggestions_set(full_path=full_path, enabled=on_off(state), lock=lock)
