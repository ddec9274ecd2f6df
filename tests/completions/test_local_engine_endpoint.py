"""The built-in engine through the API and the CLI: the embedded default, no network."""

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from projects.models import ProjectIndex
from tests.completions.conftest import COMPLETIONS

INDEXED_FILE = """import widgets


def frobnicate_all(items):
    for item in items:
        item.frobnicate(speed=42, mode="turbo")


def frobnicate_one(item):
    item.frobnicate(speed=42, mode="turbo")
"""

ABOVE = """import os
import sys


def main(argv):
    parts = [part for part in argv if part]
    print(len(parts))
    for part in parts:
        print(part)


def frobnicate_later(item):
    item.frobnicate("""


@pytest.fixture
def local_engine(settings, tmp_path):
    settings.COMPLETIONS_PROVIDER = "local"
    settings.GENERATIONS_PROVIDER = "local"
    settings.LOCAL_ENGINE_DIR = tmp_path / "engine"
    # Low enough that the file alone gets an answer: these tests are about what code the engine
    # reads, and an empty answer would say nothing of it.
    settings.LOCAL_ENGINE_MIN_CONFIDENCE = 0.1
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    (checkout / "frob.py").write_text(INDEXED_FILE)
    return checkout


def complete(api, token, **extra):
    body = {
        "current_file": {
            "file_name": "later.py",
            "content_above_cursor": ABOVE,
            "content_below_cursor": "\n",
        },
        **extra,
    }
    response = api.post(COMPLETIONS, body, token=token)
    assert response.status_code == 200
    return response.json()


def test_a_completion_naming_an_indexed_project_uses_its_code(api, world, bob_token, local_engine):
    call_command("index_repository", "acme/platform/tools", str(local_engine))

    body = complete(api, bob_token, project_path="acme/platform/tools")

    assert body["model"] == {"engine": "local", "name": "local-ngram", "lang": "python"}
    assert body["choices"][0]["text"] == 'speed=42, mode="turbo")'


def test_a_line_the_projects_files_put_between_the_same_lines_is_suggested(
    api, world, bob_token, local_engine, settings
):
    settings.LOCAL_ENGINE_MIN_CONFIDENCE = None  # the engine's own threshold
    # A new line after a docstring's last line is a generation (completions/intent.py), which the
    # engine is asked for as a block: a guessed line is an answer there too.
    for verb in ("get", "post", "put"):
        (local_engine / f"{verb}.py").write_text(
            f'def {verb}(url):\n    """Send a {verb} request.\n\n    :rtype: Response\n    """\n'
            f'    return request("{verb}", url)\n'
        )
    call_command("index_repository", "acme/platform/tools", str(local_engine))
    current_file = {
        "file_name": "delete.py",
        "content_above_cursor": 'def delete(url):\n    """Send a delete request.\n\n'
        "    :rtype: Response\n    ",
        "content_below_cursor": '\n    return request("delete", url)\n',
    }
    body = {"current_file": current_file, "project_path": "acme/platform/tools"}

    response = api.post(COMPLETIONS, body, token=bob_token)

    assert response.status_code == 200
    assert response.json()["choices"][0]["text"] == '"""'


def test_without_the_project_the_index_is_not_used(api, world, bob_token, local_engine):
    call_command("index_repository", "acme/platform/tools", str(local_engine))

    body = complete(api, bob_token)

    # It still answers, from the file alone: an empty answer would say nothing about the index.
    [choice] = body["choices"]
    assert "turbo" not in choice["text"]


def test_a_file_the_editor_sends_along_is_copied_from(api, world, bob_token, local_engine):
    open_file = {"type": "file", "name": "frob.py", "content": INDEXED_FILE}

    body = complete(api, bob_token, context=[open_file])

    assert body["choices"][0]["text"] == 'speed=42, mode="turbo")'


def test_the_same_request_gets_the_same_answer(api, world, bob_token, local_engine):
    call_command("index_repository", "acme/platform/tools", str(local_engine))

    answers = [
        complete(api, bob_token, project_path="acme/platform/tools")["choices"] for _ in range(3)
    ]

    assert answers[0]  # three empty answers would be the same too
    assert answers == [answers[0]] * 3


def test_indexing_an_unknown_project_fails_clearly(db, local_engine):
    with pytest.raises(CommandError, match="No project at nowhere/else"):
        call_command("index_repository", "nowhere/else", str(local_engine))


def test_indexing_a_missing_directory_fails_clearly(world, local_engine):
    with pytest.raises(CommandError, match="is not a directory"):
        call_command("index_repository", "acme/platform/tools", str(local_engine / "missing"))


def test_indexing_leaves_out_the_files_a_group_above_the_project_excludes(
    api, world, bob_token, local_engine
):
    world.subgroup.context_exclusions = "/frob.py"
    world.subgroup.save()

    call_command("index_repository", "acme/platform/tools", str(local_engine))

    [choice] = complete(api, bob_token, project_path="acme/platform/tools")["choices"]
    assert "turbo" not in choice["text"]


def test_a_file_excluded_after_indexing_leaves_the_index_at_the_next_run(
    api, world, bob_token, local_engine
):
    call_command("index_repository", "acme/platform/tools", str(local_engine))
    world.project.context_exclusions = "frob.py"
    world.project.save()
    report = io.StringIO()

    call_command(
        "index_repository", "acme/platform/tools", str(local_engine), verbosity=2, stderr=report
    )

    assert report.getvalue() == "0 indexed, 0 unchanged, 1 skipped, 1 removed\n"
    [choice] = complete(api, bob_token, project_path="acme/platform/tools")["choices"]
    assert "turbo" not in choice["text"]


@pytest.mark.parametrize("rule_of", ["project", "subgroup"])
def test_a_file_excluded_after_indexing_leaves_the_index_once_the_rule_is_saved(
    api, world, bob_token, local_engine, django_capture_on_commit_callbacks, rule_of
):
    call_command("index_repository", "acme/platform/tools", str(local_engine))
    namespace = getattr(world, rule_of)

    with django_capture_on_commit_callbacks(execute=True):
        namespace.context_exclusions = "/frob.py"
        namespace.save()

    [choice] = complete(api, bob_token, project_path="acme/platform/tools")["choices"]
    assert "turbo" not in choice["text"]
    assert ProjectIndex.objects.get(project=world.project).files == 0
