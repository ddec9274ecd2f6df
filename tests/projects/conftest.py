"""Fixtures of the projects tests: a Git repository for the indexing tests, bare in a temporary
directory, fed by a working copy's commits and fetched through file:// (never the network)."""

import subprocess
from pathlib import Path

import pytest


def git(*arguments: str) -> str:
    done = subprocess.run(
        ["git", "-c", "user.name=alice", "-c", "user.email=alice@example.com", *arguments],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


def code(name: str, lines: int = 30) -> str:
    """A Python file of `lines` lines: two windows of retrieval for 30 lines."""
    return "".join(f"{name}_value_{number} = {number}\n" for number in range(lines))


class Remote:
    def __init__(self, root: Path) -> None:
        self.bare = root / "remote.git"
        self.work = root / "work"
        git("init", "--quiet", "--bare", "--initial-branch=main", str(self.bare))
        git("init", "--quiet", "--initial-branch=main", str(self.work))

    @property
    def url(self) -> str:
        return f"file://{self.bare}"

    def commit(self, files: dict[str, str | None], *, branch: str = "main") -> str:
        """Write (or, for None, delete) the files, commit and push them to `branch`; the commit."""
        for name, text in files.items():
            path = self.work / name
            if text is None:
                path.unlink()
            else:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text)
        git("-C", str(self.work), "add", "--all")
        git("-C", str(self.work), "commit", "--quiet", "--allow-empty", "-m", "change")
        git("-C", str(self.work), "push", "--quiet", str(self.bare), f"HEAD:refs/heads/{branch}")
        return git("-C", str(self.work), "rev-parse", "HEAD")


@pytest.fixture
def remote(tmp_path, settings) -> Remote:
    """A repository with three Python files, which file:// sources may be indexed from."""
    settings.LOCAL_ENGINE_DIR = tmp_path / "engine"
    settings.INDEX_ALLOW_FILE_URLS = True
    remote = Remote(tmp_path / "git")
    remote.commit({"orders.py": code("orders"), "billing.py": code("billing"), "ui.py": code("ui")})
    return remote
