"""What a hostile repository, a hostile Git source or a bad file does to a project's indexing,
found by indexing real repositories with a real worker and turned into tests: the task runs
eagerly here, and what it indexed is read back through the completions API, whose model is a
fake OpenAI server that records the prompt."""

import base64
import os
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from functools import partial
from http.server import BaseHTTPRequestHandler, SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from projects import git
from projects.indexing import checkout_directory
from projects.models import Project, ProjectIndex
from projects.tasks import index_project
from tests.completions.conftest import COMPLETIONS
from tests.completions.test_retrieval import use_openai
from tests.conftest import make_token
from tests.fake_servers import openai_server  # noqa: F401  (the model server)
from tests.projects.conftest import Remote, code
from tests.projects.test_admin_indexing import SECRET_URL, page, with_source

OUTSIDE_LINE = "DATABASE_PASSWORD = 'outside-the-checkout'"


@pytest.fixture(autouse=True)
def engine_dir(settings, tmp_path) -> Path:
    """The test's own LOCAL_ENGINE_DIR, as the remote's (which sets the same)."""
    settings.LOCAL_ENGINE_DIR = tmp_path / "engine"
    return settings.LOCAL_ENGINE_DIR


def index(project: Project, url: str) -> ProjectIndex:
    ProjectIndex.objects.update_or_create(project=project, defaults={"git_url": url})
    index_project.delay(project.pk)
    return ProjectIndex.objects.get(project=project)


def commit_links(remote: Remote, links: dict[str, str]) -> None:
    """Commit symbolic links, name -> target, as a repository may hold them."""
    for name, target in links.items():
        (remote.work / name).symlink_to(target)
    remote.commit({})


def prompt_for(api, settings, server, world, above: str) -> str:
    """The prompt the model received for a completion in the project, `above` the cursor."""
    use_openai(settings, server)
    body = {
        "current_file": {"file_name": "app.py", "content_above_cursor": above},
        "intent": "completion",
        "project_path": world.project.full_path,
    }
    response = api.post(COMPLETIONS, body, token=make_token(world.bob, scopes=("ai_features",)))
    assert response.status_code == 200
    return server.last.json["prompt"]


def checkout_of_the_project(settings) -> Path:
    """A directory as deep as the project's checkout, for relative links out of it."""
    return settings.LOCAL_ENGINE_DIR / "checkouts" / "project"


@pytest.fixture
def outside_file(tmp_path) -> Path:
    """A file of the machine's, beside the repository but outside any checkout."""
    path = tmp_path / "secrets" / "settings.py"
    path.parent.mkdir()
    path.write_text(f"{OUTSIDE_LINE}\n" * 20)
    return path


def test_links_are_neither_indexed_nor_sent_to_the_model_but_the_files_inside_they_name_are(
    world,
    remote,
    outside_file,
    api,
    settings,
    openai_server,  # noqa: F811
):
    commit_links(
        remote,
        {
            "absolute.py": str(outside_file),
            "relative.py": os.path.relpath(outside_file, checkout_of_the_project(settings)),
            "orders_alias.py": "orders.py",  # inside: orders.py is indexed as itself
        },
    )

    record = index(world.project, remote.url)

    assert (record.state, record.files) == ("done", 3)
    assert record.files_skipped == 4  # the three links, and .git
    prompt = prompt_for(api, settings, openai_server, world, "DATABASE_PASSWORD = ")
    assert "outside-the-checkout" not in prompt


def test_a_link_to_an_excluded_file_does_not_bring_it_to_the_model_under_its_own_name(
    world,
    remote,
    api,
    settings,
    openai_server,  # noqa: F811
):
    world.project.context_exclusions = "secrets/"
    world.project.save()
    remote.commit({"secrets/keys.py": f"{OUTSIDE_LINE}\n" * 20})
    commit_links(remote, {"keys_alias.py": "secrets/keys.py"})

    record = index(world.project, remote.url)

    assert (record.state, record.files) == ("done", 3)
    prompt = prompt_for(api, settings, openai_server, world, "DATABASE_PASSWORD = ")
    assert "outside-the-checkout" not in prompt


def test_a_broken_link_in_the_repository_is_skipped_rather_than_failing_every_run(world, remote):
    commit_links(remote, {"gone.py": "nowhere.py"})

    record = index(world.project, remote.url)

    assert (record.state, record.error, record.files) == ("done", "", 3)


def test_a_lock_left_by_a_git_killed_mid_checkout_does_not_fail_the_next_runs(world, remote):
    index(world.project, remote.url)
    (checkout_directory(world.project) / ".git" / "index.lock").touch()
    newest = remote.commit({"ui.py": code("ui", 50)})

    record = index(world.project, remote.url)

    assert (record.state, record.error, record.commit, record.files_read) == ("done", "", newest, 1)


@pytest.fixture
def silent_server() -> Iterator[str]:
    """An address that accepts connections and never answers: a stalled Git server."""
    listener = socket.create_server(("127.0.0.1", 0))
    accepted: list[socket.socket] = []
    threading.Thread(target=lambda: accepted.append(listener.accept()[0]), daemon=True).start()
    yield f"127.0.0.1:{listener.getsockname()[1]}"
    for connection in [*accepted, listener]:
        connection.close()


def test_a_server_that_never_answers_fails_the_run_once_it_has_stalled(
    world, silent_server, monkeypatch
):
    monkeypatch.setattr(git, "STALLED_SECONDS", 1)
    started = time.monotonic()

    record = index(world.project, f"http://alice:s3cret-token@{silent_server}/acme/tools.git")

    assert time.monotonic() - started < 10  # not GIT_TIMEOUT_SECONDS, 600
    assert record.state == "failed"
    assert "Operation too slow" in record.error
    assert "s3cret-token" not in record.error


def test_an_ssh_server_that_never_answers_fails_the_run_once_it_has_stalled(
    world, silent_server, monkeypatch
):
    monkeypatch.setattr(git, "STALLED_SECONDS", 1)
    monkeypatch.setattr(git, "GIT_TIMEOUT_SECONDS", 20)  # 600: a hang would outlast the suite
    started = time.monotonic()

    record = index(world.project, f"ssh://git@{silent_server}/acme/tools.git")

    assert time.monotonic() - started < 10
    assert (record.state, record.error) == (
        "failed",
        "git fetch: fatal: Could not read from remote repository.",
    )


class GitHttpBackend(BaseHTTPRequestHandler):
    """Smart HTTP, as a Git host serves it: `git http-backend` behind Basic authentication."""

    root = Path()
    credentials = ""

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _serve(self) -> None:
        expected = "Basic " + base64.b64encode(self.credentials.encode()).decode()
        if self.headers.get("Authorization") != expected:
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="git"')
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        path, _, query = self.path.partition("?")
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        done = subprocess.run(
            ["git", "http-backend"],
            input=body,
            capture_output=True,
            check=True,
            env={
                **os.environ,
                "GIT_PROJECT_ROOT": str(self.root),
                "GIT_HTTP_EXPORT_ALL": "1",
                "REQUEST_METHOD": self.command,
                "PATH_INFO": path,
                "QUERY_STRING": query,
                "CONTENT_TYPE": self.headers.get("Content-Type", ""),
                "CONTENT_LENGTH": str(len(body)),
            },
        )
        head, _, content = done.stdout.partition(b"\r\n\r\n")
        headers = dict(line.split(": ", 1) for line in head.decode().split("\r\n"))
        self.send_response(int(headers.pop("Status", "200").split()[0]))
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        self.wfile.write(content)


@pytest.fixture
def git_host(remote) -> Iterator[str]:
    """The remote, served over smart HTTP to alice with her token alone; its address."""
    handler = type("Handler", (GitHttpBackend,), {"root": remote.bare.parent})
    handler.credentials = "alice:s3cret-token"
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"127.0.0.1:{server.server_address[1]}/{remote.bare.name}"
    server.shutdown()
    server.server_close()


def test_the_credentials_in_a_url_reach_the_git_host(world, git_host):
    record = index(world.project, f"http://alice:s3cret-token@{git_host}")

    assert (record.state, record.error, record.files) == ("done", "", 3)


def test_the_credentials_in_a_url_are_on_no_command_line_of_the_machine(
    world, silent_server, monkeypatch
):
    monkeypatch.setattr(git, "STALLED_SECONDS", 2)
    seen: list[str] = []
    watching = threading.Thread(target=lambda: seen.extend(command_lines(seconds=1.5)))
    watching.start()

    index(world.project, f"http://alice:s3cret-token@{silent_server}/acme/tools.git")

    watching.join()
    assert any("git" in line for line in seen)  # git ran while we watched
    assert not [line for line in seen if "s3cret-token" in line]


def command_lines(*, seconds: float) -> set[str]:
    """The command lines of the machine's processes, read once and then for `seconds`."""
    lines: set[str] = set()
    deadline = time.monotonic() + seconds
    while True:
        for path in Path("/proc").glob("[0-9]*/cmdline"):
            try:
                lines.add(path.read_bytes().replace(b"\0", b" ").decode(errors="replace"))
            except OSError:
                continue  # the process ended
        if time.monotonic() >= deadline:
            return lines
        time.sleep(0.05)


def test_a_url_typed_with_credentials_is_masked_when_the_page_comes_back_with_an_error(
    admin_client, world
):
    form = with_source(world.project, git_url=SECRET_URL, git_branch="--help")

    response = admin_client.post(page(world.project), form)

    assert response.status_code == 200  # the branch is refused
    assert "s3cret-token" not in response.content.decode()
    assert "https://***@git.example.com/acme/tools.git" in response.content.decode()


def test_git_is_stopped_whole_when_it_takes_too_long(world, silent_server, monkeypatch):
    monkeypatch.setattr(git, "GIT_TIMEOUT_SECONDS", 1)

    record = index(world.project, f"http://{silent_server}/acme/tools.git")

    assert record.error == "git fetch took longer than 1 s"
    time.sleep(0.2)  # a process killed is gone from /proc once its parent has reaped it
    assert not [line for line in command_lines(seconds=0) if silent_server in line]


def test_a_project_made_at_the_path_of_a_deleted_one_is_not_served_its_code(
    world,
    remote,
    api,
    settings,
    openai_server,  # noqa: F811
    django_capture_on_commit_callbacks,
):
    index(world.project, remote.url)
    with django_capture_on_commit_callbacks(execute=True):
        world.project.delete()
    world.project = Project.objects.create(name="Tools", path="tools", group=world.subgroup)

    prompt = prompt_for(api, settings, openai_server, world, "orders_value_0 = 0\norders_")

    assert "orders_value_1" not in prompt
    assert not any((settings.LOCAL_ENGINE_DIR / "checkouts").iterdir())


@pytest.mark.parametrize("move", ["rename", "move to another group"])
def test_a_project_renamed_or_moved_keeps_its_code_and_its_old_path_gets_none(
    world,
    remote,
    api,
    settings,
    openai_server,  # noqa: F811
    move,
):
    index(world.project, remote.url)
    if move == "rename":
        world.project.path = "tools-renamed"
    else:
        world.project.group = world.group
    world.project.save()
    newcomer = Project.objects.create(name="Tools", path="tools", group=world.subgroup)

    assert "orders_value_1" in prompt_for(
        api, settings, openai_server, world, "orders_value_0 = 0\norders_"
    )
    world.project = newcomer
    assert "orders_value_1" not in prompt_for(
        api, settings, openai_server, world, "orders_value_0 = 0\norders_"
    )


def test_deleting_a_project_never_indexed_writes_nothing(
    world, engine_dir, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        world.project.delete()

    assert not engine_dir.exists()


class QuietFiles(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def test_a_repository_served_as_plain_files_is_fetched_whole(world, remote):
    subprocess.run(["git", "-C", str(remote.bare), "update-server-info"], check=True)
    server = ThreadingHTTPServer(
        ("127.0.0.1", 0), partial(QuietFiles, directory=str(remote.bare.parent))
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/{remote.bare.name}"
        record = index(world.project, url)
    finally:
        server.shutdown()
        server.server_close()

    assert (record.state, record.error, record.files) == ("done", "", 3)
