from django.core.management.base import BaseCommand

from projects.management.commands._base import fails_clearly, on_off
from projects.models import Visibility
from projects.services import project_create


class Command(BaseCommand):
    help = "Create a project in an existing group."

    def add_arguments(self, parser):
        parser.add_argument("full_path")
        visibility = parser.add_mutually_exclusive_group()
        for choice in Visibility.values:
            visibility.add_argument(
                f"--{choice}", dest="visibility", action="store_const", const=choice
            )
        parser.add_argument("--code-suggestions", default="on", choices=["on", "off"])

    @fails_clearly
    def handle(
        self, *args, full_path: str, visibility: str | None, code_suggestions: str, **options
    ):
        project_create(
            full_path=full_path,
            visibility=visibility or Visibility.PRIVATE,
            code_suggestions=on_off(code_suggestions),
        )
