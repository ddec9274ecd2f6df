"""manage.py set_code_suggestions: code suggestions on or off for a group or a project, and a
group's lock."""

from tests.conftest import make_token
from tests.projects.commands import fails, run


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
