"""What the benchmarks that run the whole service share: ports, processes, the database, a fake
OpenAI-compatible model server, and measurements read from /proc and pg_stat_activity.

Run as a script it is that model server: `python bench/harness.py upstream PORT`.
"""

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable

UPSTREAM_BODY = json.dumps(
    {
        "id": "cmpl-bench",
        "object": "text_completion",
        "model": "bench",
        "choices": [{"index": 0, "text": "return a + b\n", "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 500, "completion_tokens": 5, "total_tokens": 505},
    }
).encode()
CHAT_WORDS = ["The", " answer", " is", " to", " add", " the", " two", " numbers", " together", "."]
CHAT_TEXT = "".join(CHAT_WORDS)


# The fake model server -----------------------------------------------------------------------


def _http(status: str, body: bytes, content_type: bytes = b"application/json") -> bytes:
    return b"HTTP/1.1 %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n%s" % (
        status.encode(),
        content_type,
        len(body),
        body,
    )


def _chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


class _Upstream(asyncio.Protocol):
    """Just enough HTTP/1.1 (keep-alive, Content-Length bodies) to be an OpenAI-compatible server:
    `/v1/completions`, and `/v1/chat/completions` whole or, with `"stream": true`, as SSE.

    A path starting with /delay/MS/ answers after MS milliseconds, without blocking others.
    Chat answers take `chat_ms` (set at start) in all, streamed word by word.
    `POST /fault/MODE` switches every later answer: `none`, `500` (an error status) or `garbage`
    (a 200 whose body is not JSON, a stream that breaks off).
    """

    completion = _http("200 OK", UPSTREAM_BODY)
    chat_ms = 0
    mode = "none"

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport: Any = transport
        self.buffer = b""
        sock = transport.get_extra_info("socket")
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self.buffer[:end].split(b"\r\n")
            length = 0
            for line in head[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            if len(self.buffer) < end + 4 + length:
                return
            body = self.buffer[end + 4 : end + 4 + length]
            self.buffer = self.buffer[end + 4 + length :]
            self._route(head[0].split(b" ")[1].decode(), body)

    def _route(self, path: str, body: bytes) -> None:
        if path.startswith("/fault/"):
            _Upstream.mode = path.removeprefix("/fault/")
            self._write(_http("200 OK", b"{}"))
            return
        delay = 0.0
        if path.startswith("/delay/"):
            _, _, ms, path = path.split("/", 3)
            delay, path = int(ms) / 1000, "/" + path
        loop = asyncio.get_running_loop()
        if self.mode == "500":
            reply = _http("500 Internal Server Error", b'{"error": {"message": "injected"}}')
            loop.call_later(delay, self._write, reply)
        elif not path.endswith("/chat/completions"):
            reply = self.completion if self.mode == "none" else _http("200 OK", b"<html>oops")
            if delay:
                loop.call_later(delay, self._write, reply)
            else:
                self._write(reply)
        elif json.loads(body or b"{}").get("stream"):
            self._write(
                b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                b"Transfer-Encoding: chunked\r\n\r\n"
            )
            step = self.chat_ms / 1000 / (len(CHAT_WORDS) + 1)
            for number, word in enumerate(CHAT_WORDS):
                event = {"choices": [{"index": 0, "delta": {"content": word}}]}
                data = b"data: %s\n\n" % json.dumps(event).encode()
                if self.mode == "garbage" and number == 3:
                    # Half an event, then the connection drops.
                    loop.call_later(delay + step * number, self._write, _chunk(data[:9]))
                    loop.call_later(delay + step * number, self.transport.close)
                    return
                loop.call_later(delay + step * number, self._write, _chunk(data))
            done = {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
            tail = b"data: %s\n\ndata: [DONE]\n\n" % json.dumps(done).encode()
            loop.call_later(delay + self.chat_ms / 1000, self._write, _chunk(tail) + _chunk(b""))
        else:
            message = {"role": "assistant", "content": CHAT_TEXT}
            answer = {"choices": [{"index": 0, "message": message, "finish_reason": "stop"}]}
            text = json.dumps(answer).encode() if self.mode == "none" else b"<html>oops"
            loop.call_later(delay + self.chat_ms / 1000, self._write, _http("200 OK", text))

    def _write(self, data: bytes) -> None:
        if not self.transport.is_closing():
            self.transport.write(data)


def serve_upstream(port: int, chat_ms: int = 0) -> None:
    _Upstream.chat_ms = chat_ms

    async def main() -> None:
        server = await asyncio.get_running_loop().create_server(
            _Upstream, "127.0.0.1", port, backlog=4096
        )
        await server.serve_forever()

    asyncio.run(main())


def upstream_command(port: int, chat_ms: int = 0) -> list[str]:
    return [PYTHON, __file__, "upstream", str(port), str(chat_ms)]


# Processes -------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"A process the benchmark started exited with {process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), 0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    sys.exit(f"Nothing listened on port {port} within {seconds:g}s")


def start(
    command: list[str], env: dict[str, str], log: Path, *, stdout: bool = True
) -> subprocess.Popen:
    """A process in a session of its own, so that it can be stopped with all its children.
    Its stderr (and stdout, unless told not: gunicorn's access log) is appended to `log`."""
    with open(log, "ab") as output:
        return subprocess.Popen(
            command,
            env=env,
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stdout=output if stdout else subprocess.DEVNULL,
            stderr=output,
            start_new_session=True,
        )


def kill(process: subprocess.Popen, sig: int = signal.SIGKILL) -> None:
    """Send `sig` to the process and everything it started."""
    with suppress(ProcessLookupError):
        os.killpg(process.pid, sig)


def stop(process: subprocess.Popen, grace: float = 15.0) -> None:
    kill(process, signal.SIGTERM)
    with suppress(subprocess.TimeoutExpired):
        process.wait(grace)
    # Whatever is left of its group (a worker that outlived its master) goes too.
    kill(process, signal.SIGKILL)
    process.wait()


@contextmanager
def running(
    command: list[str], env: dict[str, str], port: int, log: Path | None = None
) -> Iterator[subprocess.Popen]:
    """The process, once it listens on `port`; stopped at the end. Without a `log` of its own,
    its stdout is dropped and its stderr appended to /tmp/codesuggest-bench.log."""
    if log is None:
        process = start(command, env, Path("/tmp/codesuggest-bench.log"), stdout=False)
    else:
        process = start(command, env, log)
    try:
        wait_for_port(port, process)
        yield process
    finally:
        stop(process)


def manage(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [PYTHON, "manage.py", *args], env=env, cwd=ROOT, capture_output=True, text=True
    )
    if result.returncode:
        sys.exit(f"manage.py {' '.join(args)} failed:\n{result.stderr}")
    return result.stdout.strip()


# The database ----------------------------------------------------------------------------------


def database_name(database_url: str) -> str:
    return urlsplit(database_url).path.lstrip("/")


def admin_url(database_url: str) -> str:
    """The same server's `postgres` database: connections there are not the service's."""
    return urlsplit(database_url)._replace(path="/postgres").geturl()


def prepare_database(env: dict[str, str], user: str = "bench") -> str:
    """A fresh database at env["DATABASE_URL"], migrated, with a user; returns a token (scope
    api) for that user."""
    import psycopg

    name = database_name(env["DATABASE_URL"])
    with psycopg.connect(admin_url(env["DATABASE_URL"]), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    manage(env, "migrate", "--no-input", "-v", "0")
    manage(env, "create_user", user)
    return manage(env, "create_token", user, "--scopes", "api")


def connections_held(conn: Any, name: str) -> dict[str, int]:
    """PostgreSQL connections to database `name`, by state (active, idle, idle in transaction)."""
    rows = conn.execute(
        "SELECT coalesce(state, 'unknown'), count(*) FROM pg_stat_activity "
        "WHERE datname = %s GROUP BY 1",
        (name,),
    ).fetchall()
    return dict(rows)


class ConnectionCounter:
    """Samples how many PostgreSQL connections a database holds, while a run lasts."""

    def __init__(self, database_url: str) -> None:
        import psycopg

        self.conn = psycopg.connect(admin_url(database_url), autocommit=True)
        self.name = database_name(database_url)
        self.peak = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self.stop.wait(0.2):
            self.peak = max(self.peak, sum(connections_held(self.conn, self.name).values()))

    def __enter__(self) -> "ConnectionCounter":
        self.thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop.set()
        self.thread.join()
        self.conn.close()


# Memory ----------------------------------------------------------------------------------------


def children_of(pid: int) -> list[int]:
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return []
    return [int(child) for child in children]


def _status_mb(pid: int, field: str) -> float:
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return 0.0
    for line in lines:
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def rss_mb(pid: int) -> float:
    return _status_mb(pid, "VmRSS")


def peak_rss_mb(pid: int) -> float:
    return _status_mb(pid, "VmHWM")


def print_table(headers: list[str], rows: list[list[Any]], out: IO[str] = sys.stdout) -> None:
    """Columns as wide as their widest cell; the first left-aligned, the others right-aligned."""
    cells = [[str(cell) for cell in row] for row in [headers, *rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    for row in cells:
        line = "  ".join(
            cell.ljust(widths[i]) if i == 0 else cell.rjust(widths[i]) for i, cell in enumerate(row)
        )
        print(line.rstrip(), file=out)


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "upstream":
        serve_upstream(int(sys.argv[2]), int(sys.argv[3]) if len(sys.argv) > 3 else 0)
    else:
        sys.exit("usage: harness.py upstream PORT [CHAT_MS]")
