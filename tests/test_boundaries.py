"""Limits tested at their exact edge, where an off-by-one lives: the request body cap
(docs/api.md#errors) and the length that makes a comment an instruction
(docs/pipeline.md#intent)."""

import json

import pytest

from tests.completions.conftest import COMPLETIONS, completion_body, upstream  # noqa: F401
from tests.conftest import make_token
from tests.fake_servers import openai_server  # noqa: F401  (upstream's model server)

CAP = 100


@pytest.mark.parametrize(("size", "status"), [(CAP, 200), (CAP + 1, 413)])
def test_the_body_cap_takes_a_body_of_exactly_its_size_and_not_a_byte_more(
    api, settings, world, size, status
):
    settings.MAX_REQUEST_BODY_BYTES = CAP
    body = json.dumps({"project_path": "acme/website"})
    body += " " * (size - len(body))  # JSON allows trailing blanks

    response = api.post("/api/v4/code_suggestions/enabled", body, token=make_token(world.alice))

    assert response.status_code == status


# Five lines of code: not a small file, so only the comment can make this a generation.
CODE = "import os\nimport sys\n\nx = 1\ny = 2\nz = 3\n"


@pytest.mark.parametrize(
    ("comment", "asked_at"),
    [
        ("# sort users", "/v1/chat/completions"),  # 10 characters: an instruction, generated
        ("# sort user", "/v1/completions"),  # 9: just a comment, completed
    ],
)
def test_a_comment_of_ten_characters_is_an_instruction_and_of_nine_is_not(
    api,
    upstream,  # noqa: F811  (the fixture imported above)
    world,
    comment,
    asked_at,
):
    body = completion_body()
    body["current_file"]["content_above_cursor"] = f"{CODE}{comment}\n"

    response = api.post(COMPLETIONS, body, token=make_token(world.bob))

    assert response.status_code == 200
    assert [request.path for request in upstream.requests] == [asked_at]
