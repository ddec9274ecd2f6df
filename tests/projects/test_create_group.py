"""manage.py create_group: a group and any missing parents, at paths GitLab would accept."""

import pytest

from projects.models import Group
from tests.projects.commands import fails, run


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
