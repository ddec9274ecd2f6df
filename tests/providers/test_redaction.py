"""No secret reaches a model provider: the registry's providers are sent every text with each
secret's value masked, the code around it kept (codesuggest/providers/redaction.py)."""

import logging
import multiprocessing
from collections.abc import Generator
from contextlib import closing
from dataclasses import replace

import pytest
from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class

from codesuggest.providers import (
    PROVIDERS,
    BaseProvider,
    Candidate,
    ChatMessage,
    ChatRequest,
    CompletionRequest,
    ProviderConfig,
    ProviderError,
    References,
    provider_for,
)
from codesuggest.providers.redaction import LEFT_OUT, MARKER, redact_text
from tests.fake_secrets import RSA_BODY, RSA_KEY, SAMPLES, VARIANTS, Sample
from tests.fake_servers import Reply

AWS_KEY = "AKIAIOSFODNN7EXAMPLE"
PASSWORD = 'password = "correct-horse-battery-staple"'
MASKED_PASSWORD = f'password = "{MARKER}"'


def openai(server, **fields) -> object:
    return provider_for(
        ProviderConfig(provider="openai", base_url=server.url, timeout=2.0, **fields)
    )


def completion(prefix: str, suffix: str = "\n", file_name: str = "app/settings.py"):
    return CompletionRequest(prefix=prefix, suffix=suffix, file_name=file_name)


def masked(sample: Sample, text: str) -> str:
    return text.replace(sample.secret, MARKER)


# Every kind the detector knows --------------------------------------------------------------


def test_there_is_a_sample_of_every_kind_of_secret_the_detector_knows():
    kinds = set(get_mapping_from_secret_type_to_class())

    assert {sample.kind for sample in SAMPLES} == kinds - LEFT_OUT


@pytest.mark.parametrize("sample", SAMPLES + VARIANTS, ids=str)
def test_each_sample_is_found_by_the_detectors_plugin_of_its_kind_alone(sample):
    """So that a sample masked by another plugin cannot hide a miss of its own."""
    plugins = get_mapping_from_secret_type_to_class()
    finders = {
        kind
        for kind, plugin in plugins.items()
        for line in sample.line.split("\n")
        if plugin().analyze_line(filename="app/settings.py", line=line)
    }

    assert finders == {sample.kind}


@pytest.mark.parametrize("sample", SAMPLES + VARIANTS, ids=str)
def test_a_completion_reaches_the_model_with_the_secret_masked(openai_server, sample):
    code = f"import os\n\n{sample.line}\n\n\ndef main():\n    "

    openai(openai_server).complete(completion(code))

    assert sample.secret not in openai_server.last.body.decode()
    assert openai_server.last.json["prompt"] == masked(sample, code)


@pytest.mark.parametrize("sample", SAMPLES, ids=str)
def test_a_chat_reaches_the_model_with_the_secret_masked(openai_server, sample):
    request = ChatRequest(
        (
            ChatMessage("system", f"The user's file:\n{sample.line}\n"),
            ChatMessage("user", f"Why does this fail?\n{sample.line}"),
        ),
        max_tokens=64,
    )

    openai(openai_server).chat(request)

    assert sample.secret not in openai_server.last.body.decode()
    assert [m["content"] for m in openai_server.last.json["messages"]] == [
        masked(sample, f"The user's file:\n{sample.line}\n"),
        masked(sample, f"Why does this fail?\n{sample.line}"),
    ]


# Every way to a model -----------------------------------------------------------------------


def test_the_code_below_the_cursor_is_masked_too(openai_server):
    openai(openai_server).complete(completion("def connect():\n    ", f"\n{PASSWORD}\n"))

    assert openai_server.last.json["suffix"] == f"\n{MASKED_PASSWORD}\n"


def test_a_streamed_chat_is_masked_too(openai_server):
    request = ChatRequest((ChatMessage("user", f"Explain:\n{PASSWORD}"),), max_tokens=64)

    with closing(openai(openai_server).stream_chat(request)) as chunks:
        assert "".join(chunks)

    assert openai_server.last.json["messages"][0]["content"] == f"Explain:\n{MASKED_PASSWORD}"


def test_every_message_of_the_history_is_masked(openai_server):
    history = (
        ChatMessage("user", f"Is this right?\n{PASSWORD}"),
        ChatMessage("assistant", f"Yes: {PASSWORD}"),
        ChatMessage("user", "Thanks"),
    )

    openai(openai_server).chat(ChatRequest(history, max_tokens=64))

    assert [m["content"] for m in openai_server.last.json["messages"]] == [
        f"Is this right?\n{MASKED_PASSWORD}",
        f"Yes: {MASKED_PASSWORD}",
        "Thanks",
    ]


class Recorder(BaseProvider):
    """An in-process provider that keeps the requests it is sent."""

    default_model = "recorder"
    follows_instructions = True
    requests: list[CompletionRequest | ChatRequest] = []

    def complete(self, request: CompletionRequest) -> list[Candidate]:
        self.requests.append(request)
        return [Candidate("pass")]

    def chat(self, request: ChatRequest) -> Candidate:
        self.requests.append(request)
        return Candidate("pass")

    def stream_chat(self, request: ChatRequest) -> Generator[str]:
        self.requests.append(request)
        yield "pass"


class LocalRecorder(Recorder):
    keeps_text_in_process = True


@pytest.fixture
def recorders(monkeypatch) -> list[CompletionRequest | ChatRequest]:
    monkeypatch.setitem(PROVIDERS, "recorder", Recorder)
    monkeypatch.setitem(PROVIDERS, "local-recorder", LocalRecorder)
    requests: list[CompletionRequest | ChatRequest] = []
    monkeypatch.setattr(Recorder, "requests", requests)
    return requests


def test_the_documents_a_question_refers_to_are_masked_too(recorders):
    references = References("acme/tools", (("config/app.py", PASSWORD),))

    provider_for(ProviderConfig(provider="recorder")).chat(
        ChatRequest((ChatMessage("user", "Why?"),), max_tokens=64, references=references)
    )

    assert recorders[0].references == References(
        "acme/tools", (("config/app.py", MASKED_PASSWORD),)
    )


def test_a_masked_completion_still_says_where_the_files_own_code_begins(recorders):
    other_files = f"# Path: config/app.py\n{PASSWORD}\n\n"
    own = f"{PASSWORD}\ndef main():\n    "
    request = replace(completion(other_files + own), context_chars=len(other_files))

    provider_for(ProviderConfig(provider="recorder")).complete(request)

    sent = recorders[0]
    assert sent.prefix[: sent.context_chars] == f"# Path: config/app.py\n{MASKED_PASSWORD}\n\n"
    assert sent.prefix[sent.context_chars :] == f"{MASKED_PASSWORD}\ndef main():\n    "


def test_a_provider_that_keeps_what_it_is_sent_in_the_process_gets_it_as_it_is(recorders):
    provider_for(ProviderConfig(provider="local-recorder")).complete(completion(PASSWORD))

    assert recorders[0].prefix == PASSWORD


def test_a_config_that_says_not_to_mask_sends_the_secrets(openai_server):
    openai(openai_server, redact_secrets=False).complete(completion(PASSWORD))

    assert openai_server.last.json["prompt"] == PASSWORD


def test_a_failing_model_server_leaves_the_prompt_out_of_the_error_and_the_logs(
    openai_server, caplog
):
    openai_server.script(Reply(status=400, json={"error": {"message": f"bad prompt {PASSWORD}"}}))
    provider = openai(openai_server, redact_secrets=False, max_retries=0)

    with caplog.at_level(logging.DEBUG), pytest.raises(ProviderError) as raised:
        provider.complete(completion(f"def connect():\n    {PASSWORD}"))

    assert "correct-horse" not in str(raised.value)
    assert "correct-horse" not in caplog.text
    assert "def connect" not in caplog.text


# What is masked, and what is not ------------------------------------------------------------


def test_a_private_key_is_masked_whole_from_its_begin_line_to_its_end_line():
    code = f'KEY = """{RSA_KEY}"""\n\n\ndef sign(data):\n    return rsa.sign(data, KEY)'

    assert (
        redact_text(code)
        == f'KEY = """{MARKER}"""\n\n\ndef sign(data):\n    return rsa.sign(data, KEY)'
    )


@pytest.mark.parametrize("kind", ["RSA ", "EC ", "DSA ", "OPENSSH ", "ENCRYPTED ", "PGP ", ""])
def test_every_kind_of_private_key_is_masked_whole(kind):
    block = " BLOCK" if kind == "PGP " else ""
    key = RSA_KEY.replace("RSA PRIVATE KEY", f"{kind}PRIVATE KEY{block}")

    assert redact_text(f"{key}\nnext_line()") == f"{MARKER}\nnext_line()"


def test_a_private_key_written_as_joined_strings_is_masked_whole():
    lines = RSA_KEY.split("\n")
    code = "KEY = (\n" + "".join(f'    "{line}\\n"\n' for line in lines) + ")\nsign(KEY)"

    assert redact_text(code) == f'KEY = (\n    "{MARKER}\\n"\n)\nsign(KEY)'


def test_a_private_key_in_one_string_with_escaped_line_ends_is_masked_whole():
    code = 'KEY = "' + RSA_KEY.replace("\n", "\\n") + '"\nsign(KEY)'

    assert redact_text(code) == f'KEY = "{MARKER}"\nsign(KEY)'


def test_a_private_key_the_text_ends_in_is_masked_to_its_end():
    """The text above the cursor, when the cursor is in the key."""
    above_cursor = 'KEY = """' + RSA_KEY.split("-----END")[0]

    assert redact_text(above_cursor) == f'KEY = """{MARKER}\n'


def test_the_end_of_a_private_key_whose_beginning_is_not_in_the_text_is_masked_with_it():
    """The text below the cursor, when the cursor is in the key."""
    below_cursor = RSA_KEY.split("\n", 2)[2] + '"""\n\n\ndef sign(data):\n'

    assert redact_text(below_cursor) == f'{MARKER}"""\n\n\ndef sign(data):\n'


def test_the_markers_of_a_private_key_alone_keep_the_code_after_them():
    code = (
        'START = b"-----BEGIN OPENSSH PRIVATE KEY-----"\n'
        'END = b"-----END OPENSSH PRIVATE KEY-----"\n'
        "\n"
        "def load(data):\n"
        "    return data[len(START):]"
    )

    assert redact_text(code) == (
        f'START = b"{MARKER}"\nEND = b"{MARKER}"\n\ndef load(data):\n    return data[len(START):]'
    )


def test_a_putty_private_key_is_masked_through_its_mac():
    key = (
        "PuTTY-User-Key-File-2: ssh-rsa\n"
        "Encryption: none\n"
        "Comment: rsa-key-20240101\n"
        "Public-Lines: 1\n"
        "AAAAB3NzaC1yc2EAAAABJQAAAQEAhPdDVwYbd0Hz4OMzFf38Q1mZ1JPrsB3XLn1s\n"
        f"Private-Lines: 4\n{RSA_BODY.split(chr(10), 1)[1]}\n"
        "Private-MAC: 7a2c9e1f04b3d5a6c8e0f2a4b6c8d0e2f4a6b8c0\n"
        "after = 1"
    )

    assert redact_text(key) == f"{MARKER}\nafter = 1"


def test_a_token_handed_to_a_function_is_masked_though_the_detector_would_let_it_pass():
    line = f'session = boto3.Session(aws_access_key_id="{AWS_KEY}", region_name="eu-west-1")'

    assert redact_text(line) == line.replace(AWS_KEY, MARKER)


def test_a_bare_password_is_a_secret_in_a_configuration_file_not_in_code():
    line = "password: correct-horse-battery-staple"

    assert redact_text(line, file_name="config/database.yml") == f"password: {MARKER}"
    assert redact_text(line, file_name="app/settings.py") == line


@pytest.mark.parametrize("name", [".env", "deploy/.env.production", "local.env"])
def test_an_env_file_is_read_as_a_configuration_file(name):
    assert redact_text("DB_PASSWORD=correct-horse", file_name=name) == f"DB_PASSWORD={MARKER}"


def test_a_secret_typed_into_a_file_already_seen_is_masked():
    code = "import os\n\n\ndef connect():\n    return db.connect(user='app')\n"
    assert redact_text(code) == code

    typed = code.replace("user='app'", "user='app', password='correct-horse'")

    assert redact_text(typed) == typed.replace("correct-horse", MARKER)
    assert redact_text(typed) == typed.replace("correct-horse", MARKER)


def test_a_line_too_long_to_scan_is_masked_whole():
    minified = "var a={" + ",".join(f"k{n}:{n}" for n in range(1000)) + "};"

    assert redact_text(f"// bundle\n{minified}\n// end") == f"// bundle\n{MARKER}\n// end"


def test_ordinary_code_is_left_as_it_is():
    code = (
        "import os\n"
        'SECRET_KEY = os.environ["DJANGO_SECRET_KEY"]\n'
        "password = form.cleaned_data['password']\n"
        "user.set_password(password)\n"
        'REQUEST_ID = "3f2b8c1e-9a4d-4e6f-8b2a-1c3d5e7f9a0b"\n'
        'ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"\n'
        'token = request.headers["X-Gitlab-Token"]\n'
        'DNS_SERVER = "8.8.8.8"\n'
        'url = f"https://{user}:{password}@{host}/"\n'
        f'note = "{MARKER}"\n'
    )

    assert redact_text(code) == code


def test_masking_a_masked_text_changes_nothing():
    once = redact_text("\n".join(sample.line for sample in SAMPLES), file_name="app/settings.py")

    assert redact_text(once, file_name="app/settings.py") == once


def test_text_of_no_file_is_read_as_configuration_too_but_code_in_it_keeps_its_names():
    text = "\n".join(
        [
            "SMTP_PASSWORD=EnvFileSecretValue-77 is what the .env says",
            "password: CorrectHorseBatteryStaple9911",
            "def login(password: str, secret_key: bytes) -> None:",
            "    if not password_ok: raise ValueError('password too short')",
            "secret_key = settings.SECRET_KEY_2",
        ]
    )

    assert redact_text(text).split("\n") == [
        f"SMTP_PASSWORD={MARKER} is what the .env says",
        f"password: {MARKER}",
        "def login(password: str, secret_key: bytes) -> None:",
        "    if not password_ok: raise ValueError('password too short')",
        "secret_key = settings.SECRET_KEY_2",
    ]
    assert redact_text(text, file_name="app.py") == text  # code: a secret there is quoted


def test_a_urls_password_is_masked_with_no_user_name_before_it():
    text = 'BROKER_URL = "redis://:s3cret-pass@cache:6379/0"\nHOME = "http://example.com:8080/"'

    assert redact_text(text, file_name="settings.py") == (
        f'BROKER_URL = "redis://:{MARKER}@cache:6379/0"\nHOME = "http://example.com:8080/"'
    )


def test_an_authorization_headers_credentials_are_masked_whoever_issued_them():
    text = "\n".join(
        [
            'headers = {"Authorization": "Bearer 8c1f0e2a9b7d4c3e5f6a7b8c9d0e1f2a"}',
            "curl -H 'Authorization: bearer abcDEF123-ghiJKL456.mnoPQR789'",
            "curl -H 'Authorization: Basic YWRtaW46aHVudGVyMg=='",
            "# Bearer tokens expire after an hour; Basic authentication is disabled",
        ]
    )

    assert redact_text(text, file_name="client.py").split("\n") == [
        f'headers = {{"Authorization": "Bearer {MARKER}"}}',
        f"curl -H 'Authorization: bearer {MARKER}'",
        f"curl -H 'Authorization: Basic {MARKER}'",
        "# Bearer tokens expire after an hour; Basic authentication is disabled",
    ]


def test_text_of_no_file_loses_every_credential_assigned_on_a_line_whatever_follows_it():
    text = "\n".join(
        [
            "I set DB_PASSWORD=Hist0ry-42x, but the login fails",
            "env DB_PASSWORD=Abc12345xyz SECRET_KEY=Zq8fK2mP9xL ./run",
            "export GITLAB_TOKEN=Zq8fK2mP9xLw",
            "DB_PASSWORD := S3cretPw9x",
            "max_tokens = 1024",
        ]
    )

    assert redact_text(text).split("\n") == [
        f"I set DB_PASSWORD={MARKER}, but the login fails",
        f"env DB_PASSWORD={MARKER} SECRET_KEY={MARKER} ./run",
        f"export GITLAB_TOKEN={MARKER}",
        f"DB_PASSWORD := {MARKER}",
        "max_tokens = 1024",
    ]


@pytest.mark.parametrize("file_name", ["config/DB.YML", "config/.ENV", ".env.", "deploy\\.env"])
def test_a_files_type_is_read_from_its_name_in_any_case_as_windows_reads_it(file_name):
    assert redact_text("password: LettersOnly", file_name=file_name) == f"password: {MARKER}"


@pytest.mark.parametrize("line", ["token" * 999, "a" * 2500 + "token" + "a" * 2490])
def test_a_long_line_of_prose_is_read_in_one_pass(line):
    # Read with backtracking, the first took five minutes: a chat question could hold a worker.
    # In a process of its own, which can be stopped: a regex holds the GIL until it ends.
    reader = multiprocessing.get_context("fork").Process(target=redact_text, args=(line,))
    reader.start()
    reader.join(timeout=10)
    finished = not reader.is_alive()
    reader.kill()

    assert finished
