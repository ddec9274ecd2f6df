"""Context exclusion in chat: the files and snippets a question attaches as additional context are
dropped, before they are stored or sent to the model, when the question's project (its resource,
or the project of its commit) or a group above it excludes their path."""

import pytest

from chat.models import Message, Role
from tests.chat.conftest import ask, system_prompt

pytestmark = pytest.mark.django_db(transaction=True)

# Private, but not a credential, which redaction would mask whatever the rules say.
SECRET = "acme_discount: 0.42  # not for the model's eyes"
USER_MODEL = "class User\nend"


def ask_about_the_project(api, token, world, context):
    return ask(
        api,
        token,
        "What does this code do?",
        resource_type="project",
        resource_id=world.project.pk,
        additional_context=context,
    )


def test_a_file_a_group_above_the_project_excludes_never_reaches_the_model(
    api, tokens, chat_model, world
):
    world.group.context_exclusions = "config/secrets.yml"
    world.group.save()
    context = [
        {"category": "file", "id": "config/secrets.yml", "content": SECRET},
        {"category": "file", "id": "app/models/user.rb", "content": USER_MODEL},
    ]

    response = ask_about_the_project(api, tokens["bob"], world, context)

    assert response.status_code == 201
    assert SECRET not in system_prompt(chat_model)
    assert USER_MODEL in system_prompt(chat_model)
    question = Message.objects.get(user=world.bob, role=Role.USER)
    assert [item["id"] for item in question.additional_context] == ["app/models/user.rb"]


def test_a_snippet_is_excluded_by_the_path_in_its_metadata(api, tokens, chat_model, world):
    world.project.context_exclusions = "*.env"
    world.project.save()
    snippet = {
        "category": "snippet",
        "id": "snippet-1",
        "content": SECRET,
        "metadata": {"relativePath": "deploy/production.env"},
    }

    ask_about_the_project(api, tokens["bob"], world, [snippet])

    assert SECRET not in system_prompt(chat_model)


def test_a_question_about_a_commit_follows_its_projects_rules(api, tokens, chat_model, world):
    world.project.context_exclusions = "config/"
    world.project.save()

    ask(
        api,
        tokens["bob"],
        "Why this change?",
        resource_type="commit",
        resource_id="0123abcd",
        project_id=world.project.pk,
        additional_context=[{"category": "file", "id": "config/secrets.yml", "content": SECRET}],
    )

    assert SECRET not in system_prompt(chat_model)


def test_context_that_is_not_a_file_is_kept_whatever_its_id(api, tokens, chat_model, world):
    world.project.context_exclusions = "*"
    world.project.save()
    issue = {"category": "issue", "id": "42", "content": "Users cannot sign in."}

    ask_about_the_project(api, tokens["bob"], world, [issue])

    assert "Users cannot sign in." in system_prompt(chat_model)


def test_another_projects_rules_do_not_apply(api, tokens, chat_model, world):
    world.project.context_exclusions = "config/"
    world.project.save()

    ask(
        api,
        tokens["bob"],
        "What is configured?",
        resource_type="project",
        resource_id=world.public_project.pk,
        additional_context=[{"category": "file", "id": "config/app.yml", "content": SECRET}],
    )

    assert SECRET in system_prompt(chat_model)


def language_server_file(world, relative_path: str, content: str) -> dict:
    """A file as GitLab's language server attaches it from an editor: named by its URI, with
    its project and its path there in the metadata, and no resource to the question."""
    return {
        "category": "file",
        "id": f"file:///home/bob/tools/{relative_path}",
        "content": content,
        "metadata": {"project": world.project.full_path, "relativePath": relative_path},
    }


def test_a_file_sent_with_no_resource_is_excluded_by_the_project_it_names(
    api, tokens, chat_model, world
):
    world.project.context_exclusions = "config/secrets.yml"
    world.project.save()
    context = [
        language_server_file(world, "config/secrets.yml", SECRET),
        language_server_file(world, "app/models/user.rb", USER_MODEL),
    ]

    response = ask(api, tokens["bob"], "What does this code do?", additional_context=context)

    assert response.status_code == 201
    assert SECRET not in system_prompt(chat_model)
    assert USER_MODEL in system_prompt(chat_model)


def test_a_git_diff_reaches_the_model_without_the_sections_of_excluded_files(
    api, tokens, chat_model, world
):
    world.project.context_exclusions = "config/secrets.yml"
    world.project.save()
    user_section = (
        "diff --git a/app/models/user.rb b/app/models/user.rb\n"
        "--- a/app/models/user.rb\n+++ b/app/models/user.rb\n"
        "@@ -1 +1 @@\n-class User\n+class Person\n"
    )
    secret_section = (
        "diff --git a/config/secrets.yml b/config/secrets.yml\n"
        f"--- a/config/secrets.yml\n+++ b/config/secrets.yml\n@@ -1 +1 @@\n+{SECRET}\n"
    )
    diff = {"category": "local_git", "id": "git diff", "content": secret_section + user_section}

    ask_about_the_project(api, tokens["bob"], world, [diff])

    assert SECRET not in system_prompt(chat_model)
    assert user_section.rstrip() in system_prompt(chat_model)


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("config/secrets.yml", "config/secrets.yml"),  # git diff --no-prefix
        ("i/config/secrets.yml", "w/config/secrets.yml"),  # diff.mnemonicPrefix
        ('"a/config/s\\303\\251crets.yml"', '"b/config/s\\303\\251crets.yml"'),  # quoted
    ],
)
def test_a_git_diff_loses_an_excluded_files_section_however_git_names_it(
    api, tokens, chat_model, world, old, new
):
    world.project.context_exclusions = "config/secrets.yml\nconfig/sécrets.yml"
    world.project.save()
    diff = f"diff --git {old} {new}\n--- {old}\n+++ {new}\n@@ -1 +1 @@\n+{SECRET}\n"
    kept = "diff --git a/x.rb b/x.rb\n--- a/x.rb\n+++ b/x.rb\n"
    item = {"category": "local_git", "id": "git diff", "content": diff + kept}

    ask_about_the_project(api, tokens["bob"], world, [item])

    assert SECRET not in system_prompt(chat_model)
    assert kept.strip() in system_prompt(chat_model)


def test_a_file_is_held_to_the_rules_of_the_project_it_names_and_of_the_one_asked_about(
    api, tokens, chat_model, world
):
    world.public_project.context_exclusions = "config/secrets.yml"
    world.public_project.save()
    item = language_server_file(world, "config/secrets.yml", SECRET)
    item["metadata"]["project"] = f"/{world.public_project.full_path}.git "

    ask_about_the_project(api, tokens["bob"], world, [item])

    assert SECRET not in system_prompt(chat_model)


def test_a_question_about_a_group_holds_its_files_to_the_groups_rules(
    api, tokens, chat_model, world
):
    world.group.context_exclusions = "config/secrets.yml"
    world.group.save()
    context = [{"category": "file", "id": "config/secrets.yml", "content": SECRET}]

    ask(
        api,
        tokens["bob"],
        "What does this code do?",
        resource_type="group",
        resource_id=world.subgroup.pk,
        additional_context=context,
    )

    assert SECRET not in system_prompt(chat_model)


def test_a_name_longer_than_any_path_is_excluded_where_rules_apply(api, tokens, chat_model, world):
    world.project.context_exclusions = "config/secrets.yml"
    world.project.save()
    # Read as an absolute name, its tails alone would take gigabytes to write.
    name = "/" + "a/" * 50_000 + "x.py"
    item = {"category": "file", "id": "x.py", "content": SECRET, "metadata": {"relativePath": name}}

    response = ask_about_the_project(api, tokens["bob"], world, [item])

    assert response.status_code == 201
    assert SECRET not in system_prompt(chat_model)
