"""Django's WSGI application served from an ASGI server, in a pool of threads, so that HTTP and
the websockets at /-/cable share one port without slowing the completions (bench/README.md).

Django's own ASGI handler hops threads several times per request and measured +5 ms at p50;
a2wsgi, asgiref's WsgiToAsgi and uvicorn's WSGI middleware never notice a client that goes
away, so a stream whose client left ran to its end holding a thread. Here:
  - the body is read whole before the application runs (it is at most MAX_REQUEST_BODY_BYTES:
    a larger declared one is left unread, and the application refuses it from its length);
  - a response the application built whole goes out in one hop to the event loop; a stream
    goes out piece by piece, the thread waiting for each piece to be handed to the connection,
    so it never runs ahead of a slow client;
  - `http.disconnect` is watched meanwhile: once the client has gone the thread stops at the
    next piece and closes the response, which sends `request_finished` (usage events, the
    upstream model request) as under gevent;
  - a response broken off on purpose (a ConnectionError out of its body, completions'
    ResponseBrokenOff) closes the connection without ending the body and without a traceback.
"""

import asyncio
import io
import logging
import sys
import threading
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

logger = logging.getLogger(__name__)

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class WsgiBridge:
    """An ASGI application (http scopes only) running `app` in at most `threads` threads."""

    def __init__(self, app: WsgiApp, *, threads: int, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="wsgi")

    async def __call__(self, scope: Message, receive: Receive, send: Send) -> None:
        body, complete = await _read_body(scope, receive, self.max_body_bytes)
        exchange = _Exchange(asyncio.get_running_loop(), send)
        # A body cut short already told us the client went quiet: no disconnect to wait for.
        watcher = asyncio.create_task(_watch(receive, exchange.client_gone)) if complete else None
        try:
            broken_off = await exchange.loop.run_in_executor(
                self.executor, exchange.run, self.app, wsgi_environ(scope, body)
            )
        finally:
            exchange.client_gone.set()  # also when the server cancels us: the thread stops
            if watcher is not None:
                watcher.cancel()
        if broken_off:
            # gunicorn's ASGI worker closes the connection quietly only for a cancelled
            # application: an exception would be logged with its traceback, and a return
            # before the body's end as an error line.
            raise asyncio.CancelledError


async def _read_body(scope: Message, receive: Receive, limit: int) -> tuple[io.BytesIO, bool]:
    """The request body, and whether it arrived whole. A body without a length, or longer
    than `limit`, is left unread: Django reads no body without CONTENT_LENGTH, and the
    application refuses a longer one (codesuggest/api/middleware.py) before reading it."""
    length = _content_length(scope)
    body = io.BytesIO()
    if length is None or length > limit:
        return body, True
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            # The client stopped sending (the server's read timeout) or left: the application
            # gets a body that fails when read, answered 408 as under gevent.
            return _CutShort(), False
        body.write(message.get("body", b""))
        if not message.get("more_body", False):
            body.seek(0)
            return body, True


def _content_length(scope: Message) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


class _CutShort(io.BytesIO):
    """A request body that stopped arriving; Django turns the error into UnreadablePostError."""

    def read(self, size: int | None = -1, /) -> bytes:
        raise TimeoutError("The client stopped sending its request body")

    readline = read


async def _watch(receive: Receive, client_gone: threading.Event) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass  # the rest of a body left unread
    client_gone.set()


def wsgi_environ(scope: Message, body: io.BytesIO) -> dict[str, Any]:
    """PEP 3333's environ for an ASGI http scope. Paths are str of latin-1 code points, as a
    WSGI server passes the raw bytes; `X-Forwarded-*` headers arrive as HTTP_X_FORWARDED_*."""
    root_path = scope.get("root_path", "")
    path = scope["path"]
    if root_path and path.startswith(root_path):
        path = path[len(root_path) :]
    server = scope.get("server") or ("localhost", 80)
    client = scope.get("client")
    environ: dict[str, Any] = {
        "REQUEST_METHOD": scope["method"],
        "SCRIPT_NAME": root_path.encode().decode("latin-1"),
        "PATH_INFO": path.encode().decode("latin-1"),
        "QUERY_STRING": scope.get("query_string", b"").decode("latin-1"),
        "SERVER_NAME": server[0],
        "SERVER_PORT": str(server[1] or ""),
        "SERVER_PROTOCOL": f"HTTP/{scope.get('http_version', '1.1')}",
        "REMOTE_ADDR": client[0] if client else "",
        "REMOTE_PORT": str(client[1]) if client else "",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scope.get("scheme", "http"),
        "wsgi.input": body,
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    for raw_name, raw_value in scope["headers"]:
        name = raw_name.decode("latin-1").upper().replace("-", "_")
        value = raw_value.decode("latin-1")
        if name not in ("CONTENT_LENGTH", "CONTENT_TYPE"):
            name = f"HTTP_{name}"
        if name in environ:  # a repeated header: one value, as RFC 9110 joins them
            value = f"{environ[name]}{'; ' if name == 'HTTP_COOKIE' else ','}{value}"
        environ[name] = value
    return environ


class _ClientGone(Exception):
    pass


class _Exchange:
    """One request's response, written from its WSGI thread through the event loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop, send: Send) -> None:
        self.loop = loop
        self.send = send
        self.client_gone = threading.Event()
        self.start: Message | None = None
        self.started = False

    def run(self, app: WsgiApp, environ: dict[str, Any]) -> bool:
        """Serve the response; True when its body broke off on purpose (see the module)."""
        iterable = app(environ, self.start_response)
        try:
            if _built_whole(iterable):
                self.write(b"".join(iterable), more=False)
                return False
            for chunk in iterable:
                if chunk:
                    self.write(chunk, more=True)
            self.write(b"", more=False)
        except _ClientGone:
            pass
        except ConnectionError as exc:
            if not self.started:
                raise
            logger.debug("A response broke off: %s", exc)
            return True
        finally:
            close = getattr(iterable, "close", None)
            if close is not None:
                close()
        return False

    def start_response(
        self, status: str, headers: list[tuple[str, str]], exc_info: Any = None
    ) -> Callable[[bytes], None]:
        if exc_info is not None and self.started:
            raise exc_info[1].with_traceback(exc_info[2])
        self.start = {
            "type": "http.response.start",
            "status": int(status[:3]),
            "headers": [
                (name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers
            ],
        }
        return lambda chunk: self.write(chunk, more=True)  # PEP 3333's legacy write()

    def write(self, chunk: bytes, *, more: bool) -> None:
        """Hand `chunk` to the connection (the headers first, with the first piece) and wait
        until it has been: the thread never runs ahead of the client."""
        if self.client_gone.is_set():
            raise _ClientGone
        messages: list[Message] = []
        if not self.started:
            if self.start is None:
                raise RuntimeError("The WSGI application sent a body before start_response")
            messages.append(self.start)
            self.started = True
        messages.append({"type": "http.response.body", "body": chunk, "more_body": more})
        asyncio.run_coroutine_threadsafe(self._send_all(messages), self.loop).result()

    async def _send_all(self, messages: list[Message]) -> None:
        for message in messages:
            await self.send(message)


def _built_whole(iterable: Iterable[bytes]) -> bool:
    """A response whose body is all there (a list, Django's non-streaming HttpResponse) goes out
    in one hop; a stream's first piece must not wait for the next."""
    return isinstance(iterable, list | tuple) or getattr(iterable, "streaming", None) is False
