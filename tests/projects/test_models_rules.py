"""The rules the models decide, asked directly: who sees a group, which paths are refused and
why, which rule decided the code-suggestions switch, and what the admin calls each record. (The
same rules through the API and the admin are in the other files here.)"""

import pytest
from django.core.exceptions import ValidationError

from projects.models import (
    AccessLevel,
    Group,
    InstanceSettings,
    Membership,
    PersonalAccessToken,
    Project,
    User,
    code_suggestions_decision,
    validate_path,
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


def test_a_path_gitlab_would_refuse_is_refused_saying_what_a_path_may_hold():
    with pytest.raises(ValidationError) as refused:
        validate_path("-tools")

    assert refused.value.code == "invalid_path"
    assert refused.value.message == (
        "'-tools' is not a valid path: use letters, digits, '_', '-' and '.', "
        "starting and ending with a letter or digit"
    )


def test_a_group_moved_below_itself_is_refused_on_its_parent(world):
    world.group.parent = world.subgroup

    with pytest.raises(ValidationError) as refused:
        world.group.clean()

    assert refused.value.message_dict == {"parent": ["A group cannot be its own ancestor."]}


def test_a_project_named_as_a_group_is_refused_on_its_path(world):
    clash = Project(name="Platform", path="platform", group=world.group)

    with pytest.raises(ValidationError) as refused:
        clash.clean()

    assert refused.value.message_dict == {"path": ["acme/platform is already taken."]}


@pytest.mark.parametrize(
    ("forced", "project_on", "groups_on", "decision"),
    [
        ("off", True, True, (False, "forced by the instance setting")),
        ("on", False, False, (True, "forced by the instance setting")),
        ("", True, False, (True, "on in the project")),
        ("", False, False, (False, "off in the project and all its groups")),
    ],
)
def test_the_decision_says_which_rule_decided(world, forced, project_on, groups_on, decision):
    instance = InstanceSettings.load()
    instance.code_suggestions = forced
    instance.save()
    world.project.code_suggestions = project_on
    world.project.save()
    for group in (world.group, world.subgroup):
        group.code_suggestions = groups_on
        group.save()

    made = code_suggestions_decision(world.project)

    assert (made.enabled, made.reason) == decision
    assert made.enabled is decision[0]


def test_a_project_is_found_by_its_path_with_its_group_in_one_query(
    world, django_assert_num_queries
):
    with django_assert_num_queries(1):
        found = Project.objects.by_full_path("ACME/Platform/Tools")
        assert found.group.full_path == "acme/platform"


def test_the_instance_settings_come_from_the_shared_cache_and_a_save_is_seen_at_once(
    db, django_assert_num_queries
):
    InstanceSettings.load()
    # Every request reads them: after the first read, without a query.
    with django_assert_num_queries(0):
        assert InstanceSettings.load().code_suggestions == ""

    instance = InstanceSettings.load()
    instance.code_suggestions = "off"
    instance.save()

    assert InstanceSettings.load().code_suggestions == "off"
    assert InstanceSettings.objects.get().pk == 1
