from django.core.management.base import BaseCommand

from projects.management.commands._base import fails_clearly, on_off
from projects.services import group_create


class Command(BaseCommand):
    help = "Create a group, and any missing groups above it."

    def add_arguments(self, parser):
        parser.add_argument("full_path")
        parser.add_argument("--name", default="")
        parser.add_argument("--code-suggestions", default="on", choices=["on", "off"])
        parser.add_argument("--lock", action="store_true", help="impose the setting below")

    @fails_clearly
    def handle(
        self, *args, full_path: str, name: str, code_suggestions: str, lock: bool, **options
    ):
        group_create(
            full_path=full_path, name=name, code_suggestions=on_off(code_suggestions), lock=lock
        )
