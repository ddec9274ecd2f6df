"""manage.py add_member: a user becomes a member of a group or a project."""

from projects.models import Membership
from tests.conftest import make_token
from tests.projects.commands import fails, run


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
