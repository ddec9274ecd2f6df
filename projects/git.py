"""A project's Git source: which URLs and branches are accepted, and bringing a checkout to a
branch's newest commit with the git CLI.

Admins type these fields, and git can run commands for some URLs (`ext::`, an ssh host named
`-oProxyCommand=…`), so both are checked when saved and again before every fetch, and git itself
is allowed only the transports named here (GIT_ALLOW_PROTOCOL). A URL may carry credentials
(https://user:token@host/…): they are masked wherever a URL or git's messages are shown.
"""

import ipaddress
import os
import re
import signal
import subprocess
from pathlib import Path
from urllib.parse import SplitResult, unquote, urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError

NETWORK_SCHEMES = ("https", "http", "ssh")
# user@host:path, scp's form (ssh). Neither the user nor the host may start with "-", which ssh
# would read as an option.
_SCP_LIKE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]*@[A-Za-z0-9][A-Za-z0-9.-]*:[^-\s][^\s]*$")
# A URL's user information (user, or user:password) after its scheme, up to the host's last "@"
# (git takes a password holding an unescaped "@" whole).
_USERINFO = re.compile(r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.-]*://)[^/\s]+@")
MASK = "***"
# A host name's characters, in any script: internationalized names are host names too.
_HOST_NAME = re.compile(r"[\w.-]+")
# git check-ref-format's rules for a branch, and none may start with "-" (an option to git).
_BRANCH = re.compile(r"^(?!-)(?!.*(?:\.\.|@\{|//|/\.|\.lock/|\.lock$))[^\x00-\x20~^:?*\[\\\x7f]+$")
# One git command (a clone of a large repository is one fetch): past this it is stopped.
GIT_TIMEOUT_SECONDS = 600
# An HTTP server that sends nothing for this long has stalled: a working one sends a keep-alive
# at least every 5 s while it prepares the pack. Without it a stalled fetch held a worker for
# GIT_TIMEOUT_SECONDS, and one left behind by a killed worker hung for ever.
STALLED_SECONDS = 60


class GitError(Exception):
    """A fetch or checkout failed; the message is git's, with any credentials masked."""


def allowed_schemes() -> tuple[str, ...]:
    # file:// would let an admin index any repository the service can read on its machine,
    # other projects' checkouts included: only when the operator allows it (tests do).
    return NETWORK_SCHEMES + (("file",) if settings.INDEX_ALLOW_FILE_URLS else ())


def validate_git_url(url: str) -> None:
    """https://, http://, ssh://, user@host:path, and file:// where allowed; nothing that could
    make git run a command. The message never repeats the URL (it may hold credentials)."""
    if not url:
        return
    # Decoded too: git decodes a URL's %-escapes, and a newline would reach the credential
    # helper's lines (below).
    if any(character.isspace() or ord(character) < 32 for character in url + unquote(url)):
        raise ValidationError("A Git URL holds no spaces or control characters.", code="git_url")
    if _SCP_LIKE.match(url):
        return
    parts = _readable_parts(url)
    schemes = allowed_schemes()
    if parts.scheme not in schemes:
        raise ValidationError(
            f"Use a {', '.join(s + '://' for s in schemes)} or user@host:path URL.",
            code="git_url",
        )
    if parts.scheme == "file":
        if parts.netloc or not parts.path.startswith("/"):
            raise ValidationError("A file:// URL names an absolute path.", code="git_url")
        return
    # Decoded, as git hands them to ssh: "%2d" is a "-", which ssh would take for an option.
    host, user = unquote(parts.hostname or ""), unquote(parts.username or "")
    if not host or host.startswith("-") or not parts.path.strip("/"):
        raise ValidationError("The URL needs a host and a repository path.", code="git_url")
    if not _is_host(host):
        raise ValidationError("The URL's host is no host name or IP address.", code="git_url")
    if user.startswith("-"):
        raise ValidationError("The URL's user name may not start with '-'.", code="git_url")


def _readable_parts(url: str) -> SplitResult:
    """`url` split, with its port read. urlsplit raises ValueError for a bracketed host that is
    no IP address or a host that NFKC normalization would change ("a℀b"), .port for a port that
    is no number up to 65535: refused when saved, not a 500 on the admin's page."""
    unreadable = ValidationError("The URL's host or port cannot be read.", code="git_url")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise unreadable from None
    if port == 0:  # .port takes it, but no server listens there
        raise unreadable
    return parts


def _is_host(host: str) -> bool:
    """A host name (letters of any script, digits, '.', '-', '_') or an IP address: not, for
    example, "%ZZ", which names no host."""
    if _HOST_NAME.fullmatch(host):
        return True
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def validate_git_branch(branch: str) -> None:
    """A branch name git accepts, never one that starts with '-'. Empty: the default branch."""
    if branch and not _BRANCH.match(branch):
        raise ValidationError(
            "Not a branch name: no spaces, '~^:?*[\\', '..' or '@{', and no '-' first.",
            code="git_branch",
        )


def mask_credentials(text: str) -> str:
    """`text` with the user information of every URL in it replaced by ***."""
    return _USERINFO.sub(rf"\g<scheme>{MASK}@", text)


def checkout(*, url: str, branch: str, directory: Path) -> str:
    """Bring `directory` to the newest commit of `branch` at `url` (of its default branch when
    `branch` is empty), making it the first time; the commit's id. Only the files the new commit
    changed are written, so the others keep their mtime and the incremental index skips them."""
    try:
        validate_git_url(url)
        validate_git_branch(branch)
    except ValidationError as error:
        raise GitError(error.messages[0]) from None
    if not (directory / ".git").is_dir():
        directory.mkdir(parents=True, exist_ok=True)
        _git(directory, "init", "--quiet", url=url)
    _remove_stale_locks(directory)
    # Only the newest commit: history is not indexed. "refs/heads/…" can only be a branch.
    ref = f"refs/heads/{branch}" if branch else "HEAD"
    fetch = ["fetch", "--quiet", "--no-tags", "--end-of-options", "origin", ref]
    try:
        _git(directory, fetch[0], "--depth=1", *fetch[1:], url=url)
    except GitError as error:
        # A server of plain files ("dumb" HTTP) cannot send one commit alone: all of history.
        if "does not support shallow" not in str(error):
            raise
        _git(directory, *fetch, url=url)
    _git(directory, "checkout", "--quiet", "--force", "--detach", "FETCH_HEAD", url=url)
    return _git(directory, "rev-parse", "HEAD", url=url).strip()


def _remove_stale_locks(directory: Path) -> None:
    """The lock files of a git killed with its worker (index.lock, shallow.lock, HEAD.lock):
    left, every later run failed. The caller runs alone in this checkout (the project's lock)."""
    for lock in (directory / ".git").glob("*.lock"):
        lock.unlink(missing_ok=True)


def _git(directory: Path, *arguments: str, url: str) -> str:
    try:
        # The URL and branch were checked above and go after --end-of-options; git runs only
        # the transports GIT_ALLOW_PROTOCOL names.
        done = _run_whole_group(["git", "-C", str(directory), *arguments], env=_environment(url))
    except subprocess.TimeoutExpired:
        raise GitError(f"git {arguments[0]} took longer than {GIT_TIMEOUT_SECONDS} s") from None
    except FileNotFoundError:
        raise GitError("git is not installed") from None
    if done.returncode != 0:
        raise GitError(f"git {arguments[0]}: {_masked(_reason(done), url)}")
    return done.stdout


def _run_whole_group(command: list[str], *, env: dict[str, str]) -> subprocess.CompletedProcess:
    """`command` in a process group of its own, all of which is killed when it times out or the
    task is stopped: killed alone, git left its git-remote-http waiting on the server for ever."""
    with subprocess.Popen(  # noqa: S603
        command,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    ) as process:
        try:
            stdout, stderr = process.communicate(timeout=GIT_TIMEOUT_SECONDS)
        except BaseException:  # the timeout, or the task's time limit
            os.killpg(process.pid, signal.SIGKILL)
            raise
    return subprocess.CompletedProcess(command, process.returncode, stdout, stderr)


def _reason(done: subprocess.CompletedProcess) -> str:
    """git's first fatal error: the lines after it are advice ("Please make sure you have…")."""
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith(("fatal:", "error:"))]
    return (errors or lines or [f"exit status {done.returncode}"])[0]


def _masked(text: str, url: str) -> str:
    userinfo = urlsplit(url).netloc.rpartition("@")[0] if "://" in url else ""
    if userinfo:
        text = text.replace(userinfo, MASK)
    return mask_credentials(text)


# Gives git the credentials of an http(s) URL from the environment: in the URL, git hands them to
# git-remote-http on its command line, which every user of the machine can read (ps). The empty
# value first drops any helper configured on the machine, which might store them.
_CREDENTIAL_HELPER = (
    '!f() { test "$1" = get || return 0; echo "username=$CODESUGGEST_GIT_USERNAME"; '
    'echo "password=$CODESUGGEST_GIT_PASSWORD"; }; f'
)


def _environment(url: str) -> dict[str, str]:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.username:
        return _git_environment(url)
    bare = parts._replace(netloc=parts.netloc.rpartition("@")[2]).geturl()
    return {
        **_git_environment(bare),
        "GIT_CONFIG_COUNT": "3",
        "GIT_CONFIG_KEY_1": "credential.helper",
        "GIT_CONFIG_VALUE_1": "",
        "GIT_CONFIG_KEY_2": "credential.helper",
        "GIT_CONFIG_VALUE_2": _CREDENTIAL_HELPER,
        "CODESUGGEST_GIT_USERNAME": unquote(parts.username),
        "CODESUGGEST_GIT_PASSWORD": unquote(parts.password or ""),
    }


def _ssh_command() -> str:
    # A key with a passphrase, or an unknown host, fails rather than waits for an answer. A
    # server silent for STALLED_SECONDS fails too, as over HTTP: before its greeting (without
    # ConnectTimeout, ssh waited for ever on one that accepted the connection and said nothing)
    # and after it (four keep-alives unanswered).
    return (
        f"ssh -o BatchMode=yes -o ConnectTimeout={STALLED_SECONDS} "
        f"-o ServerAliveInterval={max(1, STALLED_SECONDS // 4)} -o ServerAliveCountMax=4"
    )


def _git_environment(url: str) -> dict[str, str]:
    return {
        **os.environ,
        "GIT_ALLOW_PROTOCOL": ":".join(allowed_schemes()),
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_HTTP_LOW_SPEED_LIMIT": "1",  # bytes a second
        "GIT_HTTP_LOW_SPEED_TIME": str(STALLED_SECONDS),
        "GIT_SSH_COMMAND": os.environ.get("GIT_SSH_COMMAND", _ssh_command()),
        # The URL reaches git through its environment, not its arguments, which every user of
        # the machine can read (ps), nor the checkout's .git/config on disk.
        "GIT_CONFIG_COUNT": "1",
        "GIT_CONFIG_KEY_0": "remote.origin.url",
        "GIT_CONFIG_VALUE_0": url,
    }
