"""The admin in a browser: what an administrator changes there, seen over HTTP by an editor."""

import pytest
import requests
from playwright.sync_api import expect

from projects.models import User
from tests.conftest import make_token

ENABLED = "/api/v4/code_suggestions/enabled"


@pytest.fixture
def root(db) -> User:
    return User.objects.create_superuser("root", email="root@example.com", password=None)


@pytest.fixture
def admin_page(page, sign_in, root):
    sign_in(page, root)
    return page


def enabled(live_server, token: str, project_path: str) -> int:
    response = requests.post(
        f"{live_server.url}{ENABLED}",
        json={"project_path": project_path},
        headers={"PRIVATE-TOKEN": token},
        timeout=10,
    )
    return response.status_code


def switch(page, url: str, *, on: bool) -> None:
    page.goto(url)
    page.locator("#id_code_suggestions").set_checked(on)
    page.click("input[name=_save]")
    expect(page.locator(".messagelist .success")).to_be_visible()


def test_switching_a_project_and_its_groups_changes_what_the_api_answers(
    admin_page, live_server, world
):
    token = make_token(world.bob)
    project = f"/admin/projects/project/{world.project.pk}/change/"
    assert enabled(live_server, token, "acme/platform/tools") == 200

    # Off in the project, while its groups are on: nothing changes, and the admin says why.
    switch(admin_page, project, on=False)
    expect(admin_page.locator(".messagelist .warning")).to_contain_text(
        "Code suggestions stay on for acme/platform/tools (on in group acme/platform)"
    )
    assert enabled(live_server, token, "acme/platform/tools") == 200

    switch(admin_page, f"/admin/projects/group/{world.subgroup.pk}/change/", on=False)
    switch(admin_page, f"/admin/projects/group/{world.group.pk}/change/", on=False)
    assert enabled(live_server, token, "acme/platform/tools") == 403

    admin_page.goto("/admin/projects/project/")
    row = admin_page.locator("#result_list tr", has_text="acme/platform/tools")
    expect(row.locator(".field-decided_by")).to_have_text("off in the project and all its groups")

    switch(admin_page, f"/admin/projects/group/{world.group.pk}/change/", on=True)
    assert enabled(live_server, token, "acme/platform/tools") == 200


def test_a_token_created_in_the_admin_works_over_http_and_back_does_not_fail(
    admin_page, live_server, world
):
    page = admin_page
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.goto("/admin/projects/personalaccesstoken/add/")
    # The user is picked with the admin's autocomplete.
    page.click(".field-user .select2-selection")
    page.fill(".select2-search__field", "bob")
    page.click(".select2-results__option >> text=bob")
    page.fill("#id_name", "bob's laptop")
    expect(page.locator("label", has_text="ai_features").locator("input")).to_be_checked()
    page.click("input[name=_save]")

    expect(page.locator("h1")).to_have_text("Personal access token created")
    plaintext = page.input_value("#personal-access-token")
    assert plaintext.startswith("glpat-")
    # The button works once its script has run (a click before that does nothing), and the
    # clipboard takes writes only from the focused page.
    page.wait_for_load_state("load")
    page.bring_to_front()
    page.click("button[data-copy]")
    expect(page.locator("button[data-copy]")).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == plaintext

    user = requests.get(
        f"{live_server.url}/api/v4/user", headers={"PRIVATE-TOKEN": plaintext}, timeout=10
    )
    assert user.json()["username"] == "bob"

    # Back returns to the form, not to an ERR_CACHE_MISS of the POST; forward shows no token.
    page.go_back()
    expect(page.locator("#id_name")).to_be_visible()
    page.go_forward()
    expect(page.locator("#content")).to_contain_text("has been shown already")
    assert plaintext not in page.content()

    page.goto("/admin/projects/personalaccesstoken/")
    row = page.locator("#result_list tr", has_text="bob's laptop")
    expect(row.locator(".field-scope_list")).to_have_text("api, ai_features")
    expect(row.locator(".field-status")).to_have_text("active")
