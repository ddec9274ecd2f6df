"""The cached answer to "may this completion name this project, and is code suggestions on for
it?" (projects/access.py): kept per user, and dropped the moment an instance setting changes.

The project here is private and has code suggestions off: bob, a member, sees it and gets 403;
charlie, an outsider, cannot see it, so his completion ignores it and gets 200."""

import pytest
from django.test import Client

from projects.models import User
from tests.completions.conftest import COMPLETIONS, completion_body, upstream  # noqa: F401
from tests.conftest import INSTANCE_SETTINGS_PAGE, instance_settings_form, make_token
from tests.fake_servers import openai_server  # noqa: F401  (upstream's model server)

pytestmark = pytest.mark.usefixtures("upstream")

PRIVATE_PROJECT = "acme/platform/tools"


@pytest.fixture
def switched_off(world):
    for namespace in (world.project, world.subgroup, world.group):
        namespace.code_suggestions = False
        namespace.save()
    return world


def complete(api, user, project_path=PRIVATE_PROJECT) -> int:
    body = completion_body(project_path=project_path)
    return api.post(COMPLETIONS, body, token=make_token(user)).status_code


def test_an_outsiders_answer_never_reaches_a_member(api, switched_off):
    assert complete(api, switched_off.charlie) == 200

    assert complete(api, switched_off.bob) == 403


def test_a_members_answer_never_reaches_an_outsider(api, switched_off):
    assert complete(api, switched_off.bob) == 403

    # Nor does it tell him the project exists.
    assert complete(api, switched_off.charlie) == 200


def test_forcing_code_suggestions_on_for_the_instance_applies_at_once(api, switched_off):
    assert complete(api, switched_off.bob) == 403  # and now remembered

    admin = Client()
    admin.force_login(User.objects.create_superuser("root", email="root@example.com"))
    response = admin.post(INSTANCE_SETTINGS_PAGE, instance_settings_form(code_suggestions="on"))
    assert response.status_code == 302

    assert complete(api, switched_off.bob) == 200
