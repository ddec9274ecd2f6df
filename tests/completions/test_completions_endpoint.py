import pytest

from completions.models import UsageEvent
from completions.prompts import INSTRUCTIONS_BY_GENERATION_TYPE
from completions.usage import flush_usage_events
from projects.models import InstanceSettings
from tests.completions.conftest import COMPLETIONS, PYTHON_ABOVE, completion_body
from tests.conftest import INSUFFICIENT_SCOPE, make_token


def test_it_returns_a_completion_in_gitlabs_shape(api, upstream, bob_token):
    response = api.post(COMPLETIONS, completion_body(), token=bob_token)

    assert response.status_code == 200
    body = response.json()
    assert body["object"] == "text_completion"
    assert body["model"] == {"engine": "openai", "name": "gpt-3.5-turbo-instruct", "lang": "python"}
    assert body["choices"] == [{"text": "return a * b", "index": 0, "finish_reason": "stop"}]
    assert isinstance(body["created"], int)


def test_it_sends_the_text_around_the_cursor_to_the_model(api, upstream, bob_token):
    api.post(COMPLETIONS, completion_body(), token=bob_token)

    sent = upstream.last.json
    assert upstream.last.path == "/v1/completions"
    assert sent["prompt"].endswith("def multiply(a, b):\n    product = a * b\n    ")
    assert sent["suffix"] == "\n"


def test_each_response_has_its_own_id(api, upstream, bob_token):
    ids = {api.post(COMPLETIONS, completion_body(), token=bob_token).json()["id"] for _ in range(3)}

    assert len(ids) == 3


def test_it_returns_up_to_four_choices_numbered_in_order(api, upstream, bob_token):
    upstream.completion_texts = ["return a * b", "return b * a", "return a * b * 1"]

    response = api.post(COMPLETIONS, completion_body(choices_count=3), token=bob_token)

    choices = response.json()["choices"]
    assert [c["index"] for c in choices] == [0, 1, 2]
    assert [c["text"] for c in choices] == ["return a * b", "return b * a", "return a * b * 1"]
    assert upstream.last.json["n"] == 3


def test_it_drops_choices_that_are_empty_after_cleaning(api, upstream, bob_token):
    upstream.completion_texts = ["return a * b", "   \n  ", "# just a comment"]

    response = api.post(COMPLETIONS, completion_body(choices_count=3), token=bob_token)

    assert [c["text"] for c in response.json()["choices"]] == ["return a * b"]


def test_nothing_to_suggest_is_a_200_with_no_choices(api, upstream, bob_token):
    upstream.completion_texts = ["\n\n"]

    response = api.post(COMPLETIONS, completion_body(), token=bob_token)

    assert response.status_code == 200
    assert response.json()["choices"] == []


def test_finish_reason_says_length_when_the_token_limit_cut_the_text(api, upstream, bob_token):
    upstream.completion_texts = ["return a * b"]
    upstream.finish_reason = "length"

    response = api.post(COMPLETIONS, completion_body(), token=bob_token)

    assert response.json()["choices"][0]["finish_reason"] == "length"


def test_an_unknown_language_is_still_served_with_an_empty_lang(api, upstream, bob_token):
    body = completion_body()
    body["current_file"]["file_name"] = "notes.unknownext"

    response = api.post(COMPLETIONS, body, token=bob_token)

    assert response.status_code == 200
    assert response.json()["model"]["lang"] == ""


def test_a_generation_uses_the_chat_endpoint_and_strips_fences(api, upstream, bob_token):
    upstream.chat_text = "```python\ndef multiply(a, b):\n    return a * b\n```"
    body = completion_body(intent="generation", user_instruction="write multiply")

    response = api.post(COMPLETIONS, body, token=bob_token)

    assert upstream.last.path == "/v1/chat/completions"
    text = response.json()["choices"][0]["text"]
    assert "```" not in text
    assert "def multiply(a, b):\n    return a * b" in text


@pytest.mark.parametrize(
    ("intent", "path", "model"),
    [
        ("completion", "/v1/completions", "gpt-3.5-turbo-instruct"),
        ("generation", "/v1/chat/completions", "gpt-4o-mini"),
    ],
)
def test_with_no_model_named_the_answer_names_the_model_each_kind_went_to(
    api, upstream, settings, bob_token, intent, path, model
):
    settings.COMPLETIONS_MODEL = settings.GENERATIONS_MODEL = ""
    upstream.chat_text = "def multiply(a, b):\n    return a * b"
    body = completion_body(intent=intent, user_instruction="write multiply")

    response = api.post(COMPLETIONS, body, token=bob_token)

    assert (upstream.last.path, upstream.last.json["model"]) == (path, model)
    assert response.json()["model"]["name"] == model


@pytest.mark.parametrize("tag", ["python", "typescript", "java_script", "not-a-language", ""])
@pytest.mark.parametrize(
    "answer",
    [
        "```{tag}\ndef multiply(a, b):\n    return a * b```",
        "```{tag}  \r\ndef multiply(a, b):\r\n    return a * b```  \r\nIt multiplies.",
        "def multiply(a, b):\n    return a * b```",
    ],
    ids=["glued", "windows line ends", "no opening fence"],
)
def test_a_generation_loses_a_closing_fence_glued_to_its_last_line(
    api, upstream, bob_token, answer, tag
):
    upstream.chat_text = answer.replace("{tag}", tag)
    body = completion_body(intent="generation", user_instruction="write multiply")

    text = api.post(COMPLETIONS, body, token=bob_token).json()["choices"][0]["text"]

    assert text.replace("\r\n", "\n") == "\ndef multiply(a, b):\n    return a * b"


@pytest.mark.parametrize("cursor_line", ["", "    "], ids=["empty", "indentation"])
def test_a_completion_loses_a_comment_it_repeats_on_a_blank_cursor_line(
    api, upstream, bob_token, cursor_line
):
    upstream.completion_texts = ["# multiply them\n    return a * b"]
    body = completion_body(intent="completion")
    body["current_file"]["content_above_cursor"] = (
        f"def multiply(a, b):\n    # multiply them\n{cursor_line}"
    )

    text = api.post(COMPLETIONS, body, token=bob_token).json()["choices"][0]["text"]

    # The cursor's line already holds the indentation it has.
    assert cursor_line + text == "    return a * b"


def test_a_go_block_keeps_its_line_end_before_a_brace_on_the_cursors_line(api, upstream, bob_token):
    upstream.completion_texts = ["\tb()\n}\n\nfunc g() {}\n"]
    body = completion_body(intent="completion")
    body["current_file"].update(
        file_name="f.go",
        content_above_cursor="package main\n\nfunc f() {\n\ta()\n",
        content_below_cursor="}\n",
    )

    text = api.post(COMPLETIONS, body, token=bob_token).json()["choices"][0]["text"]

    assert text == "\tb()\n"


def test_a_comment_instruction_is_detected_as_a_generation(api, upstream, bob_token):
    upstream.chat_text = "def fib(n):\n    return n if n < 2 else fib(n - 1) + fib(n - 2)"
    body = completion_body()
    body["current_file"]["content_above_cursor"] = PYTHON_ABOVE + "# compute fibonacci numbers\n"

    api.post(COMPLETIONS, body, token=bob_token)

    assert upstream.last.path == "/v1/chat/completions"


def test_a_short_file_with_code_below_the_cursor_is_a_completion(api, upstream, bob_token):
    body = completion_body()
    body["current_file"] = {
        "file_name": "a.py",
        "content_above_cursor": "import os\n",
        "content_below_cursor": "a = 1\nb = 2\nc = 3\nd = 4\n",
    }

    response = api.post(COMPLETIONS, body, token=bob_token)

    assert upstream.last.path == "/v1/completions"
    assert response.json()["model"]["lang"] == "python"


@pytest.mark.parametrize(
    ("file_name", "above", "below", "generation_type"),
    [
        ("calc.py", PYTHON_ABOVE + "# compute fibonacci numbers\n", "\n", "comment"),
        ("a.py", "import os\n", "a = 1\nb = 2\n", "small_file"),
        (
            "main.go",
            'package main\n\nimport "sync"\n\nvar wg sync.WaitGroup\n\n'
            "func main() {\n\twg.Add(1)\n\tgo func() {",
            "\t}()\n\twg.Wait()\n}\n",
            "empty_function",
        ),
        (
            "Module1.vb",
            "Dim a\nDim b\nDim c\nDim d\nDim e\n' add up the first ten squares\n",
            "",
            "comment",
        ),
    ],
)
def test_the_model_gets_the_instruction_for_what_set_the_generation_off(
    api, upstream, bob_token, file_name, above, below, generation_type
):
    upstream.chat_text = "x = 1"
    body = completion_body()
    body["current_file"] = {
        "file_name": file_name,
        "content_above_cursor": above,
        "content_below_cursor": below,
    }

    api.post(COMPLETIONS, body, token=bob_token)

    assert upstream.last.path == "/v1/chat/completions"
    user_message = upstream.last.json["messages"][-1]["content"]
    asked = [text for text in INSTRUCTIONS_BY_GENERATION_TYPE.values() if text in user_message]
    assert asked == [INSTRUCTIONS_BY_GENERATION_TYPE[generation_type]]


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({}, "current_file is missing"),
        ({"current_file": "x"}, "current_file is invalid"),
        (
            {"current_file": {}},
            "current_file[file_name] is missing, current_file[content_above_cursor] is missing",
        ),
        (
            {"current_file": {"file_name": "a" * 256, "content_above_cursor": ""}},
            "current_file[file_name] must be less than 255 characters",
        ),
        (
            {"current_file": {"file_name": "a.py", "content_above_cursor": "x" * 400_001}},
            "current_file[content_above_cursor] must be less than 400000 characters",
        ),
        (
            {"current_file": {"file_name": "a.py", "content_above_cursor": ["x"]}},
            "current_file[content_above_cursor] is invalid",
        ),
        (completion_body(intent="refactor"), "intent does not have a valid value"),
        (completion_body(stream="maybe"), "stream is invalid"),
        (completion_body(generation_type="poem"), "generation_type does not have a valid value"),
        (completion_body(choices_count=5), "choices_count does not have a valid value"),
        (completion_body(choices_count=0), "choices_count does not have a valid value"),
        (completion_body(context=[]), "context is empty"),
        (
            completion_body(context=[{"type": "url", "name": "a", "content": "b"}]),
            "context[0][type] does not have a valid value",
        ),
        (
            completion_body(context=[{"type": "file", "name": " ", "content": "b"}]),
            "context[0][name] is empty",
        ),
        (
            completion_body(context=[{"type": "file", "name": "a"}]),
            "context[0][content] is missing",
        ),
        (
            completion_body(context=[{"type": "file", "name": "n" * 256, "content": "b"}]),
            "context[0][name] must be less than 255 characters",
        ),
    ],
)
def test_it_rejects_invalid_parameters_with_gitlabs_message(api, upstream, bob_token, body, error):
    response = api.post(COMPLETIONS, body, token=bob_token)

    assert response.status_code == 400
    assert response.json() == {"error": error}
    assert upstream.requests == []


def test_it_accepts_and_ignores_unknown_keys(api, upstream, bob_token):
    body = completion_body(prompt_version=1, project_id=7, telemetry=[{"model_engine": "x"}])

    assert api.post(COMPLETIONS, body, token=bob_token).status_code == 200


def test_it_uses_context_items_in_the_prompt(api, upstream, bob_token):
    context = [
        {"type": "file", "name": "helpers.py", "content": "def square(x):\n    return x * x\n"}
    ]

    api.post(COMPLETIONS, completion_body(context=context), token=bob_token)

    assert "def square(x)" in upstream.last.json["prompt"]


def test_anonymous_with_bad_parameters_gets_401_not_400(api, upstream):
    response = api.post(COMPLETIONS, {"current_file": 1})

    assert response.status_code == 401
    assert response.json() == {"message": "401 Unauthorized"}


def test_a_read_api_token_is_not_enough(api, upstream, world):
    token = make_token(world.bob, scopes=("read_api",))

    response = api.post(COMPLETIONS, completion_body(), token=token)

    assert response.status_code == 403
    assert response.json() == INSUFFICIENT_SCOPE


def test_a_user_without_code_suggestions_access_gets_401(api, upstream, world, bob_token):
    world.bob.code_suggestions_access = False
    world.bob.save()

    response = api.post(COMPLETIONS, completion_body(), token=bob_token)

    assert response.status_code == 401
    assert response.json() == {"message": "401 Unauthorized"}


def test_it_is_404_when_code_suggestions_are_off_for_the_instance(api, upstream, bob_token):
    InstanceSettings.objects.update_or_create(pk=1, defaults={"code_suggestions": "off"})
    InstanceSettings.load().save()  # as the admin does; clears the cached copy

    response = api.post(COMPLETIONS, completion_body(), token=bob_token)

    assert response.status_code == 404


def test_a_project_with_code_suggestions_off_gets_403(api, upstream, world, bob_token):
    world.project.code_suggestions = False
    world.project.save()
    world.group.code_suggestions = False
    world.group.save()
    world.subgroup.code_suggestions = False
    world.subgroup.save()

    response = api.post(
        COMPLETIONS, completion_body(project_path="acme/platform/tools"), token=bob_token
    )

    assert response.status_code == 403
    assert response.json() == {"message": "403 Forbidden"}
    assert upstream.requests == []


def test_a_private_project_the_user_cannot_see_is_not_revealed(api, upstream, world):
    for namespace in (world.project, world.group, world.subgroup):
        namespace.code_suggestions = False
        namespace.save()
    charlie = make_token(world.charlie, scopes=("api",))

    response = api.post(
        COMPLETIONS, completion_body(project_path="acme/platform/tools"), token=charlie
    )

    # Served as if no project had been named: a 403 would tell charlie the project exists.
    assert response.status_code == 200


def test_the_short_lived_token_is_accepted(api, upstream, bob_token):
    jwt = api.post("/api/v4/code_suggestions/tokens", token=bob_token).json()["access_token"]

    response = api.post(COMPLETIONS, completion_body(), HTTP_AUTHORIZATION=f"Bearer {jwt}")

    assert response.status_code == 200


def test_the_rate_limit_answers_429_with_retry_after(api, upstream, settings, bob_token):
    settings.CODE_SUGGESTIONS_RATE_LIMIT = 3

    statuses = [
        api.post(COMPLETIONS, completion_body(), token=bob_token).status_code for _ in range(4)
    ]

    assert statuses == [200, 200, 200, 429]
    limited = api.post(COMPLETIONS, completion_body(), token=bob_token)
    assert limited.json() == {
        "message": {"error": "This endpoint has been requested too many times. Try again later."}
    }
    assert 1 <= int(limited["Retry-After"]) <= 60


def test_invalid_requests_do_not_count_against_the_rate_limit(api, upstream, settings, bob_token):
    settings.CODE_SUGGESTIONS_RATE_LIMIT = 1
    for _ in range(3):
        assert api.post(COMPLETIONS, {}, token=bob_token).status_code == 400

    assert api.post(COMPLETIONS, completion_body(), token=bob_token).status_code == 200


def test_the_rate_limit_is_per_user(api, upstream, settings, world, bob_token):
    settings.CODE_SUGGESTIONS_RATE_LIMIT = 1
    alice = make_token(world.alice, scopes=("api",))
    api.post(COMPLETIONS, completion_body(), token=bob_token)

    assert api.post(COMPLETIONS, completion_body(), token=alice).status_code == 200


def test_a_rate_limit_of_zero_switches_it_off(api, upstream, settings, bob_token):
    settings.CODE_SUGGESTIONS_RATE_LIMIT = 0

    statuses = {
        api.post(COMPLETIONS, completion_body(), token=bob_token).status_code for _ in range(5)
    }

    assert statuses == {200}


def test_each_request_is_recorded_without_its_code(api, upstream, world, bob_token):
    api.post(COMPLETIONS, completion_body(project_path="acme/platform/tools"), token=bob_token)
    flush_usage_events()

    event = UsageEvent.objects.get()
    assert (event.user, event.project, event.endpoint) == (world.bob, world.project, "completions")
    assert (event.language, event.intent, event.provider, event.status) == (
        "python",
        "completion",
        "openai",
        200,
    )
    assert event.prompt_chars == len(PYTHON_ABOVE) + 1
    assert event.suggestion_chars == len("return a * b")
    stored = [str(value) for value in UsageEvent.objects.values().get().values()]
    assert not any("multiply" in value for value in stored)


def test_a_failed_request_is_recorded_with_its_status(api, upstream, bob_token):
    from tests.fake_servers import Reply

    upstream.script(Reply(status=500), Reply(status=500), Reply(status=500))
    api.post(COMPLETIONS, completion_body(), token=bob_token)
    flush_usage_events()

    assert UsageEvent.objects.get().status == 503


@pytest.mark.django_db(transaction=True)
def test_a_user_deleted_before_the_flush_loses_only_their_own_events(api, upstream, world):
    # Committed for real: the database refuses the deleted user's event only at the insert.
    charlie_token = make_token(world.charlie, scopes=("ai_features",))
    api.post(COMPLETIONS, completion_body(), token=make_token(world.bob, scopes=("api",)))
    api.post(COMPLETIONS, completion_body(), token=charlie_token)
    world.bob.delete()

    assert flush_usage_events() == 1

    assert list(UsageEvent.objects.values_list("user", flat=True)) == [world.charlie.pk]


def test_a_request_refused_by_the_rate_limit_is_recorded_as_429(api, upstream, settings, bob_token):
    settings.CODE_SUGGESTIONS_RATE_LIMIT = 1
    for _ in range(2):
        api.post(COMPLETIONS, completion_body(), token=bob_token)
    flush_usage_events()

    assert sorted(UsageEvent.objects.values_list("status", "upstream_ms")) == [
        (200, upstream_ms := UsageEvent.objects.get(status=200).upstream_ms),
        (429, None),
    ]
    assert upstream_ms is not None


def test_the_time_spent_waiting_for_the_model_is_recorded_apart(api, upstream, bob_token):
    from tests.fake_servers import Reply

    upstream.script(Reply(default=True, delay=0.3))
    api.post(COMPLETIONS, completion_body(), token=bob_token)
    flush_usage_events()

    event = UsageEvent.objects.get()
    assert 300 <= event.upstream_ms <= event.latency_ms
    assert event.streamed is False


def test_turning_a_project_off_takes_effect_on_the_next_request(api, upstream, world, bob_token):
    body = completion_body(project_path="acme/platform/tools")
    assert api.post(COMPLETIONS, body, token=bob_token).status_code == 200

    world.group.lock_code_suggestions = True
    world.group.code_suggestions = False
    world.group.save()

    assert api.post(COMPLETIONS, body, token=bob_token).status_code == 403


def test_blocking_a_user_stops_their_cached_token_at_once(api, upstream, world, bob_token):
    assert api.post(COMPLETIONS, completion_body(), token=bob_token).status_code == 200

    world.bob.is_active = False
    world.bob.save()

    response = api.post(COMPLETIONS, completion_body(), token=bob_token)
    assert response.status_code == 403
    assert response.json() == {"message": "403 Forbidden - Your account has been blocked."}


def test_an_admins_fill_in_the_middle_template_shapes_the_prompt(api, upstream, bob_token):
    settings_row = InstanceSettings.load()
    settings_row.fim_template = "<<{file_name}|{language}>>{prefix}<<hole>>{suffix}<<fill>>"
    settings_row.save()

    api.post(COMPLETIONS, completion_body(), token=bob_token)

    sent = upstream.last.json
    assert sent["prompt"].startswith("<<calc.py|")
    assert sent["prompt"].endswith("<<hole>>\n<<fill>>")
    assert "suffix" not in sent


def test_the_model_family_chooses_the_fill_in_the_middle_template(
    api, upstream, settings, bob_token
):
    settings.COMPLETIONS_MODEL = "Qwen/Qwen2.5-Coder-7B"

    api.post(COMPLETIONS, completion_body(), token=bob_token)

    sent = upstream.last.json
    assert sent["prompt"].startswith("<|fim_prefix|>")
    assert sent["prompt"].endswith("<|fim_suffix|>\n<|fim_middle|>")
    assert "<|endoftext|>" in sent["stop"]


def test_an_admins_provider_and_model_override_the_environment(api, upstream, settings, bob_token):
    settings.COMPLETIONS_PROVIDER = "local"  # what the environment says
    overrides = InstanceSettings.load()
    overrides.completions_provider = "openai"
    overrides.completions_model = "starcoder2-15b"
    overrides.save()

    response = api.post(COMPLETIONS, completion_body(), token=bob_token)

    assert response.json()["model"]["engine"] == "openai"
    assert response.json()["model"]["name"] == "starcoder2-15b"
    assert upstream.last.json["model"] == "starcoder2-15b"
    assert upstream.last.json["prompt"].startswith("<fim_prefix>")
