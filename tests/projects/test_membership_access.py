"""A direct membership of a private project opens it, and losing it closes it again at once,
on every endpoint that looks at projects, cached answers included."""

import pytest

from projects.models import Membership
from tests.completions.conftest import COMPLETIONS, completion_body, upstream  # noqa: F401
from tests.conftest import make_token
from tests.fake_servers import openai_server  # noqa: F401  (upstream's model server)

PRIVATE_PROJECT = "acme/platform/tools"
ENABLED = "/api/v4/code_suggestions/enabled"


@pytest.fixture
def charlie_in_the_project(world):
    """charlie, in no group, a direct member of the private project."""
    Membership.objects.create(user=world.charlie, project=world.project)
    return world


@pytest.mark.usefixtures("upstream")
def test_losing_a_project_membership_hides_the_project_from_completions(
    api, charlie_in_the_project
):
    world = charlie_in_the_project
    for namespace in (world.project, world.subgroup, world.group):
        namespace.code_suggestions = False
        namespace.save()
    token = make_token(world.charlie)
    body = completion_body(project_path=PRIVATE_PROJECT)
    # A member sees that code suggestions are off for it; the decision is now remembered.
    assert api.post(COMPLETIONS, body, token=token).status_code == 403

    Membership.objects.get(user=world.charlie, project=world.project).delete()

    # An outsider's completion ignores a project it cannot see.
    assert api.post(COMPLETIONS, body, token=token).status_code == 200


def test_losing_a_project_membership_hides_the_project_from_the_enabled_check(
    api, charlie_in_the_project
):
    world = charlie_in_the_project
    token = make_token(world.charlie)
    body = {"project_path": PRIVATE_PROJECT}
    assert api.post(ENABLED, body, token=token).status_code == 200

    Membership.objects.get(user=world.charlie, project=world.project).delete()

    response = api.post(ENABLED, body, token=token)
    assert response.status_code == 404
    assert response.json() == {"message": "404 Not Found"}
