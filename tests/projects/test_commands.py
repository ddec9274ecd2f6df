"""The management commands admins and deployment scripts use (operations.md). Success is silent
apart from create_token's plaintext; a failure is one line on stderr and a non-zero exit."""

import os
import subprocess
import sys
from datetime import date
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from projects.models import Group, Membership, PersonalAccessToken, Project, User, token_digest
from tests.conftest import make_token
from tests.services import database_url_for_processes


def run(*args: str) -> str:
    """Run a command in-process; its stdout (stderr must stay empty)."""
    stdout, stderr = StringIO(), StringIO()
    call_command(*args, stdout=stdout, stderr=stderr)
    assert stderr.getvalue() == ""
    return stdout.getvalue()


def fails(*args: str) -> str:
    with pytest.raises(CommandError) as excinfo:
        call_command(*args, stdout=StringIO(), stderr=StringIO())
    return str(excinfo.value)


# create_user


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


# create_group


def test_create_group_creates_missing_parents(db):
    assert run("create_group", "acme/platform/backend", "--name", "Backend") == ""
    backend = Group.objects.get(full_path="acme/platform/backend")
    assert backend.name == "Backend"
    assert backend.parent.full_path == "acme/platform"
    assert backend.parent.parent.full_path == "acme"


def test_create_group_reuses_existing_parents_whatever_their_case(world):
    run("create_group", "ACME/platform/backend")
    assert Group.objects.get(path="backend").parent == world.subgroup
    assert Group.objects.count() == 3


def test_create_group_sets_and_locks_code_suggestions(db):
    run("create_group", "locked", "--code-suggestions", "off", "--lock")
    group = Group.objects.get(full_path="locked")
    assert group.code_suggestions is False
    assert group.lock_code_suggestions is True


def test_create_group_refuses_a_path_taken_in_another_case(world):
    assert "taken" in fails("create_group", "ACME/Platform")


def test_create_group_refuses_the_path_of_a_project(world):
    assert "taken" in fails("create_group", "acme/website")


@pytest.mark.parametrize(
    "path",
    ["-acme", "acme-", "ac--me", "ac.-me", "a_", ".hidden", "repo.git", "feed.atom", "sp ace", "ü"],
)
def test_create_group_refuses_a_path_gitlab_would_refuse(db, path):
    fails("create_group", path)
    assert not Group.objects.exists()


@pytest.mark.parametrize("path", ["a", "acme", "my-group", "my_group", "v1.2", "A1", "git"])
def test_create_group_accepts_a_path_gitlab_accepts(db, path):
    run("create_group", path)
    assert Group.objects.get().full_path == path


def test_create_group_refuses_an_invalid_parent_path_and_creates_nothing(db):
    fails("create_group", "good/-bad/child")
    assert not Group.objects.exists()


def test_create_group_nests_without_a_depth_limit(db):
    full_path = "/".join(f"level{depth}" for depth in range(12))
    run("create_group", full_path)
    deepest = Group.objects.get(full_path=full_path)
    assert len(deepest.lineage()) == 12
    assert Group.objects.count() == 12


# create_project


def test_create_project_creates_a_private_project_by_default(world):
    assert run("create_project", "acme/platform/api") == ""
    project = Project.objects.get(full_path="acme/platform/api")
    assert project.group == world.subgroup
    assert project.visibility == "private"
    assert project.code_suggestions is True


@pytest.mark.parametrize("visibility", ["private", "internal", "public"])
def test_create_project_takes_a_visibility(world, visibility):
    run("create_project", "acme/docs", f"--{visibility}")
    assert Project.objects.get(full_path="acme/docs").visibility == visibility


def test_create_project_refuses_two_visibilities(world):
    with pytest.raises(CommandError):
        call_command("create_project", "acme/docs", "--public", "--private", stderr=StringIO())


def test_create_project_can_turn_code_suggestions_off(world):
    run("create_project", "acme/docs", "--code-suggestions", "off")
    assert Project.objects.get(full_path="acme/docs").code_suggestions is False


def test_create_project_refuses_a_missing_group(world):
    assert "nowhere" in fails("create_project", "nowhere/docs")


def test_create_project_refuses_a_project_without_a_group(world):
    fails("create_project", "lonely")
    assert not Project.objects.filter(path="lonely").exists()


def test_create_project_refuses_a_path_taken_in_another_case(world):
    assert "taken" in fails("create_project", "acme/Website")


def test_create_project_refuses_the_path_of_a_group(world):
    assert "taken" in fails("create_project", "acme/platform")


def test_create_project_refuses_an_invalid_path(world):
    fails("create_project", "acme/web..site")


# add_member


def test_add_member_to_a_group_lets_the_user_see_its_private_projects(api, world):
    token = make_token(world.charlie)
    assert run("add_member", "acme", "charlie") == ""
    response = api.post(
        "/api/v4/code_suggestions/enabled", {"project_path": "acme/platform/tools"}, token=token
    )
    assert response.status_code == 200


def test_add_member_to_a_project(world):
    run("add_member", "acme/platform/tools", "charlie")
    assert Membership.objects.filter(user=world.charlie, project=world.project).exists()


def test_add_member_twice_is_harmless(world):
    run("add_member", "acme", "bob")
    assert Membership.objects.filter(user=world.bob).count() == 1


def test_add_member_refuses_an_unknown_user(world):
    assert "nobody" in fails("add_member", "acme", "nobody")


def test_add_member_refuses_an_unknown_path(world):
    assert "nowhere" in fails("add_member", "nowhere", "charlie")


# create_token


def test_create_token_prints_only_a_working_token(api, world):
    output = run("create_token", "charlie")
    plaintext = output.strip()
    assert output == plaintext + "\n"
    assert plaintext.split() == [plaintext]
    response = api.get("/api/v4/user", token=plaintext)
    assert response.json()["username"] == "charlie"
    token = PersonalAccessToken.objects.get(user=world.charlie)
    assert token.name == "cli"
    assert token.scopes == ["api", "ai_features"]
    assert token.expires_at is None


def test_create_token_takes_a_name_scopes_and_an_expiry(world):
    run("create_token", "bob", "--name", "ci", "--scopes", "read_api", "--expires-at", "2099-01-31")
    token = PersonalAccessToken.objects.get(user=world.bob)
    assert token.name == "ci"
    assert token.scopes == ["read_api"]
    assert token.expires_at == date(2099, 1, 31)


def test_create_token_refuses_an_unknown_scope(world):
    assert "sudo" in fails("create_token", "bob", "--scopes", "api,sudo")
    assert not PersonalAccessToken.objects.exists()


def test_create_token_refuses_a_bad_date(world):
    assert "YYYY-MM-DD" in fails("create_token", "bob", "--expires-at", "31/01/2099")


def test_create_token_refuses_an_unknown_user(world):
    assert "nobody" in fails("create_token", "nobody")


# set_code_suggestions


def test_set_code_suggestions_turns_a_project_off(api, world):
    token = make_token(world.alice)
    world.group.code_suggestions = False
    world.group.save()
    world.subgroup.code_suggestions = False
    world.subgroup.save()
    assert run("set_code_suggestions", "acme/platform/tools", "off") == ""
    response = api.post(
        "/api/v4/code_suggestions/enabled", {"project_path": "acme/platform/tools"}, token=token
    )
    assert response.status_code == 403


def test_set_code_suggestions_locks_a_group(api, world):
    token = make_token(world.alice)
    run("set_code_suggestions", "ACME", "off", "--lock")
    world.group.refresh_from_db()
    assert world.group.code_suggestions is False
    assert world.group.lock_code_suggestions is True
    response = api.post(
        "/api/v4/code_suggestions/enabled", {"project_path": "acme/website"}, token=token
    )
    assert response.status_code == 403


def test_set_code_suggestions_without_lock_releases_a_lock(world):
    run("set_code_suggestions", "acme", "off", "--lock")
    run("set_code_suggestions", "acme", "off")
    world.group.refresh_from_db()
    assert world.group.lock_code_suggestions is False


def test_set_code_suggestions_refuses_to_lock_a_project(world):
    fails("set_code_suggestions", "acme/website", "off", "--lock")
    world.public_project.refresh_from_db()
    assert world.public_project.code_suggestions is True


def test_set_code_suggestions_refuses_an_unknown_path(world):
    assert "nowhere" in fails("set_code_suggestions", "nowhere", "on")


# as a process: what a deployment script sees


def manage(*args: str) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "DJANGO_SECRET_KEY": "x",
        "DATABASE_URL": database_url_for_processes(),
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.django_db(transaction=True)
def test_a_failing_command_says_why_on_stderr_and_exits_non_zero():
    result = manage("add_member", "nowhere", "nobody")
    assert result.returncode != 0
    assert result.stdout == ""
    assert "nobody" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.django_db(transaction=True)
def test_create_token_prints_only_the_token_as_a_process():
    User.objects.create_user("erin")
    result = manage("create_token", "erin")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert (
        PersonalAccessToken.objects.get(digest=token_digest(result.stdout.strip())).user.username
        == "erin"
    )
