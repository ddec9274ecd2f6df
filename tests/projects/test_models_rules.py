"""The rules the models decide, asked directly: who sees a group, and what the admin calls each
record. (Who sees a project, the enabled rule and the token checks are asked through the API in
the other files here.)"""

import pytest

from projects.models import (
    AccessLevel,
    Group,
    InstanceSettings,
    Membership,
    PersonalAccessToken,
    User,
)


@pytest.fixture
def dave(db) -> User:
    """A fourth user, in no group and no project yet."""
    return User.objects.create_user("dave")


def test_a_blocked_member_does_not_see_the_group(world):
    world.bob.is_active = False
    world.bob.save()

    assert not world.group.is_visible_to(world.bob)


def test_an_admin_sees_a_group_without_being_a_member(world, dave):
    dave.is_superuser = True
    dave.save()

    assert world.subgroup.is_visible_to(dave)


def test_a_member_of_a_subgroup_sees_the_groups_above_it(world, dave):
    Membership.objects.create(user=dave, group=world.subgroup)

    assert world.group.is_visible_to(dave)


def test_a_member_of_a_project_sees_every_group_above_it(world, dave):
    Membership.objects.create(user=dave, project=world.project)

    assert world.subgroup.is_visible_to(dave)
    assert world.group.is_visible_to(dave)


def test_an_outsider_sees_only_groups_with_a_project_that_is_not_private(world, dave):
    # The private project alone hides its subgroup; the public one opens the topmost group.
    assert not world.subgroup.is_visible_to(dave)
    assert world.group.is_visible_to(dave)

    world.project.visibility = "internal"
    world.project.save()

    assert world.subgroup.is_visible_to(dave)


def test_membership_of_a_group_named_alike_opens_nothing(world, dave):
    # "acme/platform-labs" starts with "acme/platform" but is not below it.
    lookalike = Group.objects.create(name="Labs", path="platform-labs", parent=world.group)
    Membership.objects.create(user=dave, group=lookalike)

    assert not world.subgroup.is_visible_to(dave)


def test_the_admin_names_each_record_as_gitlab_does(world):
    token, _ = PersonalAccessToken.create(user=world.bob, name="laptop", scopes=["api"])
    project_membership = Membership.objects.create(
        user=world.charlie, project=world.project, access_level=AccessLevel.REPORTER
    )

    assert str(world.subgroup) == "acme/platform"
    assert str(world.project) == "acme/platform/tools"
    assert str(Membership.objects.get(user=world.bob)) == "bob in acme"
    assert str(project_membership) == "charlie in acme/platform/tools"
    assert str(token) == "laptop (bob)"
    assert str(InstanceSettings.load()) == "Instance settings"
