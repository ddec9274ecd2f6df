from django.core.management.base import BaseCommand

from projects.management.commands._base import existing_user, fails_clearly
from projects.services import member_add


class Command(BaseCommand):
    help = "Make a user a member of a group (and everything below it) or of a project."

    def add_arguments(self, parser):
        parser.add_argument("full_path")
        parser.add_argument("username")

    @fails_clearly
    def handle(self, *args, full_path: str, username: str, **options):
        member_add(full_path=full_path, user=existing_user(username))
