from django.core.management.base import BaseCommand, CommandError

from projects.management.commands._base import fails_clearly
from projects.models import User


class Command(BaseCommand):
    help = "Create a user."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--email", default="")
        parser.add_argument("--admin", action="store_true", help="an instance administrator")
        parser.add_argument("--password", help="without one, the user signs in with tokens only")

    @fails_clearly
    def handle(
        self, *args, username: str, email: str, admin: bool, password: str | None, **options
    ):
        if User.objects.filter(username=username).exists():
            raise CommandError(f"A user named {username} already exists")
        user = User(username=username, email=email, is_staff=admin, is_superuser=admin)
        user.set_password(password) if password else user.set_unusable_password()
        user.full_clean()
        user.save()
