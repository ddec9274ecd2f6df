import json
import os
import secrets
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from projects.models import Group, PersonalAccessToken, User, Visibility, token_digest
from projects.services import group_create, member_add, project_create

ADMIN = "admin"
DEMO_PROJECT = "demo/hello"
# Enough code above the cursor to be a completion, which the built-in engine answers.
EXAMPLE_FILE = {
    "file_name": "hello.py",
    "content_above_cursor": (
        "import os\nimport sys\n\n\ndef read_lines(path):\n    with open(path) as f:\n"
        "        return f.read().splitlines()\n\n\nif __name__ == "
    ),
    "content_below_cursor": "\n",
}
TOKEN_NAME = "quickstart"  # noqa: S105 - the token's label


class Command(BaseCommand):
    help = (
        "Prepare the embedded run: the database's migrations, an admin and a demo project "
        "(once), and a token that stays valid from one start to the next."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--url", default="http://127.0.0.1:8000", help="where the server will answer"
        )
        parser.add_argument(
            "--build-engine",
            action="store_true",
            help="start building the local engine's base models in the background first",
        )

    def handle(self, *args, url: str, build_engine: bool, **options):
        # One Django start for all of `make run`'s set-up, where there were three: each costs
        # 1.3 s on a quiet machine and 5-10 s on a busy one, before the first serve.
        if build_engine:
            call_command("build_local_engine", background=True, stdout=self.stdout)
        call_command("migrate", interactive=False, verbosity=0)
        local_dir = settings.BASE_DIR / "var"
        password_file = local_dir / "admin-password"
        admin = User.objects.filter(username=ADMIN).first()
        if admin is None:
            admin = self._create_admin(password_file)
        if not Group.objects.filter(full_path__iexact="demo").exists():
            group_create(full_path="demo", name="Demo")
            project_create(full_path=DEMO_PROJECT, visibility=Visibility.PRIVATE)
            member_add(full_path="demo", user=admin)
        token = quickstart_token(admin, local_dir / "quickstart-token")
        self._print_welcome(url, token, password_file)

    def _create_admin(self, password_file: Path) -> User:
        password = secrets.token_urlsafe(12)
        admin = User.objects.create_superuser(ADMIN, email="admin@example.com", password=password)
        write_private(password_file, password)
        return admin

    def _print_welcome(self, url: str, token: str, password_file: Path) -> None:
        password = password_file.read_text() if password_file.exists() else "(set earlier)"
        body = json.dumps({"project_path": DEMO_PROJECT, "current_file": EXAMPLE_FILE})
        self.stdout.write(
            f"""
codesuggest is starting on {url}
  Admin:  {url}/admin/  user {ADMIN}, password {password}
  Token:  {token}
  Try:    curl -s -X POST {url}/api/v4/code_suggestions/completions \\
            -H "PRIVATE-TOKEN: {token}" -H "Content-Type: application/json" \\
            -d '{body}'
"""
        )


def quickstart_token(admin: User, token_file: Path) -> str:
    """The token printed last time while it still works; otherwise a new one, kept for next time.

    Editors configured with the printed token keep working across restarts. When it stops
    working (revoked in the admin, expired, or the database was recreated) a new one is made;
    older tokens are left as they are, for the admin to revoke.
    """
    if token_file.exists():
        stored = token_file.read_text().strip()
        token = PersonalAccessToken.objects.filter(digest=token_digest(stored), user=admin).first()
        if token is not None and token.is_active():
            return stored
    _, plaintext = PersonalAccessToken.create(
        user=admin, name=TOKEN_NAME, scopes=["api", "ai_features"]
    )
    # Tokens live only as digests in the database; this file is the one deliberate exception,
    # for the local development login. It sits beside the local database (which holds all
    # the rest anyway), readable by this user only, like the admin password.
    write_private(token_file, plaintext)
    return plaintext


def write_private(path: Path, text: str) -> None:
    """Write `text` to a file only its owner may read (0600), whatever was there before."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # Created 0600 from the start, so the secret is never readable by others, not even briefly;
    # chmod as well for a file left with wider permissions by an older version.
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(descriptor, 0o600)
    with os.fdopen(descriptor, "w") as file:
        file.write(text)
