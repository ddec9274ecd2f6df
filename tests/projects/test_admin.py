"""The admin: what an instance administrator does with groups, projects, users and tokens."""

import re

import pytest
from django.contrib.admin.models import ADDITION, CHANGE, LogEntry
from django.test import Client

from projects.models import Group, InstanceSettings, PersonalAccessToken, Project, User
from tests.conftest import INSTANCE_SETTINGS_PAGE, instance_settings_form, make_token

GROUPS = "/admin/projects/group/"
PROJECTS = "/admin/projects/project/"
USERS = "/admin/projects/user/"
TOKENS = "/admin/projects/personalaccesstoken/"


@pytest.fixture
def admin_user(db) -> User:
    return User.objects.create_superuser("root", email="root@example.com", password=None)


@pytest.fixture
def browser(admin_user) -> Client:
    client = Client()
    client.force_login(admin_user)
    return client


def enabled(api, user, project_path) -> int:
    response = api.post(
        "/api/v4/code_suggestions/enabled", {"project_path": project_path}, token=make_token(user)
    )
    return response.status_code


def changelist_edit(browser, url, rows, fields):
    """Submit the changelist's editable columns, `rows` being (object, {field: value})."""
    data = {
        "form-TOTAL_FORMS": str(len(rows)),
        "form-INITIAL_FORMS": str(len(rows)),
        "_save": "Save",
    }
    for index, (obj, values) in enumerate(rows):
        data[f"form-{index}-id"] = str(obj.pk)
        for field in fields:
            if values.get(field, getattr(obj, field)):
                data[f"form-{index}-{field}"] = "on"
    return browser.post(url, data)


def run_action(browser, url, action, objects):
    return browser.post(url, {"action": action, "_selected_action": [o.pk for o in objects]})


def group_form(group: Group, **changes) -> dict:
    values = {
        "name": group.name,
        "path": group.path,
        "parent": group.parent_id or "",
        "code_suggestions": group.code_suggestions,
        "lock_code_suggestions": group.lock_code_suggestions,
        **changes,
    }
    data = {name: value for name, value in values.items() if value is not False}
    data = {name: "on" if value is True else value for name, value in data.items()}
    # The membership inline, left as it is.
    data.update({"memberships-TOTAL_FORMS": "0", "memberships-INITIAL_FORMS": "0"})
    return data


def test_it_is_closed_to_a_non_staff_user(world):
    client = Client()
    client.force_login(world.alice)
    response = client.get(GROUPS)
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


# groups


def test_the_group_list_toggles_code_suggestions_in_place(api, browser, world, admin_user):
    response = changelist_edit(
        browser,
        GROUPS,
        [(world.group, {"code_suggestions": False, "lock_code_suggestions": True})],
        ["code_suggestions", "lock_code_suggestions"],
    )
    assert response.status_code == 302
    world.group.refresh_from_db()
    assert world.group.code_suggestions is False
    assert world.group.lock_code_suggestions is True
    assert enabled(api, world.alice, "acme/platform/tools") == 403
    entry = LogEntry.objects.get(object_id=str(world.group.pk), action_flag=CHANGE)
    assert entry.user == admin_user
    assert "Code suggestions" in entry.get_change_message()


@pytest.mark.parametrize(
    ("action", "field", "value"),
    [
        ("disable_code_suggestions", "code_suggestions", False),
        ("enable_code_suggestions", "code_suggestions", True),
        ("lock_code_suggestions", "lock_code_suggestions", True),
        ("unlock_code_suggestions", "lock_code_suggestions", False),
    ],
)
def test_group_bulk_actions_change_every_selected_group(browser, world, action, field, value):
    Group.objects.update(**{field: not value})
    response = run_action(browser, GROUPS, action, [world.group, world.subgroup])
    assert response.status_code == 302
    assert set(Group.objects.values_list(field, flat=True)) == {value}
    assert LogEntry.objects.filter(action_flag=CHANGE).count() == 2


def test_a_bulk_lock_imposes_off_on_the_api(api, browser, world):
    Group.objects.update(code_suggestions=False)
    run_action(browser, GROUPS, "lock_code_suggestions", [world.group])
    assert enabled(api, world.alice, "acme/website") == 403


def test_renaming_a_group_moves_everything_below_it(api, browser, world):
    parent = world.subgroup
    for depth in range(12):
        parent = Group.objects.create(name=f"L{depth}", path=f"l{depth}", parent=parent)
    deep = Project.objects.create(name="Deep", path="deep", group=parent)

    response = browser.post(
        f"{GROUPS}{world.subgroup.pk}/change/", group_form(world.subgroup, path="infra")
    )

    assert response.status_code == 302
    world.project.refresh_from_db()
    deep.refresh_from_db()
    assert world.project.full_path == "acme/infra/tools"
    assert deep.full_path == "acme/infra/" + "/".join(f"l{d}" for d in range(12)) + "/deep"
    assert not Group.objects.filter(full_path__startswith="acme/platform").exists()
    assert enabled(api, world.alice, "acme/infra/tools") == 200
    assert enabled(api, world.alice, "acme/platform/tools") == 404


def test_moving_a_group_under_another_rewrites_its_paths(browser, world):
    other = Group.objects.create(name="Other", path="other")
    response = browser.post(
        f"{GROUPS}{world.subgroup.pk}/change/", group_form(world.subgroup, parent=other.pk)
    )
    assert response.status_code == 302
    world.project.refresh_from_db()
    assert world.project.full_path == "other/platform/tools"


def test_a_group_cannot_become_its_own_ancestor(browser, world):
    response = browser.post(
        f"{GROUPS}{world.group.pk}/change/", group_form(world.group, parent=world.subgroup.pk)
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors
    world.group.refresh_from_db()
    assert world.group.parent is None


def test_adding_a_group_refuses_a_path_taken_in_another_case(browser, world):
    response = browser.post(f"{GROUPS}add/", group_form(Group(name="Other", path="ACME")))
    assert response.status_code == 200
    assert "path" in response.context["adminform"].form.errors
    assert Group.objects.count() == 2


@pytest.mark.parametrize("path", ["-acme", "acme.", "a__b", "x.git", "with/slash"])
def test_adding_a_group_refuses_an_invalid_path(browser, world, path):
    response = browser.post(f"{GROUPS}add/", group_form(Group(name="Bad", path=path)))
    assert response.status_code == 200
    assert "path" in response.context["adminform"].form.errors


def test_adding_a_group_is_logged(browser, world, admin_user):
    response = browser.post(f"{GROUPS}add/", group_form(Group(name="Beta", path="beta")))
    assert response.status_code == 302
    beta = Group.objects.get(full_path="beta")
    assert LogEntry.objects.filter(object_id=str(beta.pk), action_flag=ADDITION).exists()


# projects


def test_the_project_list_toggles_code_suggestions_in_place(api, browser, world):
    Group.objects.update(code_suggestions=False)
    response = changelist_edit(
        browser,
        PROJECTS,
        [(world.project, {"code_suggestions": False}), (world.public_project, {})],
        ["code_suggestions"],
    )
    assert response.status_code == 302
    world.project.refresh_from_db()
    assert world.project.code_suggestions is False
    assert enabled(api, world.alice, "acme/platform/tools") == 403
    assert LogEntry.objects.filter(object_id=str(world.project.pk), action_flag=CHANGE).exists()


def test_the_project_list_shows_the_effective_state_and_what_decided_it(browser, world):
    world.subgroup.code_suggestions = False
    world.subgroup.lock_code_suggestions = True
    world.subgroup.save()
    world.public_project.code_suggestions = False
    world.public_project.save()

    page = browser.get(PROJECTS).content.decode()

    tools_row = next(row for row in page.split("<tr") if "acme/platform/tools" in row)
    website_row = next(row for row in page.split("<tr") if "acme/website" in row)
    assert "locked by group acme/platform" in tools_row
    assert 'alt="False"' in tools_row.split("locked by")[0].split("field-effective")[1]
    assert "on in group acme" in website_row
    assert 'alt="True"' in website_row.split("field-effective")[1].split("</td>")[0]


def test_the_project_list_shows_an_instance_override(browser, world):
    InstanceSettings(code_suggestions="off").save()
    assert "forced by the instance setting" in browser.get(PROJECTS).content.decode()


@pytest.mark.parametrize(
    ("action", "value"), [("disable_code_suggestions", False), ("enable_code_suggestions", True)]
)
def test_project_bulk_actions_change_every_selected_project(browser, world, action, value):
    Project.objects.update(code_suggestions=not value)
    run_action(browser, PROJECTS, action, [world.project, world.public_project])
    assert set(Project.objects.values_list("code_suggestions", flat=True)) == {value}
    assert LogEntry.objects.filter(action_flag=CHANGE).count() == 2


# instance settings


def test_the_instance_setting_forces_code_suggestions_off(api, browser, world):
    InstanceSettings.load()
    data = instance_settings_form(code_suggestions="off")
    response = browser.post(INSTANCE_SETTINGS_PAGE, data)
    assert response.status_code == 302
    assert enabled(api, world.alice, "acme/website") == 403


# users


def test_blocking_users_in_bulk_stops_their_tokens(api, browser, world):
    token = make_token(world.alice)
    response = run_action(browser, USERS, "block_users", [world.alice, world.bob])
    assert response.status_code == 302
    assert set(
        User.objects.filter(username__in=["alice", "bob"]).values_list("is_active", flat=True)
    ) == {False}
    assert api.get("/api/v4/user", token=token).status_code == 403
    assert LogEntry.objects.filter(object_id=str(world.alice.pk), action_flag=CHANGE).exists()


def test_withdrawing_code_suggestions_stops_the_endpoints(api, browser, world):
    token = make_token(world.alice)
    run_action(browser, USERS, "withdraw_code_suggestions", [world.alice])
    response = api.post(
        "/api/v4/code_suggestions/enabled", {"project_path": "acme/website"}, token=token
    )
    assert response.status_code == 401


# personal access tokens


def create_token(browser, user, **fields):
    data = {"user": user.pk, "name": "laptop", "scopes": ["api", "ai_features"], **fields}
    return browser.post(f"{TOKENS}add/", data)


def test_creating_a_token_shows_its_plaintext_once_after_a_redirect(
    api, browser, world, admin_user
):
    response = create_token(browser, world.bob)

    # Redirected after the POST, so that Back or reload never posts the form again.
    assert response.status_code == 302
    assert response["Location"] == f"{TOKENS}created/"
    page = browser.get(response["Location"])
    assert page.status_code == 200
    assert "no-store" in page["Cache-Control"]
    plaintext = page.context["plaintext"]
    assert plaintext.startswith("glpat-")
    assert plaintext in page.content.decode()
    assert 'data-copy="personal-access-token"' in page.content.decode()
    assert api.get("/api/v4/user", token=plaintext).json()["username"] == "bob"
    token = PersonalAccessToken.objects.get()
    assert token.name == "laptop"
    assert sorted(token.scopes) == ["ai_features", "api"]
    assert LogEntry.objects.filter(
        object_id=str(token.pk), action_flag=ADDITION, user=admin_user
    ).exists()
    for again in (f"{TOKENS}created/", TOKENS, f"{TOKENS}{token.pk}/change/", "/admin/"):
        assert plaintext not in browser.get(again).content.decode()
    assert b"has been shown already" in browser.get(f"{TOKENS}created/").content


def test_the_token_form_offers_scopes_by_their_gitlab_names(browser, world):
    html = browser.get(f"{TOKENS}add/").content.decode()
    for scope in ("api", "read_api", "read_user", "ai_features"):
        assert re.search(
            rf'type="checkbox" name="scopes" value="{scope}"[^>]*>\s*{scope}</label>', html
        )
    assert "Ai Features" not in html


def test_the_token_list_shows_scopes_and_status_in_words(browser, world):
    make_token(world.alice, ("api", "ai_features"))
    make_token(world.bob)
    PersonalAccessToken.objects.filter(user=world.bob).update(revoked=True)
    html = browser.get(TOKENS).content.decode()
    assert "api, ai_features" in html
    assert '["api"' not in html
    assert '<td class="field-status">active</td>' in html
    assert '<td class="field-status">revoked</td>' in html
    # No red cross beside a token that works.
    assert "icon-no.svg" not in html


def test_a_token_created_with_a_past_expiry_is_refused(browser, world):
    response = create_token(browser, world.bob, expires_at="2001-01-01")
    assert response.status_code == 200
    assert "expires_at" in response.context["adminform"].form.errors
    assert not PersonalAccessToken.objects.exists()


def test_creating_a_token_with_an_expiry(browser, world):
    create_token(browser, world.bob, expires_at="2099-12-31")
    assert str(PersonalAccessToken.objects.get().expires_at) == "2099-12-31"


def test_creating_a_token_needs_a_scope(browser, world):
    response = create_token(browser, world.bob, scopes=[])
    assert response.status_code == 200
    assert "scopes" in response.context["adminform"].form.errors
    assert not PersonalAccessToken.objects.exists()


def test_revoking_tokens_in_bulk_stops_them(api, browser, world, admin_user):
    plaintext = make_token(world.alice)
    token = PersonalAccessToken.objects.get()
    response = run_action(browser, TOKENS, "revoke_tokens", [token])
    assert response.status_code == 302
    assert api.get("/api/v4/user", token=plaintext).json()["error"] == "invalid_token"
    assert LogEntry.objects.filter(object_id=str(token.pk), action_flag=CHANGE).exists()


def test_revoking_a_token_from_its_page(api, browser, world):
    plaintext = make_token(world.alice)
    token = PersonalAccessToken.objects.get()
    response = browser.post(f"{TOKENS}{token.pk}/change/", {"revoked": "on"})
    assert response.status_code == 302
    assert api.get("/api/v4/user", token=plaintext).status_code == 401


def test_a_token_page_cannot_change_what_the_token_grants(browser, world):
    make_token(world.alice, ("read_api",))
    token = PersonalAccessToken.objects.get()
    browser.post(
        f"{TOKENS}{token.pk}/change/", {"user": world.bob.pk, "scopes": ["api"], "name": "x"}
    )
    token.refresh_from_db()
    assert token.user == world.alice
    assert token.scopes == ["read_api"]


# what a first-time admin met


def test_the_admin_is_called_codesuggest_and_has_one_entry_called_groups(browser):
    html = browser.get("/admin/").content.decode()
    assert "<title>Administration | codesuggest</title>" in html
    assert '<a href="/admin/">codesuggest</a>' in html
    assert html.count(">Groups</a>") == 1
    assert "/admin/auth/group/" not in html
    assert browser.get("/admin/auth/group/").status_code == 404


def test_the_instance_settings_open_directly(browser):
    assert "/admin/projects/instancesettings/add/" not in browser.get("/admin/").content.decode()
    response = browser.get("/admin/projects/instancesettings/")
    assert response.status_code == 302
    assert response["Location"] == "/admin/projects/instancesettings/1/change/"
    assert browser.get(response["Location"]).status_code == 200


def test_the_user_page_offers_no_permission_pickers(browser, world):
    html = browser.get(f"{USERS}{world.bob.pk}/change/").content.decode()
    assert 'name="code_suggestions_access"' in html
    assert 'name="is_superuser"' in html
    assert 'name="groups"' not in html
    assert 'name="user_permissions"' not in html


def project_form(project: Project, **changes) -> dict:
    values = {
        "name": project.name,
        "path": project.path,
        "group": project.group_id,
        "visibility": project.visibility,
        "code_suggestions": project.code_suggestions,
        **changes,
    }
    data = {name: value for name, value in values.items() if value is not False}
    data = {name: "on" if value is True else value for name, value in data.items()}
    for inline in ("memberships", "code_index"):  # the inlines, left as they are
        data.update({f"{inline}-TOTAL_FORMS": "0", f"{inline}-INITIAL_FORMS": "0"})
    return data


def test_switching_a_project_off_under_a_group_that_is_on_says_it_changes_nothing(
    api, browser, world
):
    url = f"{PROJECTS}{world.project.pk}/change/"
    response = browser.post(url, project_form(world.project, code_suggestions=False), follow=True)

    assert response.status_code == 200
    assert (
        "Code suggestions stay on for acme/platform/tools (on in group acme/platform), "
        "whatever the project&#x27;s own setting." in response.content.decode()
    )
    assert enabled(api, world.bob, "acme/platform/tools") == 200


def test_switching_a_project_off_says_nothing_when_it_takes_effect(api, browser, world):
    Group.objects.update(code_suggestions=False)
    url = f"{PROJECTS}{world.project.pk}/change/"
    response = browser.post(url, project_form(world.project, code_suggestions=False), follow=True)

    assert "stay" not in response.content.decode()
    assert enabled(api, world.bob, "acme/platform/tools") == 403


def test_a_bulk_switch_warns_of_each_project_it_does_not_change(browser, world):
    world.group.code_suggestions = False
    world.group.save()
    response = run_action(
        browser, PROJECTS, "disable_code_suggestions", [world.project, world.public_project]
    )
    assert response.status_code == 302
    html = browser.get(PROJECTS).content.decode()
    assert "stay on for acme/platform/tools (on in group acme/platform)" in html
    assert "acme/website" not in html.split('class="messagelist"')[1].split("</ul>")[0]


def test_the_project_list_warns_when_its_switch_is_overridden(browser, world):
    changelist_edit(
        browser, PROJECTS, [(world.project, {"code_suggestions": False})], ["code_suggestions"]
    )
    assert "stay on for acme/platform/tools" in browser.get(PROJECTS).content.decode()


def test_the_admin_refuses_a_fill_in_the_middle_template_without_prefix(admin_client):
    InstanceSettings.load()
    response = admin_client.post(
        "/admin/projects/instancesettings/1/change/",
        {"code_suggestions": "", "fim_template": "<fim>{suffix}{unknown}"},
    )

    assert response.status_code == 200  # the form again, with its error
    assert "unknown fields: unknown" in response.content.decode()
    assert InstanceSettings.load().fim_template == ""


def test_the_admin_saves_a_custom_fill_in_the_middle_template(admin_client):
    template = "<PRE>{prefix}<SUF>{suffix}<MID>"
    InstanceSettings.load()

    admin_client.post(
        "/admin/projects/instancesettings/1/change/",
        {"code_suggestions": "", "fim_template": template},
    )

    assert InstanceSettings.load().fim_template == template


# context exclusions


@pytest.mark.parametrize("url", [GROUPS, PROJECTS])
def test_the_group_and_project_pages_offer_context_exclusions_with_an_example(browser, world, url):
    owner = world.group if url == GROUPS else world.project
    html = browser.get(f"{url}{owner.pk}/change/").content.decode()
    assert '<textarea name="context_exclusions"' in html
    assert "*.env, secrets/, /config/credentials.yml" in html


@pytest.mark.parametrize("rules", ["secrets/\n[z-a].py", "!", "keys[", "trailing\\"])
@pytest.mark.parametrize("url", [GROUPS, PROJECTS])
def test_the_admin_refuses_a_context_exclusion_that_is_not_a_gitignore_pattern(
    browser, world, url, rules
):
    owner = world.group if url == GROUPS else world.project
    form = group_form if url == GROUPS else project_form

    response = browser.post(f"{url}{owner.pk}/change/", form(owner, context_exclusions=rules))

    assert response.status_code == 200  # the form again, with its error
    *_, last = rules.splitlines()
    assert response.context["adminform"].form.errors["context_exclusions"] == [
        f"Line {len(rules.splitlines())} ({last!r}) is not a gitignore pattern."
    ]
    owner.refresh_from_db()
    assert owner.context_exclusions == ""


def test_the_admin_saves_context_exclusions_with_comments_and_blank_lines(browser, world):
    rules = "# credentials\n*.env\n\nsecrets/\n!secrets/README.md\n"

    response = browser.post(
        f"{PROJECTS}{world.project.pk}/change/",
        project_form(world.project, context_exclusions=rules),
    )

    assert response.status_code == 302
    world.project.refresh_from_db()
    assert world.project.context_exclusions == rules.rstrip()
