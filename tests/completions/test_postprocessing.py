import re
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from completions.languages import detect_language
from completions.postprocessing import (
    postprocess_completion,
    postprocess_generation,
    stream_generation,
)

PYTHON = detect_language("a.py")
JS = detect_language("a.js")
GO = detect_language("a.go")
JAVA = detect_language("A.java")
PHP = detect_language("a.php")


def complete(prefix, suggestion, suffix="", language=PYTHON, hit_token_limit=False):
    return postprocess_completion(
        prefix=prefix,
        suffix=suffix,
        suggestion=suggestion,
        language=language,
        hit_token_limit=hit_token_limit,
    )


# Step 1: comment-only


@pytest.mark.parametrize(
    ("language", "suggestion"),
    [
        (PYTHON, "# compute the total\n# and return it"),
        (JS, "// compute the total"),
        (GO, "// compute the total\n/* and return it */"),
        (JAVA, "/** Computes the total. */"),
        (PHP, "# compute the total"),
    ],
)
def test_it_drops_a_suggestion_of_only_comments(language, suggestion):
    assert complete("x = 1\n", suggestion, language=language) == ""


def test_it_keeps_a_comment_followed_by_code():
    assert complete("x = 1\n", "# double it\ny = x * 2") == "# double it\ny = x * 2"


def test_an_unknown_language_skips_the_syntax_steps():
    assert complete("x = 1\n", "# only a comment", language=None) == "# only a comment"


# Step 2: trim to the enclosing block


def test_it_trims_a_python_suggestion_to_the_enclosing_block():
    prefix = "def f(x):\n    if x:\n        "
    assert complete(prefix, "return 1\n    return 2\n\ndef g(): ...") == "return 1"


def test_it_trims_a_python_body_before_the_next_top_level_statement():
    prefix = "def f(x):\n    "
    suggestion = "y = x + 1\n    return y\n\nprint(f(2))\n"
    assert complete(prefix, suggestion) == "y = x + 1\n    return y"


def test_it_keeps_a_whole_javascript_block_and_drops_what_follows():
    prefix = "function f(x) {\n  "
    suggestion = "if (x) {\n    y();\n  }\n  return x;\n}\n\nfunction g() {}"
    assert complete(prefix, suggestion, language=JS) == "if (x) {\n    y();\n  }"


def test_it_trims_a_go_suggestion_at_the_end_of_the_function():
    prefix = "package main\n\nfunc main() {\n\t"
    suggestion = 'fmt.Println("hi")\n}\n\nfunc other() {}\n'
    assert complete(prefix, suggestion, language=GO) == 'fmt.Println("hi")\n}'


def test_it_trims_a_java_suggestion_at_the_end_of_the_method():
    prefix = "class A {\n  int f() {\n    "
    suggestion = "int x = 1;\n    return x;\n  }\n\n  void g() {}\n}"
    assert complete(prefix, suggestion, language=JAVA) == "int x = 1;\n    return x;\n  }"


# The cursor at the start of a line whose text, the end of the block, follows it: the block
# keeps its line end, or the file would read `b()}`.
BLOCK_ENDS_ON_THE_CURSORS_LINE = {
    "a.go": ("func f() {\n\ta()\n", "\tb()\n}\n\nfunc g() {}\n", "}\n", "\tb()\n"),
    "a.js": ("function f() {\n  a();\n", "  b();\n}\n\nfunction g() {}\n", "}\n", "  b();\n"),
    "A.java": (
        "class A {\n  void f() {\n    a();\n",
        "    b();\n  }\n\n  void g() {}\n",
        "  }\n}\n",
        "    b();\n",
    ),
    "a.cs": (
        "class A {\n  void F() {\n    a();\n",
        "    b();\n  }\n\n  void G() {}\n",
        "  }\n}\n",
        "    b();\n",
    ),
    "a.rs": ("fn f() {\n    a();\n", "    b();\n}\n\nfn g() {}\n", "}\n", "    b();\n"),
    "a.rb": ("def f\n  a\n", "  b\nend\n\ndef g\nend\n", "end\n", "  b\n"),
    "a.kt": ("fun f() {\n    a()\n", "    b()\n}\n\nfun g() {}\n", "}\n", "    b()\n"),
    "a.lua": (
        "function f()\n  a()\nend\n",
        "  b()\nend\n\nfunction g()\nend\n",
        "end\n",
        "  b()\n",
    ),
    "a.py": ("def f():\n    a()\n", "    b()\n\ndef g():\n    pass\n", "    c()\n", "    b()\n"),
}


@pytest.mark.parametrize("line_end", ["\n", "\r\n"], ids=["lf", "crlf"])
@pytest.mark.parametrize("file_name", BLOCK_ENDS_ON_THE_CURSORS_LINE)
def test_a_block_keeps_its_line_end_when_the_suffix_continues_the_cursors_line(file_name, line_end):
    prefix, suggestion, suffix, expected = (
        text.replace("\n", line_end) for text in BLOCK_ENDS_ON_THE_CURSORS_LINE[file_name]
    )
    language = detect_language(file_name)
    assert complete(prefix, suggestion, suffix, language=language) == expected


def test_a_block_keeps_the_cursors_indentation_for_the_text_that_follows():
    prefix = "def f(x):\n    "
    suggestion = "y = x + 1\n    return y\n\nprint(f(2))\n"
    assert complete(prefix, suggestion, "log(x)\n") == "y = x + 1\n    return y\n    "


def test_a_block_loses_its_windows_line_end_when_the_suffix_is_on_a_later_line():
    prefix = "package main\r\n\r\nfunc main() {\r\n\t"
    suggestion = 'fmt.Println("hi")\r\n}\r\n\r\nfunc other() {}\r\n'
    assert complete(prefix, suggestion, language=GO) == 'fmt.Println("hi")\r\n}'


def test_a_single_line_suggestion_is_left_whole():
    assert complete("x = 1\ny = ", "x + 1") == "x + 1"


# Step 3: overlap with the suffix


def test_it_drops_a_suggestion_that_only_repeats_the_suffix():
    assert complete("def say_hi(s: str", "):", suffix="):") == ""


def test_it_cuts_a_closing_brace_the_suffix_already_has():
    prefix = "class A {\n  int f() {\n    "
    suggestion = "return 1;\n  }"
    suffix = "\n  }\n\n  void g() {}\n}\n"
    assert complete(prefix, suggestion, suffix, language=JAVA) == "return 1;"


def test_it_cuts_at_the_occurrence_that_keeps_the_code_valid():
    prefix = "function f(x) {\n  "
    suggestion = "if (x) {\n    y();\n  }\n}"
    suffix = "\n}\n\nfunction g() {}\n"
    assert complete(prefix, suggestion, suffix, language=JS) == "if (x) {\n    y();\n  }"


def test_it_keeps_a_cut_only_when_it_adds_no_syntax_errors():
    # The `)` closes the call the suggestion opens, not the one in the prefix: cutting it breaks.
    prefix = "package main\n\nfunc main() {\n\tfmt.Println("
    suggestion = "strings.Repeat(a, 2)"
    suffix = ")\n}\n"
    assert complete(prefix, suggestion, suffix, language=GO) == "strings.Repeat(a, 2)"


def test_it_cuts_the_suffixs_closing_parenthesis_on_the_same_line():
    prefix = "package main\n\nfunc main() {\n\tfmt.Println("
    suggestion = '"hi")'
    suffix = ")\n}\n"
    assert complete(prefix, suggestion, suffix, language=GO) == '"hi"'


# Step 4: model reflection


def test_it_drops_a_repeated_comment_line_after_the_first_line():
    prefix = "# load the settings\nsettings = load()\n"
    suggestion = "x = 1\n# load the settings\ny = 2"
    assert complete(prefix, suggestion, language=None) == "x = 1\ny = 2"


def test_it_drops_five_repeated_code_lines():
    repeated = "a = 1\nb = 2\nc = 3\nd = 4\ne = 5\n"
    prefix = repeated + "\nresult = compute()\n"
    suggestion = "print(result)\n" + repeated + "print('done')"
    assert complete(prefix, suggestion, language=None) == "print(result)\nprint('done')"


def test_four_repeated_code_lines_are_kept():
    repeated = "a = 1\nb = 2\nc = 3\nd = 4\n"
    suggestion = "print(result)\n" + repeated + "print('done')"
    assert complete(repeated, suggestion, language=None) == suggestion


def test_the_first_line_is_kept_when_it_continues_the_cursors_line():
    prefix = "# load the settings\nsettings = "
    suggestion = "load()  # load the settings\n# load the settings\nx = 1"
    assert complete(prefix, suggestion, language=None) == "load()  # load the settings\nx = 1"


@pytest.mark.parametrize(
    ("prefix", "suggestion", "expected"),
    [
        ("# add two numbers\nx = 1\n", "# add two numbers\ny = 2", "y = 2"),
        ("# add two numbers\r\nx = 1\r\n", "# add two numbers\r\ny = 2", "y = 2"),
        ("def f():\n    # add two numbers\n    ", "# add two numbers\n    y = 2", "y = 2"),
        ("def f():\n    # add\n    ", "# add\n        y = 2", "    y = 2"),
        ("def f():\n\t# add two numbers\n\t", "# add two numbers\n\ty = 2", "y = 2"),
    ],
    ids=["empty line", "windows line ends", "indentation", "deeper indentation", "tab"],
)
def test_a_repeated_comment_on_the_first_line_goes_when_the_cursors_line_is_blank(
    prefix, suggestion, expected
):
    assert complete(prefix, suggestion, language=None) == expected
    assert complete(prefix, suggestion, language=PYTHON) == expected


# Step 5: whitespace only


def test_it_drops_a_whitespace_only_suggestion():
    assert complete("x = 1\n", "   \n\t\n") == ""
    assert complete("x = 1\n", "  \n", language=None) == ""


# Step 6: stop at the budget


def test_it_cuts_back_to_the_last_whole_line_when_the_model_hit_its_limit():
    suggestion = "a = 1\nb = 2\nc = compute(1, "
    assert complete("x = 1\n", suggestion, language=None, hit_token_limit=True) == "a = 1\nb = 2"


def test_cutting_back_to_a_whole_line_leaves_no_windows_line_end_half():
    suggestion = "a = 1\r\nb = 2\r\nc = compute(1, "
    assert complete("x = 1\r\n", suggestion, language=None, hit_token_limit=True) == (
        "a = 1\r\nb = 2"
    )


def test_it_keeps_a_single_unfinished_line_rather_than_nothing():
    assert complete("x = 1\n", "c = compute(1, ", language=None, hit_token_limit=True) == (
        "c = compute(1, "
    )


def test_it_keeps_the_last_line_when_the_model_stopped_on_its_own():
    assert complete("x = 1\n", "a = 1\nb = 2", language=None) == "a = 1\nb = 2"


def test_a_suggestion_already_trimmed_to_its_block_is_not_cut_again():
    prefix = "def f(x):\n    if x:\n        "
    suggestion = "a = 1\n        return a\n    return 2\n    y = g("
    assert complete(prefix, suggestion, hit_token_limit=True) == "a = 1\n        return a"


# Generations


def test_a_generation_loses_its_markdown_fence_and_language_tag():
    suggestion = "```python\ndef f():\n    return 1\n```\nThis function returns 1."
    assert postprocess_generation(prefix="x = 1\n", suggestion=suggestion, language=PYTHON) == (
        "def f():\n    return 1\n"
    )


def test_a_generation_loses_a_bare_language_tag():
    suggestion = "javascript\nfunction f() {}\n"
    assert postprocess_generation(prefix="// f\n", suggestion=suggestion, language=JS) == (
        "function f() {}\n"
    )


def test_a_generation_starts_on_a_new_line_after_a_comment_without_one():
    generated = postprocess_generation(
        prefix="# return one", suggestion="```\ndef one():\n    return 1\n```", language=PYTHON
    )
    assert generated == "\ndef one():\n    return 1\n"


def test_a_generation_after_a_newline_does_not_start_with_blank_lines():
    generated = postprocess_generation(
        prefix="// add\n", suggestion="\n\nfunc add(a, b int) int { return a + b }", language=GO
    )
    assert generated == "func add(a, b int) int { return a + b }"


def test_a_generation_drops_reflected_code_and_whitespace():
    repeated = "a = 1\nb = 2\nc = 3\nd = 4\ne = 5\n"
    generated = postprocess_generation(
        prefix=repeated, suggestion="f = 6\n" + repeated + "g = 7", language=PYTHON
    )
    assert generated == "f = 6\ng = 7"
    assert postprocess_generation(prefix="x\n", suggestion="```\n  \n```", language=None) == ""


# Generations: Markdown fences, whole and streamed


def generate(suggestion, prefix="x = 1\n", language=None):
    return postprocess_generation(prefix=prefix, suggestion=suggestion, language=language)


def stream(chunks, prefix="x = 1\n", language=None):
    pieces = stream_generation(prefix=prefix, chunks=(chunk for chunk in chunks), language=language)
    return "".join(pieces)


def hostile_splits(text):
    """The ways a model server may cut an answer: each character alone, each run of backticks
    alone, each run cut in two, and every cut in two pieces."""
    yield list(text)
    yield [part for part in re.split(r"(`+)", text) if part]
    yield [part for part in re.split(r"(`)(?=`)", text) if part]
    for cut in range(1, len(text)):
        yield [text[:cut], text[cut:]]


FENCE_TAGS = ["python", "typescript", "java_script", "not-a-language", ""]


@pytest.mark.parametrize("tag", FENCE_TAGS)
@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ("```{tag}\nx = 1```", "x = 1"),
        ("```{tag}\nx = 1\ny = 2```", "x = 1\ny = 2"),
        ("```{tag}\nx = 1 ```  ", "x = 1"),
        ("```{tag}\nx = 1\n```", "x = 1\n"),
        ("```{tag}  \nx = 1\n```  \n", "x = 1\n"),
        ("```{tag}\r\nx = 1\r\ny = 2\r\n```\r\n", "x = 1\r\ny = 2\r\n"),
        ("\n  \n```{tag}\nx = 1\n```\nThis sets x to 1.", "x = 1\n"),
        ("  ```{tag}\n  x = 1\n  ```", "  x = 1\n"),
        ('````{tag}\ns = """\n```sh\nls\n```\n"""\n````', 's = """\n```sh\nls\n```\n"""\n'),
        ('```{tag}\nfence = "```"\n```', 'fence = "```"\n'),
        ("```{tag}\nconst s = `a````", "const s = `a`"),
    ],
    ids=[
        "glued",
        "glued after lines",
        "glued with spaces",
        "own line",
        "trailing spaces",
        "windows line ends",
        "explanation after",
        "indented",
        "longer fence around a shorter one",
        "fence in a string",
        "glued to a template string",
    ],
)
def test_a_generation_loses_its_fences_whole_and_however_it_is_streamed(answer, expected, tag):
    answer = answer.replace("{tag}", tag)
    assert generate(answer) == expected
    for chunks in hostile_splits(answer):
        assert stream(chunks) == expected, chunks


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ("x = 1\ny = 2\n```\n", "x = 1\ny = 2\n"),
        ("x = 1\ny = 2```\nThis sets x and y.", "x = 1\ny = 2"),
        (
            'def f():\n    """\n    ```\n    f()\n    ```\n    """\n',
            'def f():\n    """\n    ```\n    f()\n    ```\n    """\n',
        ),
    ],
    ids=["closing fence alone", "closing fence glued", "indented fences in a docstring"],
)
def test_code_that_no_fence_opened_keeps_its_lines(answer, expected):
    assert generate(answer) == expected
    for chunks in hostile_splits(answer):
        assert stream(chunks) == expected, chunks


@pytest.mark.parametrize("prefix", ["# one", "# one\n"])
@pytest.mark.parametrize(
    "answer", ["```python\ndef one():\n    return 1\n```", "python\ndef one():\n    return 1\n"]
)
def test_a_streamed_generation_starts_as_the_whole_one_does(prefix, answer):
    expected = generate(answer, prefix, PYTHON)
    assert expected.lstrip("\n") == "def one():\n    return 1\n"
    for chunks in hostile_splits(answer):
        assert stream(chunks, prefix, PYTHON) == expected, chunks


def test_a_streamed_generation_of_only_fences_and_blanks_is_nothing():
    for chunks in hostile_splits("\n```python\n  \n\n```\n"):
        assert stream(chunks) == ""


def test_a_streamed_generation_stops_reading_the_model_at_the_closing_fence():
    read = []

    def model():
        for chunk in ["```python\n", "x = 1\n", "```\n", "This sets x.", " More."]:
            read.append(chunk)
            yield chunk

    assert "".join(stream_generation(prefix="", chunks=model(), language=None)) == "x = 1\n"
    assert read == ["```python\n", "x = 1\n", "```\n"]


CODE_LINE = st.text(st.characters(codec="utf-8", exclude_characters="\r\n"), max_size=12).filter(
    lambda line: "```" not in line
)


@st.composite
def chunked(draw, text):
    """`text` cut into chunks at any places."""
    cuts = sorted(draw(st.sets(st.integers(1, max(1, len(text) - 1)), max_size=len(text))))
    return [
        text[start:end]
        for start, end in zip([0, *cuts], [*cuts, len(text)], strict=True)
        if start < end
    ]


@settings(max_examples=300, deadline=None)
@given(data=st.data(), text=st.text(st.sampled_from("`` \t\r\n\nxpy:#"), max_size=40))
def test_any_answer_streams_to_what_it_is_whole(data, text):
    assert stream(data.draw(chunked(text)), "# f\n", PYTHON) == generate(text, "# f\n", PYTHON)


@settings(max_examples=300, deadline=None)
@given(
    data=st.data(),
    lines=st.lists(CODE_LINE, min_size=1, max_size=6).filter(
        lambda lines: lines[0].strip() and lines[-1].strip()
    ),
    tag=st.sampled_from(FENCE_TAGS) | st.from_regex(r"[\w+ .-]{0,10}", fullmatch=True),
    line_end=st.sampled_from(["\n", "\r\n"]),
    glued=st.booleans(),
    explanation=st.sampled_from(["", "\nThis is the code.", "\n\n"]),
)
def test_fenced_code_comes_out_without_fences_however_it_is_streamed(
    data, lines, tag, line_end, glued, explanation
):
    code = line_end.join(lines)
    closing = "```" if glued else f"{line_end}```"
    answer = f"```{tag}{line_end}{code}{closing}{explanation}"
    expected = code.rstrip(" \t") if glued else code + line_end

    assert generate(answer, prefix="") == expected
    assert stream(data.draw(chunked(answer)), prefix="") == expected
    assert "```" not in expected


# Performance


@pytest.mark.parametrize(
    ("language", "function", "cursor", "suggestion"),
    [
        (
            PYTHON,
            "def f{n}(x):\n    if x:\n        return {n}\n    return 0\n\n\n",
            "def g(x):\n    if x:\n        ",
            "return 1\n    return 2\n\ndef h(): pass\n",
        ),
        (
            JAVA,
            "  int f{n}(int x) {{\n    if (x > 0) {{\n      return {n};\n    }}\n"
            "    return 0;\n  }}\n",
            "  int g(int x) {\n    if (x > 0) {\n      ",
            "return 1;\n    }\n    return 0;\n  }\n",
        ),
    ],
)
def test_a_400k_character_file_post_processes_in_milliseconds(
    language, function, cursor, suggestion
):
    body = "".join(function.format(n=n) for n in range(6000))[:400_000]
    prefix, suffix = body[:200_000] + "\n" + cursor, "\n" + body[200_000:]
    timings = []
    for _ in range(20):
        started = time.perf_counter()
        complete(prefix, suggestion, suffix, language=language)
        timings.append(time.perf_counter() - started)
    assert max(sorted(timings)[:-1]) < 0.020
