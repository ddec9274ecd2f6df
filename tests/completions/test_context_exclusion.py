"""Context exclusion through POST /api/v4/code_suggestions/completions: for a request naming a
project, the files its rules or its groups' rules exclude never reach the model server, as context
items or as the file being edited (which gets no suggestion)."""

import json

import pytest

from projects.models import Group, Project
from tests.completions.conftest import COMPLETIONS, completion_body

PROJECT = "acme/platform/tools"
# Private, but not a credential, which redaction would mask whatever the rules say.
SECRET = "ACME_DISCOUNT = 0.42  # not for the model's eyes"
HELPER = "def helper(value):\n    return value * 2"


def with_context(project_path: str = PROJECT):
    return completion_body(
        project_path=project_path,
        context=[
            {"type": "file", "name": "secrets/keys.py", "content": SECRET},
            {"type": "file", "name": "app/helpers.py", "content": HELPER},
        ],
    )


def in_file(file_name: str, **overrides):
    body = completion_body(project_path=PROJECT, **overrides)
    body["current_file"]["file_name"] = file_name
    return body


def exclude(owner: Group | Project, rules: str) -> None:
    owner.context_exclusions = rules
    owner.save()


def test_context_items_a_group_above_excludes_never_reach_the_model(
    api, upstream, bob_token, world
):
    exclude(world.group, "secrets/")

    response = api.post(COMPLETIONS, with_context(), token=bob_token)

    assert response.status_code == 200
    prompt = upstream.last.json["prompt"]
    assert SECRET not in prompt
    assert HELPER in prompt


def test_context_items_the_project_excludes_never_reach_the_model(api, upstream, bob_token, world):
    exclude(world.project, "**/keys.py")

    api.post(COMPLETIONS, with_context(), token=bob_token)

    prompt = upstream.last.json["prompt"]
    assert SECRET not in prompt
    assert HELPER in prompt


def test_a_project_cannot_take_back_what_a_group_above_it_excludes(api, upstream, bob_token, world):
    exclude(world.subgroup, "keys.py")
    exclude(world.project, "!secrets/keys.py")

    api.post(COMPLETIONS, with_context(), token=bob_token)

    assert SECRET not in upstream.last.json["prompt"]


def test_a_new_rule_applies_to_the_next_request(api, upstream, bob_token, world):
    api.post(COMPLETIONS, with_context(), token=bob_token)
    assert SECRET in upstream.last.json["prompt"]

    exclude(world.subgroup, "secrets/")
    api.post(COMPLETIONS, with_context(), token=bob_token)

    assert SECRET not in upstream.last.json["prompt"]


def test_the_rules_apply_only_to_the_project_the_request_names(api, upstream, bob_token, world):
    exclude(world.project, "secrets/")

    api.post(COMPLETIONS, with_context(project_path="acme/website"), token=bob_token)

    assert SECRET in upstream.last.json["prompt"]


@pytest.mark.parametrize(
    "file_name", ["secrets/calc.py", "/secrets/calc.py", "./secrets/calc.py", "secrets\\calc.py"]
)
def test_an_excluded_file_gets_no_suggestion_and_nothing_is_sent(
    api, upstream, bob_token, world, file_name
):
    exclude(world.group, "/secrets/")

    response = api.post(COMPLETIONS, in_file(file_name), token=bob_token)

    assert response.status_code == 200
    body = response.json()
    assert body["choices"] == []
    assert body["model"]["lang"] == "python"
    assert upstream.requests == []


def test_an_excluded_file_gets_no_generation_either(api, upstream, bob_token, world):
    exclude(world.project, "*.py")
    body = in_file("calc.py", intent="generation", user_instruction="multiply two numbers")

    response = api.post(COMPLETIONS, body, token=bob_token)

    assert response.json()["choices"] == []
    assert upstream.requests == []


def test_an_excluded_file_gets_an_empty_stream(api, upstream, bob_token, world):
    exclude(world.project, "calc.py")
    body = in_file("calc.py", intent="generation", user_instruction="multiply", stream=True)

    response = api.post(COMPLETIONS, body, token=bob_token, HTTP_X_SUPPORTS_SSE_STREAMING="true")

    blocks = [b for b in b"".join(response.streaming_content).decode().split("\n\n") if b]
    assert [block.split("\n")[0] for block in blocks] == [
        "event: stream_start",
        "event: stream_end",
    ]
    assert json.loads(blocks[0].split("\n")[1].removeprefix("data: "))["model"]["lang"] == "python"
    assert upstream.requests == []


def test_a_file_next_to_an_excluded_one_is_still_suggested(api, upstream, bob_token, world):
    exclude(world.group, "secrets/")

    response = api.post(COMPLETIONS, in_file("app/calc.py"), token=bob_token)

    assert response.json()["choices"][0]["text"] == "return a * b"
