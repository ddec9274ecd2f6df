"""manage.py create_user: a user, or an admin with a password."""

from projects.models import User
from tests.projects.commands import fails, run


def test_create_user_creates_a_user_silently(db):
    assert run("create_user", "dave", "--email", "dave@example.com") == ""
    dave = User.objects.get(username="dave")
    assert dave.email == "dave@example.com"
    assert not dave.is_superuser
    assert not dave.has_usable_password()


def test_create_user_can_create_an_admin_with_a_password(db):
    run("create_user", "root", "--admin", "--password", "correct-horse-battery")
    root = User.objects.get(username="root")
    assert root.is_superuser
    assert root.is_staff
    assert root.check_password("correct-horse-battery")


def test_create_user_refuses_a_taken_username(world):
    assert "alice" in fails("create_user", "alice")


def test_create_user_refuses_an_invalid_username(db):
    fails("create_user", "no spaces please")
    assert not User.objects.exists()
