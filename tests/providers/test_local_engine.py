"""The built-in local completion engine, through its public interface (no Django needed)."""

import concurrent.futures
import pathlib
import time

import pytest

from codesuggest.providers.local_engine import DEFAULT_MIN_CONFIDENCE, LocalEngine, corpora
from codesuggest.providers.local_engine.corpora import SourceFile

# A tiny "standard library" for the base model: the tests never build the real one.
BASE_CORPUS = {
    "shapes.py": """\
import math


class Circle:
    def __init__(self, radius):
        self.radius = radius

    def area(self):
        return math.pi * self.radius ** 2


class Square:
    def __init__(self, side):
        self.side = side

    def area(self):
        return self.side ** 2
""",
    "files.py": """\
import os


def read_text(path):
    with open(path) as handle:
        return handle.read()


def write_text(path, text):
    with open(path, "w") as handle:
        handle.write(text)


def remove(path):
    if os.path.exists(path):
        os.remove(path)
""",
}


INIT_BODY = "class Circle:\n    def __init__(self, radius):\n        "


def write_files(root: pathlib.Path, files: dict[str, str | bytes]) -> None:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)


@pytest.fixture
def corpus(tmp_path: pathlib.Path) -> list[SourceFile]:
    root = tmp_path / "corpus"
    write_files(root, dict(BASE_CORPUS))
    files = [SourceFile(str(root / name), size=len(text)) for name, text in BASE_CORPUS.items()]
    # Base models drop contexts seen only once; twice the corpus keeps this tiny one useful.
    return files * 2


@pytest.fixture
def engine(tmp_path: pathlib.Path, corpus: list[SourceFile]) -> LocalEngine:
    data_dir = tmp_path / "data"
    corpora.build_base_model("python", corpus, data_dir / "base" / "python.ngram")
    return LocalEngine(data_dir)


def complete(engine: LocalEngine, prefix: str, suffix: str = "", **options: object) -> list:
    arguments: dict[str, object] = {
        "language": "python",
        "project_key": None,
        "max_tokens": 32,
        "min_confidence": 0.0,
    }
    arguments.update(options)
    return engine.complete(prefix=prefix, suffix=suffix, **arguments)  # type: ignore[arg-type]


def test_it_completes_a_line_from_the_base_model(engine: LocalEngine) -> None:
    [suggestion] = complete(engine, INIT_BODY)
    assert suggestion.text == "self.radius = radius"
    assert suggestion.finish_reason == "stop"
    assert 0 < suggestion.confidence <= 1


def test_it_gives_the_same_answer_at_temperature_zero(engine: LocalEngine) -> None:
    prefix = "class Box:\n    def __init__(self, side):\n        self."
    first = complete(engine, prefix)
    assert first
    assert all(complete(engine, prefix) == first for _ in range(3))


def test_sampling_with_a_seed_is_reproducible(engine: LocalEngine) -> None:
    prefix = "def area(self):\n    return "
    runs = [complete(engine, prefix, temperature=1.0, seed=7, candidates=3) for _ in range(2)]
    assert runs[0]
    assert runs[0] == runs[1]


def test_it_stays_silent_on_nonsense(engine: LocalEngine) -> None:
    nonsense = "qz8 ~~ vlorp ;; 77x ^^ wimble\n"
    suggestions = engine.complete(
        prefix=nonsense, suffix="", language="python", project_key=None, max_tokens=16
    )
    assert suggestions == []


def test_the_threshold_can_be_lowered_or_raised(engine: LocalEngine) -> None:
    prefix = "def area(self):\n    return self."
    assert complete(engine, prefix, min_confidence=0.0)
    assert complete(engine, prefix, min_confidence=1.01) == []
    assert 0 < DEFAULT_MIN_CONFIDENCE < 1


def test_the_text_below_the_cursor_picks_the_continuation_that_reconnects(
    engine: LocalEngine,
) -> None:
    file_above = (
        "handle = open_reader()\ndata = handle.read()\n"
        "handle = open_reader()\ndata = handle.read()\n"
        "handle = open_writer()\nhandle.write(data)\n\n"
    )
    prefix = file_above + "handle = open_"
    [without_hint] = complete(engine, prefix, "\n")
    [reader] = complete(engine, prefix, "\ndata = handle.read()\n")
    [writer] = complete(engine, prefix, "\nhandle.write(data)\n")
    assert without_hint.text == "reader()"
    assert reader.text == "reader()"
    assert writer.text == "writer()"


def test_it_completes_from_the_file_alone_without_a_base_model(tmp_path: pathlib.Path) -> None:
    engine = LocalEngine(tmp_path / "empty")
    prefix = "total = compute_total(items, tax_rate)\nprint(total)\n\nsubtotal = compute_"
    [suggestion] = complete(engine, prefix, language="")
    assert suggestion.text == "total(items, tax_rate)"


def test_indexing_a_project_changes_the_answers(
    engine: LocalEngine, tmp_path: pathlib.Path
) -> None:
    repository = tmp_path / "repository"
    usage = "session = gateway.open_session(timeout=30, retries=5)\n"
    write_files(repository, {f"app/job{i}.py": f"def job{i}():\n    {usage}" for i in range(3)})
    prefix = "def nightly():\n    session = gateway."

    before = complete(engine, prefix, project_key="acme/platform/tools")
    engine.index_repository(project_key="acme/platform/tools", directory=repository)
    [after] = complete(engine, prefix, project_key="acme/platform/tools")
    other_project = complete(engine, prefix, project_key="acme/other")

    assert after.text == "open_session(timeout=30, retries=5)"
    assert [s.text for s in before] != [after.text]
    assert [s.text for s in other_project] == [s.text for s in before]


OTHER_FILE = 'def ship(parcel):\n    return courier.dispatch(parcel, priority="overnight")\n'
SHIP_LATER = "def ship_later(parcel):\n    return courier."


def test_it_copies_from_the_other_files_sent_with_the_request(engine: LocalEngine) -> None:
    [suggestion] = complete(engine, SHIP_LATER, other_files=OTHER_FILE)
    alone = complete(engine, SHIP_LATER)

    assert suggestion.text == 'dispatch(parcel, priority="overnight")'
    assert all("overnight" not in s.text for s in alone)


def test_other_files_past_what_one_request_reads_are_read_at_the_next_ones(
    engine: LocalEngine,
) -> None:
    filler = "".join(f"def helper_{i}(value):\n    return value + {i}\n\n" for i in range(60))
    other_files = filler + OTHER_FILE

    first = complete(engine, SHIP_LATER, other_files=other_files)
    later = [complete(engine, SHIP_LATER, other_files=other_files) for _ in range(5)][-1]

    assert all("overnight" not in s.text for s in first)
    assert later[0].text == 'dispatch(parcel, priority="overnight")'


def test_a_large_files_first_request_reads_the_code_nearest_the_cursor_and_the_next_the_rest(
    engine: LocalEngine,
) -> None:
    # 100,000 characters between the file's first call of the courier and the cursor.
    helpers = (f"def helper_{i:04}(value):\n    return value + {i}\n\n\n" for i in range(2_000))
    filler = "".join(helpers)
    near = 'def weigh(parcel):\n    return courier.scale(parcel, unit="grams")\n\n\n'
    prefix = OTHER_FILE + "\n\n" + filler + near + SHIP_LATER

    first = complete(engine, prefix)
    later = [complete(engine, prefix) for _ in range(60)][-1]

    assert first[0].text == 'scale(parcel, unit="grams")'
    assert later[0].text == 'dispatch(parcel, priority="overnight")'


def test_a_whole_new_line_needs_twice_the_confidence(engine: LocalEngine) -> None:
    [guess] = complete(engine, INIT_BODY)

    assert complete(engine, INIT_BODY, min_confidence=guess.confidence * 0.6) == []
    assert complete(engine, INIT_BODY, min_confidence=guess.confidence * 0.4) == [guess]
    # The rest of a line begun needs only the threshold.
    [rest] = complete(engine, INIT_BODY + "self.")
    assert complete(engine, INIT_BODY + "self.", min_confidence=rest.confidence * 0.9) == [rest]


def api_function(verb: str) -> str:
    return (
        f"def {verb}(url, **kwargs):\n"
        f'    """Sends a {verb.upper()} request.\n\n'
        "    :rtype: Response\n"
        '    """\n'
        f'    return request("{verb}", url, **kwargs)\n\n\n'
    )


# Inside a docstring: the n-gram models see other docstrings as one token each, and learn nothing
# of where they end.
END_OF_DOCSTRING = (
    'def delete(url, **kwargs):\n    """Sends a DELETE request.\n\n    :rtype: Response\n    '
)
BELOW_DOCSTRING = '\n    return request("delete", url, **kwargs)\n'
API_FILES = {f"api/{verb}.py": api_function(verb) for verb in ("get", "post", "put")}


def test_a_line_seen_between_the_same_lines_elsewhere_in_the_file_is_guessed(
    engine: LocalEngine,
) -> None:
    prefix = "".join(API_FILES.values()) + END_OF_DOCSTRING

    [suggestion] = complete(engine, prefix, BELOW_DOCSTRING, min_confidence=None)
    # Once, above and below: not enough to show a whole new line.
    once = complete(
        engine, API_FILES["api/get.py"] + END_OF_DOCSTRING, BELOW_DOCSTRING, min_confidence=None
    )

    assert suggestion.text == '"""'
    assert suggestion.confidence >= DEFAULT_MIN_CONFIDENCE * 2
    assert once == []


def complete_the_docstring(engine: LocalEngine, project_key: str | None) -> list:
    return complete(
        engine, END_OF_DOCSTRING, BELOW_DOCSTRING, project_key=project_key, min_confidence=None
    )


def test_a_line_seen_between_the_same_lines_in_the_projects_files_is_guessed(
    engine: LocalEngine, tmp_path: pathlib.Path
) -> None:
    write_files(tmp_path / "repository", API_FILES)
    engine.index_repository(project_key="acme/client", directory=tmp_path / "repository")

    [suggestion] = complete_the_docstring(engine, "acme/client")

    assert suggestion.text == '"""'
    assert complete_the_docstring(engine, None) == []
    assert complete_the_docstring(engine, "acme/other") == []


def check_task(name: str) -> str:
    return (
        f"def {name}():\n    value = load()\n    check(value, strict=True)\n    return value\n\n\n"
    )


CHECK_BEGUN = "".join(map(check_task, "abc")) + "def d():\n    value = load()\n    check("


def test_a_guessed_line_fits_what_is_typed_and_what_follows_the_cursor(engine: LocalEngine) -> None:
    [suggestion] = complete(engine, CHECK_BEGUN, suffix=")\n    return value\n")

    assert suggestion.text == "value, strict=True"


def test_a_guessed_line_ends_at_a_stop_sequence(engine: LocalEngine) -> None:
    suggestions = complete(engine, CHECK_BEGUN, suffix="\n    return value\n", stop=[","])

    assert [s.text for s in suggestions] == ["value"]


def test_an_index_made_before_whole_lines_were_counted_counts_them_at_the_next_run(
    engine: LocalEngine, tmp_path: pathlib.Path
) -> None:
    write_files(tmp_path / "repository", API_FILES)
    engine.index_repository(project_key="acme/client", directory=tmp_path / "repository")
    [lines_table] = (tmp_path / "data" / "projects").glob("*/python.lines")
    lines_table.unlink()  # as an index made by an earlier version has none

    report = engine.index_repository(project_key="acme/client", directory=tmp_path / "repository")
    [suggestion] = complete_the_docstring(engine, "acme/client")

    assert (report.indexed, report.unchanged) == (0, 3)
    assert suggestion.text == '"""'


def test_a_line_opened_in_an_indexed_file_is_not_given_the_line_below_again(
    engine: LocalEngine, tmp_path: pathlib.Path
) -> None:
    shipping = (
        "def ship(parcel):\n"
        "    label = courier.label(parcel)\n"
        "    courier.dispatch(parcel, label=label)\n"
        "    return label\n"
    )
    write_files(tmp_path / "repository", {"shipping.py": shipping})
    engine.index_repository(project_key="acme/shop", directory=tmp_path / "repository")
    # The editor's copy of the same file, a new line opened below the label's.
    opened = shipping.index("\n    courier.dispatch")

    suggestions = complete(
        engine, shipping[:opened] + "\n    ", shipping[opened:], project_key="acme/shop"
    )

    assert all("dispatch" not in s.text for s in suggestions)


def test_a_line_is_not_guessed_again_below_itself(
    engine: LocalEngine, tmp_path: pathlib.Path
) -> None:
    # In the project's files the rule is drawn twice: between a rule and "Done." sits a rule.
    # That says nothing of a line just opened below a rule, where repeating it is wrong.
    ruled = 'def {}():\n    """Run it.\n\n    ----\n    ----\n    Done.\n    """\n'
    write_files(tmp_path / "repository", {f"{name}.py": ruled.format(name) for name in "fgh"})
    engine.index_repository(project_key="acme/docs", directory=tmp_path / "repository")
    prefix = 'def main():\n    """Run it.\n\n    ----\n    '

    suggestions = complete(
        engine, prefix, '\n    Done.\n    """\n', project_key="acme/docs", min_confidence=None
    )

    assert all(s.text != "----" for s in suggestions)


def test_a_small_projects_code_seen_once_is_completed_from(
    engine: LocalEngine, tmp_path: pathlib.Path
) -> None:
    repository = tmp_path / "repository"
    job = (
        "def job(gateway, queue):\n"
        "    queue.clear()\n"
        "    gateway.close()\n"
        "    session = gateway.open_session(timeout=30, retries=5)\n"
        "    queue.put(session)\n"
    )
    write_files(repository, {"app/job.py": job})
    engine.index_repository(project_key="acme/platform/tools", directory=repository)

    [suggestion] = complete(
        engine, "def nightly(gateway):\n    session = gateway.", project_key="acme/platform/tools"
    )

    assert suggestion.text == "open_session(timeout=30, retries=5)"


def test_each_file_is_completed_from_its_own_code_whatever_was_edited_before(
    engine: LocalEngine,
) -> None:
    def file_calling(name: str) -> str:
        return f"def first():\n    {name}(spool=7, drain=True)\n\n\ndef second():\n    {name}("

    names = [f"flush_{i}" for i in range(6)]
    first_answers = [complete(engine, file_calling(name))[0].text for name in names]
    # Five other files since: more than the engine keeps counts of.
    again = complete(engine, file_calling(names[0]))[0].text

    assert first_answers == ["spool=7, drain=True)"] * len(names)
    assert again == first_answers[0]


def test_indexing_again_only_looks_at_what_changed(
    engine: LocalEngine, tmp_path: pathlib.Path
) -> None:
    repository = tmp_path / "repository"
    write_files(repository, {f"pkg/module{i}.py": f"VALUE_{i} = {i}\n" for i in range(20)})

    first = engine.index_repository(project_key="acme/app", directory=repository)
    started = time.perf_counter()
    second = engine.index_repository(project_key="acme/app", directory=repository)
    elapsed = time.perf_counter() - started
    (repository / "pkg/module0.py").write_text("VALUE_0 = 'changed'\n")
    (repository / "pkg/module1.py").unlink()
    third = engine.index_repository(project_key="acme/app", directory=repository)

    assert (first.indexed, first.unchanged, first.removed) == (20, 0, 0)
    assert (second.indexed, second.unchanged, second.removed) == (0, 20, 0)
    assert elapsed < 0.5
    assert (third.indexed, third.unchanged, third.removed) == (1, 18, 1)


def test_indexing_skips_ignored_vendored_generated_minified_binary_and_huge_files(
    engine: LocalEngine, tmp_path: pathlib.Path
) -> None:
    repository = tmp_path / "repository"
    marker = "zebrafish_marker = 1\n"
    write_files(
        repository,
        {
            ".gitignore": "secrets/\n*.local.py\n",
            "src/main.py": "def main():\n    return zebrafish_count()\n",
            "secrets/keys.py": marker,
            "settings.local.py": marker,
            "node_modules/lib/index.js": "var zebrafish_marker = 1;\n",
            "vendor/lib.py": marker,
            "web/app.min.js": "var zebrafish_marker=1;" * 10,
            "web/bundle.js": "var zebrafish_marker=1;" + "x" * 3000 + "\n",
            "api_pb2.py": marker,
            "schema.py": "# @generated by a tool\n" + marker,
            "blob.py": b"zebrafish_marker\x00\x01\x02",
            "huge.py": marker * 60_000,
        },
    )

    report = engine.index_repository(project_key="acme/app", directory=repository)
    answer = engine.answer_question(
        question="where is zebrafish marker set?", project_key="acme/app", documents=[]
    )

    assert report.indexed == 1
    assert report.skipped >= 10
    assert "src/main.py:1-2" in answer
    for skipped in ("keys.py", "local.py", "node_modules", "vendor", "min.js", "bundle.js"):
        assert skipped not in answer
    for skipped in ("api_pb2.py", "schema.py", "blob.py", "huge.py"):
        assert skipped not in answer


def test_the_chat_answer_cites_files_and_lines(engine: LocalEngine, tmp_path: pathlib.Path) -> None:
    repository = tmp_path / "repository"
    filler = "".join(f"def helper_{i}():\n    return {i}\n\n" for i in range(10))
    rotation = "def rotate_api_keys(vault):\n    for key in vault.keys():\n        key.rotate()\n"
    write_files(repository, {"ops/keys.py": filler + rotation, "ops/other.py": filler})
    engine.index_repository(project_key="acme/ops", directory=repository)

    answer = engine.answer_question(
        question="How do we rotate the API keys?",
        project_key="acme/ops",
        documents=[("runbook.md", "# Runbook\n\nKeys are rotated monthly by the on-call.\n")],
    )

    assert answer.splitlines()[0].startswith("No chat model is configured")
    assert "ops/keys.py:25-33" in answer
    assert "def rotate_api_keys(vault):" in answer
    assert "runbook.md:1-3" in answer
    assert "ops/other.py" not in answer


def test_max_tokens_cuts_the_answer_with_finish_reason_length(engine: LocalEngine) -> None:
    [cut] = complete(engine, INIT_BODY, max_tokens=2)
    assert cut.text == "self."
    assert cut.finish_reason == "length"


def test_stop_sequences_end_the_answer(engine: LocalEngine) -> None:
    [stopped] = complete(engine, INIT_BODY, stop=[" ="])
    assert stopped.text == "self.radius"
    assert stopped.finish_reason == "stop"


def test_multiline_completes_the_block(engine: LocalEngine) -> None:
    prefix = "def read_text(path):\n    with open(path) as "
    [line] = complete(engine, prefix)
    [block] = complete(engine, prefix, multiline=True)
    assert line.text == "handle:"
    assert block.text == "handle:\n        return handle.read()"


def test_base_models_are_built_once(
    tmp_path: pathlib.Path, corpus: list[SourceFile], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(corpora, "corpus_files", lambda language: corpus)
    engine = LocalEngine(tmp_path / "data")

    assert engine.build_base_models(languages=["python", "go"]) == ["python"]
    assert engine.build_base_models(languages=["python"]) == []
    assert engine.build_base_models(languages=["python"], force=True) == ["python"]
    assert (tmp_path / "data" / "base" / "python.ngram").exists()


def test_a_base_model_built_while_the_engine_serves_is_used_without_a_restart(
    tmp_path: pathlib.Path, corpus: list[SourceFile]
) -> None:
    engine = LocalEngine(tmp_path / "data")
    before = complete(engine, INIT_BODY)

    corpora.build_base_model("python", corpus, tmp_path / "data" / "base" / "python.ngram")
    [after] = complete(engine, INIT_BODY)

    assert [s.text for s in before] != [after.text]
    assert after.text == "self.radius = radius"


def test_two_builds_at_once_build_each_model_once(
    tmp_path: pathlib.Path, corpus: list[SourceFile], monkeypatch: pytest.MonkeyPatch
) -> None:
    def slowly_found(language: str) -> list[SourceFile]:
        time.sleep(0.2)  # both builds are past their check for a model before either writes it
        return corpus

    monkeypatch.setattr(corpora, "corpus_files", slowly_found)
    engine = LocalEngine(tmp_path / "data")
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        builds = [pool.submit(engine.build_base_models, languages=["python"]) for _ in range(2)]

    assert sorted(b.result() for b in builds) == [[], ["python"]]


def test_pythons_base_model_leaves_out_the_standard_librarys_tests() -> None:
    paths = [pathlib.PurePath(f.path) for f in corpora.corpus_files("python")]

    assert any(p.name == "json" or p.parent.name == "json" for p in paths)
    assert not [p for p in paths if {"test", "tests", "idle_test"} & set(p.parts)]
    assert not [p for p in paths if p.name.startswith("test_")]


def test_missing_base_models_are_those_not_built_whose_code_is_on_the_machine_python_first(
    tmp_path: pathlib.Path, corpus: list[SourceFile], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(corpora, "corpus_files", lambda language: corpus * (language != "java"))
    engine = LocalEngine(tmp_path / "data")

    assert engine.missing_base_models() == ["python", "javascript"]
    engine.build_base_models(languages=["python"])
    assert engine.missing_base_models() == ["javascript"]
    assert engine.missing_base_models(languages=["typescript"]) == ["javascript"]
