"""No secret in the code an editor sends reaches the model server, by any of the completion
endpoints' paths, while the code around it does (codesuggest/providers/redaction.py)."""

import logging

from codesuggest.providers.redaction import MARKER
from tests.completions.conftest import COMPLETIONS, PYTHON_ABOVE, completion_body
from tests.completions.test_vertex_predict import PREDICT
from tests.fake_secrets import PROGRAM, masked_program, secrets_in

ABOVE = f"{PROGRAM}\n\n\n{PYTHON_ABOVE}"
PASSWORD = 'password = "correct-horse-battery-staple"'
MASKED_PASSWORD = f'password = "{MARKER}"'
SETTINGS = {"file_name": "app/settings.py", "content_above_cursor": ABOVE}


def sent(upstream) -> str:
    return upstream.last.body.decode()


def test_a_completion_reaches_the_model_without_the_files_secrets(api, upstream, bob_token):
    response = api.post(COMPLETIONS, completion_body(current_file=SETTINGS), token=bob_token)

    assert response.status_code == 200
    assert secrets_in(sent(upstream)) == []
    assert upstream.last.json["prompt"].endswith(f"{masked_program()}\n\n\n{PYTHON_ABOVE}")


def test_the_code_below_the_cursor_reaches_the_model_without_its_secrets(api, upstream, bob_token):
    below = f"\n\n{PASSWORD}\nconnect(password)\n"
    current_file = {**SETTINGS, "content_above_cursor": PYTHON_ABOVE, "content_below_cursor": below}

    api.post(COMPLETIONS, completion_body(current_file=current_file), token=bob_token)

    assert upstream.last.json["suffix"] == f"\n\n{MASKED_PASSWORD}\nconnect(password)\n"


def test_the_files_the_editor_adds_as_context_reach_the_model_without_their_secrets(
    api, upstream, bob_token
):
    context = [{"type": "file", "name": "config/secrets.py", "content": PROGRAM}]

    api.post(COMPLETIONS, completion_body(context=context), token=bob_token)

    assert secrets_in(sent(upstream)) == []
    assert masked_program() in upstream.last.json["prompt"]


def test_a_generation_reaches_the_model_without_the_files_secrets(api, upstream, bob_token):
    body = completion_body(
        current_file=SETTINGS, intent="generation", user_instruction="upload a file to S3"
    )

    api.post(COMPLETIONS, body, token=bob_token)

    assert upstream.last.path == "/v1/chat/completions"
    assert secrets_in(sent(upstream)) == []
    assert masked_program() in upstream.last.json["messages"][-1]["content"]


def test_a_streamed_generation_reaches_the_model_without_the_files_secrets(
    api, upstream, bob_token
):
    body = completion_body(
        current_file=SETTINGS, intent="generation", user_instruction="upload", stream=True
    )

    response = api.post(COMPLETIONS, body, token=bob_token)
    b"".join(response.streaming_content)

    assert upstream.last.json["stream"] is True
    assert secrets_in(sent(upstream)) == []
    assert masked_program() in upstream.last.json["messages"][-1]["content"]


def test_a_vertex_prediction_reaches_the_model_without_the_secrets(api, upstream, bob_token):
    body = {"instances": [{"prefix": ABOVE, "suffix": PROGRAM}], "parameters": {}}

    response = api.post(PREDICT, body, HTTP_AUTHORIZATION=f"Bearer {bob_token}")

    assert response.status_code == 200
    assert secrets_in(sent(upstream)) == []
    assert upstream.last.json["suffix"] == masked_program()


def test_no_secret_is_logged(api, upstream, bob_token, caplog):
    with caplog.at_level(logging.DEBUG):
        api.post(COMPLETIONS, completion_body(current_file=SETTINGS), token=bob_token)

    assert secrets_in(caplog.text) == []


# A line longer than any prompt's room for it, of secrets: wherever a cut falls in it, the
# secret it cuts in two would no longer look like one.
LINE_OF_SECRETS = "".join(f'password_{n} = "Sup3rS3cretValue{n:06d}"; ' for n in range(3000))


def test_a_line_too_long_for_the_prompt_is_left_out_rather_than_cut_through_a_secret(
    api, upstream, bob_token
):
    below = f"{LINE_OF_SECRETS}\nconnect()\n"
    current_file = {**SETTINGS, "content_above_cursor": "db = ", "content_below_cursor": below}
    body = completion_body(current_file=current_file, intent="completion")

    api.post(COMPLETIONS, body, token=bob_token)

    assert "Sup3rS3cr" not in sent(upstream)
    assert upstream.last.json["prompt"].endswith("db = ")
    assert upstream.last.json.get("suffix", "") == ""


ENV_FILE = "DATABASE_PASSWORD=Tr0ub4dor-and-3-horses-9f8e\nSMTP_PASSWORD="
YAML_FILE = "database:\n  password: CorrectHorseBatteryStaple9911\n"


def test_each_file_sent_as_context_is_masked_as_its_own_type_says(api, upstream, bob_token):
    # A bare `password: value` is a secret in YAML and .env files, not in the Python file open.
    context = [
        {"type": "file", "name": "deploy/.env", "content": ENV_FILE},
        {"type": "file", "name": "config/database.yml", "content": YAML_FILE},
    ]

    api.post(COMPLETIONS, completion_body(context=context), token=bob_token)

    assert "Tr0ub4dor" not in sent(upstream)
    assert "CorrectHorse" not in sent(upstream)
    assert f"DATABASE_PASSWORD={MARKER}" in upstream.last.json["prompt"]
    assert f"password: {MARKER}" in upstream.last.json["prompt"]


def test_a_generation_in_a_configuration_file_reaches_the_model_without_its_secrets(
    api, upstream, bob_token
):
    below = "\nREDIS_PASSWORD=An0ther-Secret-Value-xyz\n"
    current_file = {
        "file_name": "deploy/.env",
        "content_above_cursor": ENV_FILE,
        "content_below_cursor": below,
    }

    api.post(
        COMPLETIONS,
        completion_body(current_file=current_file, intent="generation"),
        token=bob_token,
    )

    assert upstream.last.path == "/v1/chat/completions"
    assert "Tr0ub4dor" not in sent(upstream)
    assert "An0ther-Secret" not in sent(upstream)
