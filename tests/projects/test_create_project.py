"""manage.py create_project: a project in an existing group, private unless told otherwise."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from projects.models import Project
from tests.projects.commands import fails, run


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
