import pytest

from completions.intent import detect_intent
from completions.languages import _BY_ID, detect_language

FIVE_PYTHON_LINES = "import os\nimport sys\n\nx = 1\ny = 2\nz = 3\n"
FIVE_JS_LINES = "const a = 1;\nconst b = 2;\nconst c = 3;\nconst d = 4;\nconst e = 5;\n"
FIVE_C_LINES = "#include <a.h>\n#include <b.h>\nint a;\nint b;\nint c;\n"
FIVE_JAVA_LINES = (
    "package a;\n\nimport java.util.List;\nimport java.util.Map;\nclass A {\n  int x;\n"
)
FIVE_GO_LINES = 'package main\n\nimport "fmt"\n\nvar x = 1\nvar y = 2\n'
FIVE_PHP_LINES = "<?php\n$a = 1;\n$b = 2;\n$c = 3;\n$d = 4;\n"
FIVE_CSHARP_LINES = "using System;\nusing System.Linq;\nnamespace Shapes;\nclass Circle\n{\n"


def detected(above, below="", file_name="a.py", **kwargs):
    return detect_intent(
        content_above_cursor=above,
        content_below_cursor=below,
        language=detect_language(file_name),
        **kwargs,
    )


def intent(above, below="", file_name="a.py", **kwargs):
    return detected(above, below, file_name, **kwargs).kind


def intent_in(language, above, below=""):
    return detect_intent(
        content_above_cursor=above, content_below_cursor=below, language=language
    ).kind


def test_the_requested_intent_wins_over_the_text():
    assert intent("", intent="completion") == "completion"
    assert intent(FIVE_PYTHON_LINES + "x = ", intent="generation") == "generation"


@pytest.mark.parametrize(
    "kwargs", [{"generation_type": "comment"}, {"user_instruction": "write a parser"}]
)
def test_a_generation_type_or_an_instruction_means_generation(kwargs):
    assert intent(FIVE_PYTHON_LINES + "x = ", **kwargs) == "generation"


@pytest.mark.parametrize(
    ("above", "below", "file_name", "generation_type"),
    [
        (FIVE_PYTHON_LINES + "# write a function that sorts users by age\n", "", "a.py", "comment"),
        ("import os\n", "a = 1\n", "a.py", "small_file"),
        (FIVE_GO_LINES + "func main() {\n\tgo func() {", "\t}()\n}\n", "main.go", "empty_function"),
        (FIVE_PYTHON_LINES + "total = x + ", "\nprint(total)\n", "a.py", None),
    ],
)
def test_it_says_what_in_the_text_set_the_generation_off(above, below, file_name, generation_type):
    assert detected(above, below, file_name).generation_type == generation_type


def test_the_clients_generation_type_wins_over_the_text():
    found = detected("import os\n", generation_type="empty_function")
    assert (found.kind, found.generation_type) == ("generation", "empty_function")


def test_a_generation_asked_for_without_a_type_follows_the_comment_above_the_cursor():
    found = detected(FIVE_PYTHON_LINES + "x = ", intent="generation")
    assert found.generation_type == "comment"


def test_a_completion_asked_for_has_no_generation_type():
    found = detected("import os\n", intent="completion")
    assert (found.kind, found.generation_type) == ("completion", None)


def test_it_detects_generation_after_a_long_comment():
    above = FIVE_PYTHON_LINES + "# write a function that sorts users by age\n"
    assert intent(above) == "generation"


def test_it_skips_one_blank_line_below_the_comment():
    above = FIVE_PYTHON_LINES + "# write a function that sorts users by age\n\n"
    assert intent(above) == "generation"


def test_two_blank_lines_below_the_comment_mean_completion():
    above = FIVE_PYTHON_LINES + "# write a function that sorts users by age\n\n\n"
    assert intent(above) == "completion"


def test_the_first_line_of_the_comment_block_must_say_something():
    short_first = FIVE_PYTHON_LINES + "# TODO\n# write a function that sorts users by age\n"
    long_first = FIVE_PYTHON_LINES + "# write a function that\n# sorts\n"
    assert intent(short_first) == "completion"
    assert intent(long_first) == "generation"


def test_a_short_comment_is_just_a_comment():
    assert intent(FIVE_PYTHON_LINES + "# fix me\n") == "completion"


@pytest.mark.parametrize(
    ("file_name", "comment"),
    [
        ("a.js", "// fetch the user and cache the result"),
        ("a.go", "// fetch the user and cache the result"),
        ("a.java", "    // fetch the user and cache the result"),
        ("a.sql", "-- select every user older than thirty"),
        ("a.clj", ";; fetch the user and cache the result"),
        ("a.erl", "% fetch the user and cache the result"),
        ("a.rb", "# fetch the user and cache the result"),
    ],
)
def test_it_detects_comments_with_each_languages_markers(file_name, comment):
    above = "a\nb\nc\nd\ne\nf\n" + comment + "\n"
    assert intent(above, file_name=file_name) == "generation"


SIX_CODE_LINES = "a\nb\nc\nd\ne\nf\n"
INSTRUCTION = " write a function that parses dates"

# GitLab's list of languages with its single-line comment markers (programming_language.rb):
# (extensions, the markers that start a comment, a marker that does not). Ours differ on
# purpose in two places: `#` is a comment in PHP, and HTML's `!--` is no marker.
GITLAB_COMMENT_MARKERS = [
    (("c",), ("//",), "#"),
    (("cc", "cpp", "cxx", "hpp", "hh"), ("//",), "#"),
    (("cs", "csx"), ("//",), "#"),
    (("clj", "cljs", "cljc", "edn"), (";",), "#"),
    (("dart",), ("//",), "#"),
    (("ex", "exs"), ("#",), "//"),
    (("erl", "hrl"), ("%",), "#"),
    (("f", "f90", "f95", "f03", "f08"), ("!",), "#"),
    (("go",), ("//",), "#"),
    (("sql", "ddl", "dml"), ("--",), "#"),
    (("groovy", "gvy", "gy", "gsh"), ("//",), "#"),
    (("hs",), ("--",), "#"),
    (("html", "htm", "xhtml"), (), "!--"),
    (("java",), ("//",), "#"),
    (("js", "mjs", "cjs", "jsx", "vue"), ("//",), "#"),
    (("kt", "kts", "ktm"), ("//",), "#"),
    (("lean", "hlean"), ("--",), "#"),
    (("m", "mm"), ("//",), "#"),
    (("ml", "mli"), (), "//"),
    (("pl", "pm", "pod", "t"), ("#",), "//"),
    (("php", "phtml", "php3", "php4", "php5", "php7", "phps"), ("//", "#"), "--"),
    (("py", "pyw", "ipynb"), ("#",), "//"),
    (("rb", "rake"), ("#",), "//"),
    (("rs",), ("//",), "#"),
    (("scala", "sc", "sbt"), ("//",), "#"),
    (("sh", "bash", "zsh", "ksh", "fish"), ("#",), "//"),
    (("sol",), ("//",), "#"),
    (("swift",), ("//",), "#"),
    (("ts", "tsx"), ("//",), "#"),
    (("vb", "vbs"), ("'", "REM"), "#"),
    (("v", "sv", "svh"), ("//",), "#"),
]


@pytest.mark.parametrize(
    ("extension", "marker", "expected"),
    [
        (extension, marker, "generation")
        for extensions, markers, _ in GITLAB_COMMENT_MARKERS
        for extension in extensions
        for marker in markers
    ]
    + [
        (extension, other, "completion")
        for extensions, _, other in GITLAB_COMMENT_MARKERS
        for extension in extensions
    ],
)
def test_each_of_gitlabs_languages_takes_its_own_comment_markers(extension, marker, expected):
    above = SIX_CODE_LINES + marker + INSTRUCTION + "\n"
    assert intent(above, file_name=f"file.{extension}") == expected


@pytest.mark.parametrize("language", _BY_ID.values(), ids=lambda language: language.id)
def test_every_language_detects_an_instruction_in_each_of_its_markers(language):
    for marker in language.comment_markers:
        assert intent_in(language, SIX_CODE_LINES + marker + INSTRUCTION + "\n") == "generation"


@pytest.mark.parametrize("language", _BY_ID.values(), ids=lambda language: language.id)
def test_in_every_language_comment_lines_do_not_make_a_file_large(language):
    comments = "".join(f"{marker} note\n" for marker in language.comment_markers)
    below = comments * 3 + "a\nb\n"
    assert intent_in(language, "x\ny\n", below) == "generation"
    assert intent_in(language, "x\ny\n", below + "c\n") == "completion"


def test_in_vbscript_a_hash_line_is_code():
    above = "Dim a\nDim b\n# write a function that parses dates\n"
    assert intent(above, "Dim c\nDim d\n", file_name="Module1.vb") == "completion"
    assert intent(above, "Dim c\nDim d\n", file_name="notes.unknownext") == "generation"


def test_in_lean_a_hash_command_is_code():
    above = "#eval 1\n#eval 2\n#eval 3\n#check Nat\n#print axioms\n"
    assert intent(above, file_name="Main.lean") == "completion"
    assert intent(above, file_name="notes.unknownext") == "generation"


def test_a_marker_of_another_language_is_code():
    # `#include` is C code, not a comment, so the comment rule does not fire.
    above = FIVE_JAVA_LINES.replace("package a;", "int a;") + "#include <a_long_header.h>\n"
    assert intent(above, file_name="a.c") == "completion"


def test_an_unknown_language_uses_gitlabs_default_markers():
    above = "a\nb\nc\nd\ne\nf\n-- explain the following lines\n"
    assert intent(above, file_name="notes.unknownext") == "generation"


def test_it_detects_generation_in_a_small_file():
    assert intent("import os\n\ndef main():\n    ") == "generation"
    assert intent("") == "generation"


def test_the_lines_below_the_cursor_count_towards_a_small_file():
    # GitLab 18.x: the cursor near the top of a longer file is a completion.
    assert intent("import os\n", "a = 1\nb = 2\nc = 3\nd = 4\n") == "completion"
    assert intent("import os\n", "a = 1\nb = 2\nc = 3\n") == "generation"


def test_comments_and_blank_lines_below_the_cursor_do_not_make_a_file_large():
    below = "\n# a\n\n# b\na = 1\n\n# c\nb = 2\n"
    assert intent("import os\n", below) == "generation"
    assert intent("import os\n", below + "c = 3\nd = 4\n") == "completion"


def test_comments_and_blank_lines_do_not_make_a_file_large():
    above = "# a\n# b\n\nimport os\n# c\nx = 1\n\ny = 2\n"
    assert intent(above + "w = ") == "generation"
    assert intent(above + "w = 4\nv = ") == "completion"


@pytest.mark.parametrize(
    ("file_name", "above", "below"),
    [
        ("a.py", FIVE_PYTHON_LINES + "def area(radius):\n    ", ""),
        (
            "a.py",
            FIVE_PYTHON_LINES + "class A:\n    def area(self) -> float:\n        ",
            "\n    def b(self):\n        pass\n",
        ),
        ("a.py", FIVE_PYTHON_LINES + "def area(radius):\n    ", "\nprint(area(2))\n"),
        (
            "a.go",
            'package main\n\nimport "fmt"\n\nvar x = 1\nvar y = 2\nfunc main() {\n\t',
            "\n}\n",
        ),
        (
            "a.js",
            FIVE_JS_LINES + "function area(r) {\n  ",
            "}\n",
        ),
        (
            "a.ts",
            FIVE_JS_LINES + "const area = (r: number): number => {\n  ",
            "};\n",
        ),
        ("a.java", FIVE_JAVA_LINES + "  public double area(double r) {\n    ", "  }\n}\n"),
        ("a.java", FIVE_JAVA_LINES + "  public double area(double r)\n  {\n    ", "  }\n"),
        ("a.cs", FIVE_JAVA_LINES + "  public async Task<int> Run() {\n    ", "  }\n"),
        (
            "a.php",
            "<?php\n$a = 1;\n$b = 2;\n$c = 3;\n$d = 4;\nclass A {\n"
            "  public function area(float $r): float {\n    ",
            "  }\n",
        ),
        ("a.kt", FIVE_JAVA_LINES + "  fun area(r: Double): Double {\n    ", "  }\n"),
        ("a.scala", FIVE_JAVA_LINES + "  def area(r: Double): Double = {\n    ", "  }\n"),
        (
            "a.rs",
            "use a;\nuse b;\nuse c;\nuse d;\nuse e;\npub fn area(r: f64) -> f64 {\n    ",
            "}\n",
        ),
        (
            "a.rb",
            "require 'a'\nrequire 'b'\nrequire 'c'\nrequire 'd'\nclass A\n  def area(r)\n    ",
            "  end\nend\n",
        ),
        (
            "a.c",
            FIVE_C_LINES + "static double area(double r) {\n    ",
            "}\n",
        ),
        (
            "a.cpp",
            FIVE_C_LINES + "double Shape::area() const {\n    ",
            "}\n",
        ),
        (
            "a.go",
            'package main\n\nimport "fmt"\n\nvar x = 1\nvar y = 2\nfunc a() {\n\t',
            "\nfunc b() {\n}\n",
        ),
    ],
)
def test_it_detects_generation_inside_an_empty_function(file_name, above, below):
    assert intent(above, below, file_name=file_name) == "generation"


@pytest.mark.parametrize(
    ("file_name", "above", "below"),
    [
        ("main.go", FIVE_GO_LINES + "func main() {\n\tgo func() {", "\t}()\n}\n"),
        ("main.go", FIVE_GO_LINES + "func main() {\n\tdone := func() {\n\t\t", "\t}\n}\n"),
        ("main.go", FIVE_GO_LINES + "func f() func() {\n\treturn func() {\n\t\t", "\t}\n}\n"),
        ("a.php", FIVE_PHP_LINES + "$square = function($n) {\n    ", "};\n"),
        ("a.php", FIVE_PHP_LINES + "usort($a, function ($x, $y) use ($k): int {\n  ", "});\n"),
        ("a.kt", FIVE_JAVA_LINES + "  val area = fun(r: Double): Double {\n    ", "  }\n"),
        ("a.js", FIVE_JS_LINES + "function f() {\n  return (a) => {\n    ", "  };\n}\n"),
        (
            "a.cs",
            FIVE_CSHARP_LINES + "    static int SumValues(params int[] numbers)\n    {\n        ",
            "\n    static int SubValues(params int[] numbers)\n    {\n"
            "        return numbers.Sum();\n    }\n",
        ),
    ],
)
def test_it_detects_generation_inside_an_empty_function_literal_or_before_the_next_method(
    file_name, above, below
):
    assert intent(above, below, file_name=file_name) == "generation"


@pytest.mark.parametrize(
    ("file_name", "above", "below"),
    [
        ("a.py", FIVE_PYTHON_LINES + "def area(radius):\n    ", "    return 3.14 * radius ** 2\n"),
        ("a.py", FIVE_PYTHON_LINES + "if radius:\n    ", ""),
        (
            "a.java",
            FIVE_JAVA_LINES + "  public double area(double r) {\n    ",
            "    return r * r;\n  }\n",
        ),
        ("a.java", FIVE_JAVA_LINES + "    if (r > 0) {\n      ", "    }\n"),
        (
            "a.js",
            FIVE_JS_LINES + "while (x) {\n  ",
            "}\n",
        ),
        (
            "a.go",
            'package main\n\nimport "fmt"\n\nvar x = 1\nvar y = 2\nfunc main() {\n\t',
            "\tfmt.Println(x)\n}\n",
        ),
        ("main.go", FIVE_GO_LINES + "func main() {\n\tgo func() {", "\t\trun()\n\t}()\n}\n"),
        ("main.go", FIVE_GO_LINES + "func main() {\n\tif ok := check(); ok {\n\t\t", "\t}\n}\n"),
        ("a.php", FIVE_PHP_LINES + "$square = function($n) {\n    ", "    return $n * $n;\n};\n"),
        ("a.java", FIVE_JAVA_LINES + "  Runnable r() {\n    return new Runnable() {", "    };\n"),
        (
            "a.cs",
            FIVE_CSHARP_LINES + "    static int SumValues(params int[] numbers)\n    {\n        ",
            "        return numbers.Sum();\n    }\n",
        ),
    ],
)
def test_a_function_with_a_body_or_a_control_block_means_completion(file_name, above, below):
    assert intent(above, below, file_name=file_name) == "completion"


def test_the_empty_function_rule_needs_a_known_language():
    above = "a = 1\nb = 2\nc = 3\nd = 4\ne = 5\ndef area(radius):\n    "
    assert intent(above, file_name="a.unknownext") == "completion"
    assert intent(above, file_name="a.py") == "generation"


def test_it_completes_in_the_middle_of_ordinary_code():
    assert intent(FIVE_PYTHON_LINES + "total = x + ", "\nprint(total)\n") == "completion"


@pytest.mark.parametrize(
    ("above", "below"),
    [("x = 1\n" * 100_000 + "y = ", ""), ("y = ", "\n" + "x = 1\n" * 100_000)],
    ids=["above", "below"],
)
def test_it_reads_only_the_lines_near_the_cursor_of_a_large_file(above, below):
    import time

    started = time.perf_counter()
    assert intent(above, below) == "completion"
    assert time.perf_counter() - started < 0.05
