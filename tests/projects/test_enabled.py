"""POST /api/v4/code_suggestions/enabled: whether a project has code suggestions
(docs/api.md#enabled)."""

import pytest

from projects.models import Group, InstanceSettings, Project
from tests.conftest import INSUFFICIENT_SCOPE, make_token

URL = "/api/v4/code_suggestions/enabled"
NOT_FOUND = {"message": "404 Not Found"}
FORBIDDEN = {"message": "403 Forbidden"}


@pytest.fixture
def ask(api, world):
    tokens = {user: make_token(user) for user in (world.alice, world.bob, world.charlie)}

    def ask(project_path, user=world.alice):
        return api.post(URL, {"project_path": project_path}, token=tokens[user])

    return ask


def set_flags(obj, **flags):
    for name, value in flags.items():
        setattr(obj, name, value)
    obj.save()


def test_it_answers_200_for_an_enabled_project(ask, world):
    response = ask("acme/platform/tools")
    assert response.status_code == 200
    assert response.content in (b"", b"null")


def test_it_lets_a_member_of_a_parent_group_ask(ask, world):
    assert ask("acme/platform/tools", user=world.bob).status_code == 200


def test_it_answers_403_when_the_project_and_every_group_have_it_off(ask, world):
    set_flags(world.project, code_suggestions=False)
    set_flags(world.subgroup, code_suggestions=False)
    set_flags(world.group, code_suggestions=False)
    response = ask("acme/platform/tools")
    assert response.status_code == 403
    assert response.json() == FORBIDDEN


def test_it_is_on_when_only_the_project_has_it_on(ask, world):
    set_flags(world.subgroup, code_suggestions=False)
    set_flags(world.group, code_suggestions=False)
    assert ask("acme/platform/tools").status_code == 200


def test_it_is_on_when_only_the_parent_group_has_it_on(ask, world):
    set_flags(world.project, code_suggestions=False)
    set_flags(world.group, code_suggestions=False)
    assert ask("acme/platform/tools").status_code == 200


def test_it_is_on_when_only_the_topmost_group_has_it_on(ask, world):
    set_flags(world.project, code_suggestions=False)
    set_flags(world.subgroup, code_suggestions=False)
    assert ask("acme/platform/tools").status_code == 200


def test_a_locking_group_imposes_off_on_a_project_that_has_it_on(ask, world):
    set_flags(world.subgroup, code_suggestions=False, lock_code_suggestions=True)
    response = ask("acme/platform/tools")
    assert response.status_code == 403
    assert response.json() == FORBIDDEN


def test_a_locking_group_imposes_on_over_everything_below(ask, world):
    set_flags(world.group, code_suggestions=True, lock_code_suggestions=True)
    set_flags(world.subgroup, code_suggestions=False)
    set_flags(world.project, code_suggestions=False)
    assert ask("acme/platform/tools").status_code == 200


def test_the_topmost_lock_wins_when_it_says_off(ask, world):
    set_flags(world.group, code_suggestions=False, lock_code_suggestions=True)
    set_flags(world.subgroup, code_suggestions=True, lock_code_suggestions=True)
    assert ask("acme/platform/tools").status_code == 403


def test_the_topmost_lock_wins_when_it_says_on(ask, world):
    set_flags(world.group, code_suggestions=True, lock_code_suggestions=True)
    set_flags(world.subgroup, code_suggestions=False, lock_code_suggestions=True)
    set_flags(world.project, code_suggestions=False)
    assert ask("acme/platform/tools").status_code == 200


def test_the_topmost_lock_wins_across_many_levels(ask, world):
    parent = world.subgroup
    for depth in range(5):
        parent = Group.objects.create(name=f"L{depth}", path=f"l{depth}", parent=parent)
    project = Project.objects.create(name="Deep", path="deep", group=parent)
    set_flags(world.subgroup, code_suggestions=False, lock_code_suggestions=True)
    set_flags(parent.parent, code_suggestions=True, lock_code_suggestions=True)
    assert ask(project.full_path).status_code == 403


def test_an_unlocked_group_does_not_impose_off(ask, world):
    set_flags(world.group, code_suggestions=False, lock_code_suggestions=False)
    set_flags(world.subgroup, code_suggestions=False)
    assert ask("acme/platform/tools").status_code == 200


@pytest.mark.parametrize("forced", ["on", "off"])
def test_the_instance_setting_forced_decides_over_locks(ask, world, forced):
    set_flags(world.group, code_suggestions=forced == "off", lock_code_suggestions=True)
    InstanceSettings(code_suggestions=forced).save()
    assert ask("acme/platform/tools").status_code == (200 if forced == "on" else 403)


def test_the_instance_setting_forced_on_beats_everything_off(ask, world):
    set_flags(world.project, code_suggestions=False)
    set_flags(world.subgroup, code_suggestions=False)
    set_flags(world.group, code_suggestions=False)
    InstanceSettings(code_suggestions="on").save()
    assert ask("acme/platform/tools").status_code == 200


def test_it_matches_the_path_whatever_its_case(ask, world):
    assert ask("ACME/Platform/TOOLS").status_code == 200


def test_it_requires_a_project_path(api, world):
    response = api.post(URL, {}, token=make_token(world.alice))
    assert response.status_code == 400
    assert response.json() == {"error": "project_path is missing"}


def test_it_answers_404_for_an_empty_project_path(ask, world):
    response = ask("")
    assert response.status_code == 404
    assert response.json() == NOT_FOUND


def test_it_answers_404_for_a_missing_project(ask, world):
    response = ask("acme/platform/nothing")
    assert response.status_code == 404
    assert response.json() == NOT_FOUND


def test_it_answers_404_for_a_group_path(ask, world):
    assert ask("acme/platform").status_code == 404


def test_a_private_project_looks_missing_to_an_outsider(ask, world):
    hidden = ask("acme/platform/tools", user=world.charlie)
    missing = ask("acme/platform/nothing", user=world.charlie)
    assert hidden.status_code == missing.status_code == 404
    assert hidden.content == missing.content
    assert hidden.json() == NOT_FOUND


def test_a_disabled_private_project_still_looks_missing_to_an_outsider(ask, world):
    set_flags(world.project, code_suggestions=False)
    set_flags(world.subgroup, code_suggestions=False)
    set_flags(world.group, code_suggestions=False)
    assert ask("acme/platform/tools", user=world.charlie).status_code == 404


def test_an_admin_sees_a_private_project(ask, world):
    world.charlie.is_superuser = True
    world.charlie.save()
    assert ask("acme/platform/tools", user=world.charlie).status_code == 200


def test_a_public_project_is_visible_to_an_outsider(ask, world):
    assert ask("acme/website", user=world.charlie).status_code == 200


def test_an_internal_project_is_visible_to_any_signed_in_user(ask, world):
    set_flags(world.project, visibility="internal")
    assert ask("acme/platform/tools", user=world.charlie).status_code == 200


def test_it_asks_for_credentials_before_parameters(api, world):
    response = api.post(URL, {})
    assert response.status_code == 401
    assert response.json() == {"message": "401 Unauthorized"}


def test_it_refuses_a_read_api_token(api, world):
    response = api.post(
        URL, {"project_path": "acme/website"}, token=make_token(world.alice, ("read_api",))
    )
    assert response.status_code == 403
    assert response.json() == INSUFFICIENT_SCOPE


def test_it_accepts_an_ai_features_token(api, world):
    response = api.post(
        URL, {"project_path": "acme/website"}, token=make_token(world.alice, ("ai_features",))
    )
    assert response.status_code == 200
