"""manage.py build_local_engine: the local engine's base models, which `make run` builds in the
background while it serves."""

import io
import time
import zipfile

import pytest
from django.core.management import call_command

JAVA = """\
package shapes;

public class Circle {
    private final double radius;

    public Circle(double radius) {
        this.radius = radius;
    }
}
"""


@pytest.fixture
def engine_dir(settings, tmp_path):
    settings.LOCAL_ENGINE_DIR = tmp_path / "engine"
    return settings.LOCAL_ENGINE_DIR


@pytest.fixture
def jdk(tmp_path, monkeypatch):
    """A JDK whose sources are two small files: its base model takes a moment to build."""
    home = tmp_path / "jdk"
    (home / "lib").mkdir(parents=True)
    with zipfile.ZipFile(home / "lib" / "src.zip", "w") as archive:
        archive.writestr("java.base/shapes/Circle.java", JAVA)
        archive.writestr("java.base/shapes/Disc.java", JAVA.replace("Circle", "Disc"))
    monkeypatch.setenv("JAVA_HOME", str(home))
    return home


def build_in_background(*languages: str) -> str:
    stdout = io.StringIO()
    call_command(
        "build_local_engine", "--background", *(f"--language={x}" for x in languages), stdout=stdout
    )
    return stdout.getvalue()


def test_in_the_background_it_returns_at_once_and_builds_in_a_process_of_its_own(engine_dir, jdk):
    said = build_in_background("java")

    model, log = engine_dir / "base" / "java.ngram", engine_dir / "build.log"
    assert "being built in the background (a few minutes, the first time only)" in said
    assert said.rstrip().endswith(f"Log: {log}")
    assert not model.exists()
    deadline = time.monotonic() + 60
    while not model.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert model.exists()
    while "Built" not in log.read_text() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert "Built the local engine's base models for java" in log.read_text()


def test_once_the_models_are_built_it_says_nothing_and_starts_nothing(engine_dir, jdk):
    call_command("build_local_engine", "--language=java", stderr=io.StringIO())

    assert build_in_background("java") == ""
    assert not (engine_dir / "build.log").exists()


def test_make_runs_quickstart_starts_the_missing_base_models_in_the_background(
    db, settings, tmp_path, engine_dir, jdk
):
    settings.BASE_DIR = tmp_path
    for built in ("python", "javascript"):
        (engine_dir / "base").mkdir(parents=True, exist_ok=True)
        (engine_dir / "base" / f"{built}.ngram").write_bytes(b"")
    stdout = io.StringIO()

    call_command("quickstart", "--build-engine", stdout=stdout)

    assert "being built in the background" in stdout.getvalue()
    log, deadline = engine_dir / "build.log", time.monotonic() + 60
    while "Built" not in (log.read_text() if log.exists() else "") and time.monotonic() < deadline:
        time.sleep(0.1)
    assert "Built the local engine's base models for java in" in log.read_text()
