"""Every request measured, logged once and given a request id (`ObserveRequestsMiddleware`)."""

import logging
import time
from collections.abc import Callable, Iterator

from django.db import connection
from django.http import FileResponse, HttpRequest, HttpResponse, StreamingHttpResponse

from codesuggest import logs, metrics
from codesuggest.api.throttling import client_address

logger = logging.getLogger("codesuggest.requests")

# A request no URL pattern matched: its path must not become a label.
UNMATCHED = "unmatched"


class ObserveRequestsMiddleware:
    """Answers with X-Request-Id; counts and times the request for /-/metrics by its URL route;
    writes one log line for it. A stream is measured and logged when it ends: when its last
    chunk has gone out or its client has gone."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        request_id = logs.request_id_for(request.META.get("HTTP_X_REQUEST_ID"))
        logs.set_request_id(request_id)
        upstream = metrics.start_request()
        response = self.get_response(request)
        response["X-Request-Id"] = request_id

        def finish() -> None:
            _finish(request, response, time.perf_counter() - started, upstream[0])

        # A file (static assets) is sent by the server as it likes; an async stream needs ASGI.
        if isinstance(response, StreamingHttpResponse) and not (
            isinstance(response, FileResponse) or response.is_async
        ):
            response.streaming_content = _EndOfStream(response.streaming_content, finish)
            return response
        finish()
        return response


class _EndOfStream:
    """A response's chunks, calling `finish` when Django closes the response (its WSGI server
    does at the end of the stream, or once the client has gone)."""

    def __init__(self, chunks: Iterator[bytes], finish: Callable[[], None]) -> None:
        self.chunks = chunks
        self.close = finish

    def __iter__(self) -> Iterator[bytes]:
        return self.chunks


def _finish(request: HttpRequest, response: HttpResponse, seconds: float, upstream: float) -> None:
    match = request.resolver_match
    endpoint = match.route if match is not None else UNMATCHED
    metrics.observe_request(
        method=request.method or "",
        endpoint=endpoint,
        status=response.status_code,
        seconds=seconds,
        upstream_seconds=upstream,
    )
    metrics.sample_database_pool(lambda: getattr(connection, "pool", None))
    details = {"upstream_ms": round(upstream * 1000, 1)} if upstream else {}
    log_request(
        method=request.method or "",
        # The path alone: a query string may hold a token (`?private_token=`).
        path=request.path,
        endpoint=endpoint,
        status=response.status_code,
        seconds=seconds,
        remote_ip=client_address(request),
        **details,
    )
    metrics.end_request()
    logs.set_request_id(None)


def log_request(
    *,
    method: str,
    path: str,
    endpoint: str,
    status: int,
    seconds: float,
    remote_ip: str,
    **details: object,
) -> None:
    """The one log line of a request, or of a websocket session when it ends."""
    fields: dict[str, object] = {
        "method": method,
        "path": path,
        "endpoint": endpoint,
        "status": status,
        "duration_ms": round(seconds * 1000, 1),
        "remote_ip": remote_ip,
        **details,
    }
    logger.info("%s %s %s %.0fms", method, path, status, seconds * 1000, extra=fields)
