"""Which programming language a file is written in, decided from its name.

Every language here but two has a grammar in tree-sitter-language-pack, so post-processing can
parse it. VBScript and Lean have none: they are here for their comment markers, which decide the
intent (GitLab's list of languages has them), and post-processing skips its syntax steps for them.
`Language.name` is what the API reports in `model.lang`: GitLab's AI gateway reports the
lowercased name of its `LanguageId` ("python", "cpp", "csharp", "js", "ts", ...); languages the
gateway does not know report their grammar id.
"""

import re
from dataclasses import dataclass
from pathlib import PurePosixPath

# GitLab's default for files of unknown language: any of the common single-line markers.
DEFAULT_COMMENT_MARKERS = ("//", "#", "--")


@dataclass(frozen=True)
class Language:
    id: str
    name: str
    comment_markers: tuple[str, ...]


_SLASH = ("//",)
_HASH = ("#",)
_DASH = ("--",)
_SEMI = (";",)
_PERCENT = ("%",)
_NONE: tuple[str, ...] = ()

# (grammar id, reported name, comment markers, extensions). Extensions are case-sensitive.
# Where two languages claim an extension, GitLab's gateway decides: `.m` is Objective-C (not
# MATLAB), `.pp` is Pascal (not Puppet), `.v` is Verilog (not V), `.hh` is C++ (not Hack).
# Every extension in GitLab's list of languages (ee/lib/code_suggestions/programming_language.rb)
# is here with GitLab's markers, except where GitLab names the wrong language for the file:
# `.erb` is a template (GitLab: Ruby), `.toml` is TOML (GitLab: Rust), `.lhs` is literate
# Haskell, mostly prose, and `.pyc`, `.pyo` are bytecode. PHP also takes `#`, which is PHP.
_TABLE: tuple[tuple[str, str, tuple[str, ...], tuple[str, ...]], ...] = (
    # GitLab's 13.
    ("c", "c", _SLASH, ("c", "h")),
    ("cpp", "cpp", _SLASH, ("cpp", "hpp", "c++", "h++", "cc", "hh", "C", "H", "cxx", "hxx")),
    ("csharp", "csharp", _SLASH, ("cs", "csx")),
    ("go", "go", _SLASH, ("go",)),
    ("java", "java", _SLASH, ("java",)),
    ("javascript", "js", _SLASH, ("js", "jsx", "mjs", "cjs")),
    (
        "php",
        "php",
        ("//", "#"),
        ("php", "php3", "php4", "php5", "php7", "phps", "phpt", "phtml"),
    ),
    ("python", "python", _HASH, ("py", "pyi", "pyw", "ipynb")),
    ("ruby", "ruby", _HASH, ("rb", "rake", "gemspec")),
    ("rust", "rust", _SLASH, ("rs",)),
    ("scala", "scala", _SLASH, ("scala", "sc", "sbt")),
    ("typescript", "ts", _SLASH, ("ts", "mts", "cts")),
    ("tsx", "ts", _SLASH, ("tsx",)),
    ("kotlin", "kotlin", _SLASH, ("kt", "kts", "ktm")),
    # Every other grammar of tree-sitter-language-pack 0.13 with a conventional extension.
    ("actionscript", "actionscript", _SLASH, ("as",)),
    ("ada", "ada", _DASH, ("adb", "ads", "ada")),
    ("agda", "agda", _DASH, ("agda",)),
    ("apex", "apex", _SLASH, ("cls", "trigger")),
    ("arduino", "arduino", _SLASH, ("ino",)),
    ("asm", "asm", (";", "#"), ("asm", "s", "S")),
    ("astro", "astro", _NONE, ("astro",)),
    ("bash", "bash", _HASH, ("sh", "bash", "zsh", "ksh")),
    ("beancount", "beancount", _SEMI, ("beancount",)),
    ("bibtex", "bibtex", _PERCENT, ("bib",)),
    ("bicep", "bicep", _SLASH, ("bicep",)),
    ("bitbake", "bitbake", _HASH, ("bb", "bbappend", "bbclass")),
    ("bsl", "bsl", _SLASH, ("bsl",)),
    ("cairo", "cairo", _SLASH, ("cairo",)),
    ("capnp", "capnp", _HASH, ("capnp",)),
    ("clarity", "clarity", _SEMI, ("clar",)),
    ("clojure", "clojure", _SEMI, ("clj", "cljs", "cljc", "edn")),
    ("cmake", "cmake", _HASH, ("cmake",)),
    ("cobol", "cobol", ("*>",), ("cbl", "cob", "cobol")),
    ("commonlisp", "commonlisp", _SEMI, ("lisp", "cl", "lsp")),
    ("css", "css", _NONE, ("css",)),
    ("csv", "csv", _NONE, ("csv",)),
    ("cuda", "cuda", _SLASH, ("cu", "cuh")),
    ("d", "d", _SLASH, ("d", "di")),
    ("dart", "dart", _SLASH, ("dart",)),
    ("dockerfile", "dockerfile", _HASH, ("dockerfile",)),
    ("dtd", "dtd", _NONE, ("dtd",)),
    ("elisp", "elisp", _SEMI, ("el",)),
    ("elixir", "elixir", _HASH, ("ex", "exs")),
    ("elm", "elm", _DASH, ("elm",)),
    ("embeddedtemplate", "embeddedtemplate", _NONE, ("erb", "ejs")),
    ("erlang", "erlang", _PERCENT, ("erl", "hrl")),
    ("fennel", "fennel", _SEMI, ("fnl",)),
    ("firrtl", "firrtl", _SEMI, ("fir",)),
    ("fish", "fish", _HASH, ("fish",)),
    ("fortran", "fortran", ("!",), ("f", "f90", "f95", "f03", "f08", "f77", "for")),
    ("fsharp", "fsharp", _SLASH, ("fs", "fsx")),
    ("fsharp_signature", "fsharp", _SLASH, ("fsi",)),
    ("func", "func", (";;",), ("fc",)),
    ("gdscript", "gdscript", _HASH, ("gd",)),
    ("gleam", "gleam", _SLASH, ("gleam",)),
    ("glsl", "glsl", _SLASH, ("glsl", "vert", "frag", "geom", "comp", "tesc", "tese")),
    ("gn", "gn", _HASH, ("gn", "gni")),
    ("graphql", "graphql", _HASH, ("graphql", "gql")),
    ("groovy", "groovy", _SLASH, ("groovy", "gradle", "gvy", "gy", "gsh")),
    ("hack", "hack", _SLASH, ("hack",)),
    ("hare", "hare", _SLASH, ("ha",)),
    ("haskell", "haskell", _DASH, ("hs",)),
    ("haxe", "haxe", _SLASH, ("hx",)),
    ("hcl", "hcl", ("#", "//"), ("hcl",)),
    ("heex", "heex", _NONE, ("heex",)),
    ("hlsl", "hlsl", _SLASH, ("hlsl",)),
    # GitLab's `!--` marker never matches a real `<!-- -->` comment, so it is left out.
    ("html", "html", _NONE, ("html", "htm", "xhtml")),
    ("ini", "ini", (";", "#"), ("ini",)),
    ("ispc", "ispc", _SLASH, ("ispc",)),
    ("janet", "janet", _HASH, ("janet",)),
    ("json", "json", _NONE, ("json",)),
    ("jsonnet", "jsonnet", ("//", "#"), ("jsonnet", "libsonnet")),
    ("julia", "julia", _HASH, ("jl",)),
    ("kdl", "kdl", _SLASH, ("kdl",)),
    ("latex", "latex", _PERCENT, ("tex", "sty")),
    ("linkerscript", "linkerscript", _NONE, ("ld", "lds")),
    ("llvm", "llvm", _SEMI, ("ll",)),
    ("lua", "lua", _DASH, ("lua",)),
    ("luau", "luau", _DASH, ("luau",)),
    ("magik", "magik", _HASH, ("magik",)),
    ("make", "make", _HASH, ("mk", "mak")),
    ("markdown", "markdown", _NONE, ("md", "markdown")),
    ("mermaid", "mermaid", ("%%",), ("mmd", "mermaid")),
    ("netlinx", "netlinx", _SLASH, ("axs", "axi")),
    ("nim", "nim", _HASH, ("nim", "nims")),
    ("ninja", "ninja", _HASH, ("ninja",)),
    ("nix", "nix", _HASH, ("nix",)),
    ("nqc", "nqc", _SLASH, ("nqc",)),
    ("objc", "objc", _SLASH, ("m", "mm")),
    ("ocaml", "ocaml", _NONE, ("ml",)),
    ("ocaml_interface", "ocaml", _NONE, ("mli",)),
    ("odin", "odin", _SLASH, ("odin",)),
    ("org", "org", _HASH, ("org",)),
    ("pascal", "pascal", _SLASH, ("pas", "pp", "dpr")),
    ("pem", "pem", _NONE, ("pem",)),
    ("perl", "perl", _HASH, ("pl", "pm", "pod", "t")),
    ("pgn", "pgn", _SEMI, ("pgn",)),
    ("po", "po", _HASH, ("po", "pot")),
    ("pony", "pony", _SLASH, ("pony",)),
    ("powershell", "powershell", _HASH, ("ps1", "psm1", "psd1")),
    ("prisma", "prisma", _SLASH, ("prisma",)),
    ("properties", "properties", ("#", "!"), ("properties",)),
    ("proto", "proto", _SLASH, ("proto",)),
    ("psv", "psv", _NONE, ("psv",)),
    ("purescript", "purescript", _DASH, ("purs",)),
    ("qmljs", "qmljs", _SLASH, ("qml",)),
    ("r", "r", _HASH, ("r", "R")),
    ("racket", "racket", _SEMI, ("rkt",)),
    ("re2c", "re2c", _SLASH, ("re",)),
    ("rego", "rego", _HASH, ("rego",)),
    ("ron", "ron", _SLASH, ("ron",)),
    ("rst", "rst", _NONE, ("rst",)),
    ("scheme", "scheme", _SEMI, ("scm", "ss")),
    ("scss", "scss", _SLASH, ("scss",)),
    ("smali", "smali", _HASH, ("smali",)),
    ("smithy", "smithy", _SLASH, ("smithy",)),
    ("solidity", "solidity", _SLASH, ("sol",)),
    ("sparql", "sparql", _HASH, ("rq", "sparql")),
    ("sql", "sql", _DASH, ("sql", "ddl", "dml")),
    ("squirrel", "squirrel", ("//", "#"), ("nut",)),
    ("starlark", "starlark", _HASH, ("bzl", "star")),
    ("svelte", "svelte", _NONE, ("svelte",)),
    ("swift", "swift", _SLASH, ("swift",)),
    ("tablegen", "tablegen", _SLASH, ("td",)),
    ("tcl", "tcl", _HASH, ("tcl",)),
    ("terraform", "terraform", ("#", "//"), ("tf", "tfvars")),
    ("thrift", "thrift", ("//", "#"), ("thrift",)),
    ("toml", "toml", _HASH, ("toml",)),
    ("tsv", "tsv", _NONE, ("tsv",)),
    ("twig", "twig", _NONE, ("twig",)),
    ("typst", "typst", _SLASH, ("typ",)),
    ("udev", "udev", _HASH, ("rules",)),
    ("ungrammar", "ungrammar", _SLASH, ("ungram",)),
    ("uxntal", "uxntal", _NONE, ("tal",)),
    ("v", "v", _SLASH, ("vsh", "vv")),
    ("verilog", "verilog", _SLASH, ("v", "sv", "svh")),
    ("vhdl", "vhdl", _DASH, ("vhd", "vhdl")),
    ("vim", "vim", ('"',), ("vim",)),
    # A `//` line in a Vue file is a comment in its script, as GitLab (JavaScript) takes it.
    ("vue", "vue", _SLASH, ("vue",)),
    ("wast", "wast", (";;",), ("wast",)),
    ("wat", "wat", (";;",), ("wat",)),
    ("wgsl", "wgsl", _SLASH, ("wgsl",)),
    ("xml", "xml", _NONE, ("xml", "xsd", "xsl", "svg")),
    ("yaml", "yaml", _HASH, ("yaml", "yml")),
    ("yuck", "yuck", _SEMI, ("yuck",)),
    ("zig", "zig", _SLASH, ("zig",)),
    # No grammar: see the module's docstring. `REM` is a comment in VBScript, `#` is not; in
    # Lean `#eval` is code.
    ("vbscript", "vbscript", ("'", "REM"), ("vb", "vbs")),
    ("lean", "lean", _DASH, ("lean", "hlean")),
)

# Files known by their whole name rather than an extension.
_FILE_NAMES = {
    "Dockerfile": "dockerfile",
    "Makefile": "make",
    "GNUmakefile": "make",
    "CMakeLists.txt": "cmake",
    "go.mod": "gomod",
    "meson.build": "meson",
    "requirements.txt": "requirements",
    "BUILD": "starlark",
    "BUILD.bazel": "starlark",
    "WORKSPACE": "starlark",
    "Kconfig": "kconfig",
}
_FILE_NAME_LANGUAGES = (
    Language("gomod", "gomod", _SLASH),
    Language("meson", "meson", _HASH),
    Language("requirements", "requirements", _HASH),
    Language("kconfig", "kconfig", _HASH),
)

_BY_EXTENSION = {
    extension: Language(grammar, name, markers)
    for grammar, name, markers, extensions in _TABLE
    for extension in extensions
}
_BY_ID = {language.id: language for language in _BY_EXTENSION.values()} | {
    language.id: language for language in _FILE_NAME_LANGUAGES
}


def detect_language(file_name: str) -> Language | None:
    """The language of `file_name` from its extension (case-sensitive), or None when unknown."""
    base_name = PurePosixPath(file_name.replace("\\", "/")).name
    if base_name in _FILE_NAMES:
        return _BY_ID[_FILE_NAMES[base_name]]
    stem, _, extension = base_name.rpartition(".")
    if not stem or not extension:
        # No extension at all, or a dot file such as `.py`, which has none either.
        return None
    return _BY_EXTENSION.get(extension)


def comment_markers(language: Language | None) -> tuple[str, ...]:
    return language.comment_markers if language else DEFAULT_COMMENT_MARKERS


def is_comment_line(line: str, markers: tuple[str, ...]) -> bool:
    stripped = line.lstrip()
    return any(_starts_with_marker(stripped, marker) for marker in markers)


def comment_text(line: str, markers: tuple[str, ...]) -> str:
    """The words of a single-line comment, without its marker (repeated, as in `///` or `;;`)."""
    text = line.strip()
    for marker in markers:
        if _starts_with_marker(text, marker):
            while _starts_with_marker(text, marker):
                text = text[len(marker) :]
            return text.lstrip("/!*").strip()
    return text


_WORD_CHARACTER = re.compile(r"\w")
# A line that starts at column 0 and does not just close a block starts something at the top
# level: where a prompt's cut or a parse window may begin.
TOP_LEVEL_LINE = re.compile(r"^(?=[^\s)\]}])", re.MULTILINE)


def _starts_with_marker(text: str, marker: str) -> bool:
    """A marker that is a word, as VBScript's REM, is one in any case and only as a whole word:
    `rem note` is a comment, `REMAINDER = 1` is code."""
    if not marker.isalpha():
        return text.startswith(marker)
    head, rest = text[: len(marker)], text[len(marker) :]
    return head.upper() == marker.upper() and not _WORD_CHARACTER.match(rest)
