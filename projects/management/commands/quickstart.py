import json
import secrets

from django.conf import settings
from django.core.management.base import BaseCommand

from projects.models import Group, PersonalAccessToken, User, Visibility
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
    help = "Prepare the embedded run: an admin and a demo project (once), and a fresh token."

    def handle(self, *args, **options):
        password_file = settings.BASE_DIR / "var" / "admin-password"
        admin = User.objects.filter(username=ADMIN).first()
        if admin is None:
            admin = self._create_admin(password_file)
        if not Group.objects.filter(full_path__iexact="demo").exists():
            group_create(full_path="demo", name="Demo")
            project_create(full_path=DEMO_PROJECT, visibility=Visibility.PRIVATE)
            member_add(full_path="demo", user=admin)
        self._print_welcome(admin, password_file)

    def _create_admin(self, password_file) -> User:
        password = secrets.token_urlsafe(12)
        admin = User.objects.create_superuser(ADMIN, email="admin@example.com", password=password)
        # Kept beside the local database (which holds everything else anyway), readable by
        # this user only, so the login is still at hand on the next start.
        password_file.parent.mkdir(parents=True, exist_ok=True)
        password_file.touch(mode=0o600)
        password_file.write_text(password)
        return admin

    def _print_welcome(self, admin: User, password_file) -> None:
        # Each start hands out a new token and revokes the previous quickstart one.
        for previous in PersonalAccessToken.objects.filter(user=admin, name=TOKEN_NAME):
            previous.revoked = True
            previous.save()
        _, token = PersonalAccessToken.create(
            user=admin, name=TOKEN_NAME, scopes=["api", "ai_features"]
        )
        password = password_file.read_text() if password_file.exists() else "(set earlier)"
        url = "http://127.0.0.1:8000"
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
