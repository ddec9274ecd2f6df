import pytest

from codesuggest.providers import CompletionRequest
from codesuggest.providers.fim import template_for

REQUEST = CompletionRequest(prefix="a = {", suffix="}", file_name="x.py", language="python")


@pytest.mark.parametrize(
    ("model", "family"),
    [
        ("codestral-latest", "codestral"),
        ("mistralai/Codestral-22B-v0.1", "codestral"),
        ("qwen2.5-coder:7b", "qwen-coder"),
        ("Qwen/Qwen2.5-Coder-32B-Instruct", "qwen-coder"),
        ("google/codegemma-7b", "qwen-coder"),
        ("codellama:13b-code", "codellama"),
        ("bigcode/starcoder", "starcoder"),
        ("starcoder2:3b", "starcoder"),
        ("deepseek-coder-v2", "deepseek-coder"),
    ],
)
def test_the_family_comes_from_the_model_name(model, family):
    template = template_for(model)

    assert template is not None
    assert template.family == family


@pytest.mark.parametrize("model", ["", "gpt-4o-mini", "llama3.1:8b", "code-gecko@002"])
def test_a_model_without_a_known_family_uses_the_native_suffix(model):
    assert template_for(model) is None


def test_braces_in_the_code_are_left_alone():
    template = template_for("starcoder2")

    assert template is not None
    assert template.render(REQUEST) == "<fim_prefix>a = {<fim_suffix>}<fim_middle>"


def test_a_custom_template_wins_over_the_family():
    template = template_for("starcoder2", "<{language}:{file_name}>{prefix}|{suffix}")

    assert template is not None
    assert template.render(REQUEST) == "<python:x.py>a = {|}"
    assert template.stop == ()


@pytest.mark.parametrize(
    ("custom", "problem"),
    [
        ("{prefix}{secret}", "unknown fields: secret"),
        ("{suffix}", "must contain"),
        ("{", "not valid"),
    ],
)
def test_a_broken_custom_template_is_refused(custom, problem):
    with pytest.raises(ValueError, match=problem):
        template_for("m", custom)
