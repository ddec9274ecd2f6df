import pytest

from codesuggest.providers.token_count import CHARS_PER_TOKEN, count_tokens
from completions.languages import detect_language
from completions.prompts import (
    INSTRUCTIONS_BY_GENERATION_TYPE,
    budget_prompt,
    context_preamble,
    generation_messages,
)


def test_it_counts_one_token_per_three_characters_rounding_up():
    assert count_tokens("") == 0
    assert count_tokens("abc") == 1
    assert count_tokens("abcd") == 2


def test_it_keeps_everything_that_fits():
    prompt = budget_prompt(prefix="x = 1\n", suffix="y = 2\n", context=[], max_prompt_tokens=100)
    assert (prompt.prefix, prompt.suffix, prompt.context) == ("x = 1\n", "y = 2\n", ())


def test_it_gives_the_prefix_about_93_percent_and_the_suffix_7():
    prefix = "".join(f"line_{n} = {n}\n" for n in range(2000))
    suffix = "".join(f"after_{n} = {n}\n" for n in range(2000))
    prompt = budget_prompt(prefix=prefix, suffix=suffix, context=[], max_prompt_tokens=1000)
    assert 900 <= count_tokens(prompt.prefix) <= 930
    assert 60 <= count_tokens(prompt.suffix) <= 70
    assert count_tokens(prompt.prefix) + count_tokens(prompt.suffix) <= 1000


def test_a_prefix_cut_inside_a_block_still_starts_with_a_whole_line():
    # Indented lines only: no top-level line to start at. A line's tail would carry the end of
    # a secret that no longer looks like one, past the redaction.
    lines = [f"    token_{n} = 'glpat-{n:020d}'\n" for n in range(2000)]
    prefix = "def f():\n" + "".join(lines)
    for budget in range(200, 240):
        kept = budget_prompt(prefix=prefix, suffix="", context=[], max_prompt_tokens=budget).prefix
        assert kept == "".join(lines[-len(kept.splitlines()) :])


def test_it_cuts_the_prefix_from_the_left_and_the_suffix_from_the_right():
    prefix = "".join(f"line_{n} = {n}\n" for n in range(2000))
    suffix = "".join(f"after_{n} = {n}\n" for n in range(2000))
    prompt = budget_prompt(prefix=prefix, suffix=suffix, context=[], max_prompt_tokens=1000)
    assert prefix.endswith(prompt.prefix)
    assert suffix.startswith(prompt.suffix)
    assert prompt.suffix.endswith("\n")


def test_it_drops_a_half_cut_block_at_the_start_of_the_prefix():
    function = "def f{n}(x):\n    y = x * {n}\n    return y\n\n"
    prefix = "".join(function.format(n=n) for n in range(300))
    prompt = budget_prompt(prefix=prefix, suffix="", context=[], max_prompt_tokens=1000)
    assert prompt.prefix.startswith("def f")


def test_a_closing_brace_does_not_start_a_block():
    function = "function f{n}(x) {{\n  const y = x * {n};\n  return y;\n}}\n"
    prefix = "".join(function.format(n=n) for n in range(300))
    prompt = budget_prompt(prefix=prefix, suffix="", context=[], max_prompt_tokens=1000)
    assert prompt.prefix.startswith("function f")


def test_it_does_not_drop_more_than_the_first_tenth():
    prefix = "    indented = 1\n" * 2000 + "top = 1\n"
    prompt = budget_prompt(prefix=prefix, suffix="", context=[], max_prompt_tokens=1000)
    assert prompt.prefix.startswith("    indented")


def test_it_keeps_context_within_its_share_when_the_code_is_large():
    prefix = "x = 1\n" * 10_000
    big = ("big.py", "a = 1\n" * 400)
    small = ("small.py", "b = 2\n")
    prompt = budget_prompt(prefix=prefix, suffix="", context=[big, small], max_prompt_tokens=1000)
    assert prompt.context == (small,)
    assert count_tokens(prompt.prefix) <= 1000 - count_tokens(small[1])


def test_small_code_leaves_its_room_to_the_context():
    item = ("big.py", "a = 1\n" * 200)
    prompt = budget_prompt(prefix="x = ", suffix="", context=[item], max_prompt_tokens=1000)
    assert prompt.context == (item,)
    assert prompt.prefix == "x = "


def test_a_zero_budget_keeps_nothing():
    prompt = budget_prompt(prefix="x = 1", suffix="y", context=[("a", "b")], max_prompt_tokens=0)
    assert (prompt.prefix, prompt.suffix, prompt.context) == ("", "", ())


def test_the_context_preamble_names_each_file_in_the_languages_comments():
    preamble = context_preamble([("lib/a.go", "package a\n")], detect_language("main.go"))
    assert preamble == "// Path: lib/a.go\npackage a\n\n"
    assert context_preamble([("a.py", "x = 1")], detect_language("b.py")).startswith("# Path")
    assert context_preamble([], None) == ""


def test_generation_messages_ask_for_code_only_with_the_instruction():
    system, user = generation_messages(
        prefix="# sort users by age\n",
        suffix="\nprint(1)\n",
        file_name="app.py",
        language=detect_language("app.py"),
        user_instruction="Sort users by age, oldest first",
        generation_type="comment",
        context=[("models.py", "class User: ...")],
    )
    assert "python" in system
    assert "only" in system
    assert "Sort users by age, oldest first" in user
    assert "# sort users by age\n<cursor>\nprint(1)" in user
    assert "models.py" in user


@pytest.mark.parametrize("generation_type", ["comment", "small_file", "empty_function"])
def test_without_an_instruction_generation_messages_ask_what_the_generation_type_asks(
    generation_type,
):
    _, user = generation_messages(
        prefix="func f() {\n",
        suffix="}\n",
        file_name="a.go",
        language=None,
        user_instruction=None,
        generation_type=generation_type,
        context=[],
    )
    asked = [text for text in INSTRUCTIONS_BY_GENERATION_TYPE.values() if text in user]
    assert asked == [INSTRUCTIONS_BY_GENERATION_TYPE[generation_type]]


def test_without_a_generation_type_the_comment_above_the_cursor_is_the_instruction():
    _, user = generation_messages(
        prefix="# parse the dates in the log\n",
        suffix="",
        file_name="a.py",
        language=None,
        user_instruction=None,
        generation_type=None,
        context=[],
    )
    assert user.endswith(INSTRUCTIONS_BY_GENERATION_TYPE["comment"])


def test_generation_messages_fence_code_that_contains_fences():
    _, user = generation_messages(
        prefix='doc = """\n```python\nx = 1\n```\n"""\n',
        suffix="",
        file_name="a.py",
        language=None,
        user_instruction=None,
        generation_type=None,
        context=[],
    )
    assert "````\n" in user


def test_the_ratio_is_what_count_tokens_uses():
    assert count_tokens("x" * CHARS_PER_TOKEN * 10) == 10
