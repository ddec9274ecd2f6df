from datetime import date

from django.core.management.base import BaseCommand, CommandError

from projects.management.commands._base import existing_user, fails_clearly
from projects.models import PersonalAccessToken, Scope


def parse_scopes(value: str) -> list[str]:
    scopes = [scope.strip() for scope in value.split(",") if scope.strip()]
    unknown = sorted(set(scopes) - set(Scope.values))
    if not scopes or unknown:
        named = ", ".join(unknown) or "(none)"
        raise CommandError(f"Unknown scope(s) {named}; choose from {', '.join(Scope.values)}")
    return scopes


def parse_date(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--expires-at must be YYYY-MM-DD, not {value!r}") from None


class Command(BaseCommand):
    help = "Create a personal access token; prints only its plaintext, which is shown just once."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="cli")
        parser.add_argument("--scopes", default="api,ai_features")
        parser.add_argument("--expires-at", help="YYYY-MM-DD; the token stops working that day")

    @fails_clearly
    def handle(
        self, *args, username: str, name: str, scopes: str, expires_at: str | None, **options
    ):
        _, plaintext = PersonalAccessToken.create(
            user=existing_user(username),
            name=name,
            scopes=parse_scopes(scopes),
            expires_at=parse_date(expires_at),
        )
        self.stdout.write(plaintext)
