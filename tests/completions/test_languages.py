import pytest
from tree_sitter_language_pack import get_parser

from completions.languages import _BY_ID, comment_text, detect_language, is_comment_line

GITLAB_EXTENSIONS = {
    "c": ("c", "h"),
    "cpp": ("cpp", "hpp", "c++", "h++", "cc", "hh", "C", "H"),
    "csharp": ("cs",),
    "go": ("go",),
    "java": ("java",),
    "js": ("js", "jsx"),
    "php": ("php", "php3", "php4", "php5", "phps", "phpt"),
    "python": ("py",),
    "ruby": ("rb",),
    "rust": ("rs",),
    "scala": ("scala",),
    "ts": ("ts", "tsx"),
    "kotlin": ("kt", "kts"),
}


@pytest.mark.parametrize(
    ("name", "extension"),
    [(name, ext) for name, exts in GITLAB_EXTENSIONS.items() for ext in exts],
)
def test_it_recognises_gitlabs_thirteen_languages_by_the_gateways_names(name, extension):
    language = detect_language(f"src/file.{extension}")
    assert language is not None
    assert language.name == name


def test_it_matches_extensions_case_sensitively():
    assert detect_language("a.PY") is None
    assert detect_language("Main.JAVA") is None


def test_it_treats_upper_case_c_and_h_as_cpp_and_lower_case_as_c():
    assert detect_language("x.C").id == "cpp"
    assert detect_language("x.H").id == "cpp"
    assert detect_language("x.c").id == "c"
    assert detect_language("x.h").id == "c"


def test_it_parses_tsx_with_the_tsx_grammar_but_reports_typescript():
    language = detect_language("App.tsx")
    assert (language.id, language.name) == ("tsx", "ts")


def test_it_recognises_languages_beyond_gitlabs_thirteen():
    assert detect_language("main.swift").name == "swift"
    assert detect_language("init.lua").comment_markers == ("--",)
    assert detect_language("core.clj").comment_markers == (";",)
    assert detect_language("server.erl").comment_markers == ("%",)
    assert detect_language("Dockerfile").id == "dockerfile"


def test_it_returns_none_for_unknown_or_missing_extensions():
    assert detect_language("notes.unknownext") is None
    assert detect_language("README") is None
    assert detect_language(".py") is None
    assert detect_language("trailing.") is None


def test_it_uses_only_the_last_extension_and_ignores_directories():
    assert detect_language("dir.py/archive.tar.rb").id == "ruby"
    assert detect_language("C:\\code\\main.go").id == "go"


def test_every_language_has_a_bundled_grammar_but_vbscript_and_lean():
    # Those two are known for their comment markers; post-processing skips the syntax steps.
    for grammar_id in _BY_ID.keys() - {"vbscript", "lean"}:
        assert get_parser(grammar_id) is not None


@pytest.mark.parametrize(
    ("file_name", "name"),
    [("Module1.vb", "vbscript"), ("setup.vbs", "vbscript"), ("Main.lean", "lean")],
)
def test_it_recognises_vbscript_and_lean(file_name, name):
    assert detect_language(file_name).name == name


def test_it_reads_comment_text_without_repeated_markers():
    assert comment_text("    /// write a parser", ("//",)) == "write a parser"
    assert comment_text(";;; load the file", (";",)) == "load the file"
    assert is_comment_line("  # note", ("#",))
    assert not is_comment_line("#include <stdio.h>", ("//",))


@pytest.mark.parametrize(
    ("line", "is_comment"),
    [
        ("' say hello", True),
        ("    REM say hello", True),
        ("rem say hello", True),
        ("REM", True),
        ("REMAINDER = 10 Mod 3", False),
        ("Remove(x)", False),
        ("# say hello", False),
    ],
)
def test_rem_is_a_vbscript_comment_only_as_a_whole_word(line, is_comment):
    assert is_comment_line(line, detect_language("a.vbs").comment_markers) is is_comment


def test_it_reads_the_words_after_rem():
    assert comment_text("  Rem write a function", ("'", "REM")) == "write a function"
