"""Log lines: one JSON object each, or plain text for a terminal (LOG_FORMAT), carrying the id of
the request that wrote them, or of the request that queued the Celery task that did.

The request id comes from the proxy's X-Request-Id when it looks like one, else it is made
here; it goes back in the response's X-Request-Id (codesuggest/observe.py) and travels to a
Celery task in the task message's headers. Nothing here logs a query string (a token may be in
`?private_token=`), a body or a header's value: only what codesuggest/observe.py picks.
"""

import logging
import re
import uuid
from contextvars import ContextVar
from typing import Any

from celery import Task
from celery.signals import before_task_publish, task_postrun, task_prerun
from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter as _LibraryJsonFormatter

_request_id: ContextVar[str | None] = ContextVar("request_id", default=None)

# Letters, digits and a few separators, as a proxy's ids (nginx's $request_id, a UUID, GitLab's
# correlation ids) are: anything else could forge log lines or carry data.
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")
TASK_HEADER = "request_id"


def request_id_for(incoming: str | None) -> str:
    """The proxy's request id when it is a sane one, else a new one."""
    if incoming and _SANE_REQUEST_ID.fullmatch(incoming):
        return incoming
    return uuid.uuid4().hex


def set_request_id(request_id: str | None) -> None:
    _request_id.set(request_id)


def current_request_id() -> str | None:
    return _request_id.get()


class RequestIdFilter(logging.Filter):
    """Adds `request_id` to every record written while a request or its task runs."""

    def filter(self, record: logging.LogRecord) -> bool:
        request_id = _request_id.get()
        if request_id is not None:
            record.request_id = request_id
        return True


class JsonFormatter(_LibraryJsonFormatter):
    """`{"time", "level", "logger", "message", ...}`, and whatever `extra=` the call passed,
    except Django's `request`: its text is the full path, query string (and token) included."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            "{levelname}{name}{message}",
            style="{",
            timestamp="time",
            rename_fields={"levelname": "level", "name": "logger"},
            reserved_attrs=[*RESERVED_ATTRS, "request"],
            **kwargs,
        )


@before_task_publish.connect(dispatch_uid="codesuggest.logs.publish")
def _send_request_id(headers: dict[str, Any] | None = None, **kwargs: Any) -> None:
    request_id = _request_id.get()
    if request_id is not None and headers is not None:
        headers[TASK_HEADER] = request_id


@task_prerun.connect(dispatch_uid="codesuggest.logs.prerun")
def _adopt_request_id(task: Task | None = None, **kwargs: Any) -> None:
    # A task run in-process (no broker) is published without headers and keeps the id of the
    # request running it.
    request_id = getattr(task.request, TASK_HEADER, None) if task is not None else None
    if request_id:
        _request_id.set(request_id)


@task_postrun.connect(dispatch_uid="codesuggest.logs.postrun")
def _drop_request_id(task: Task | None = None, **kwargs: Any) -> None:
    if task is not None and getattr(task.request, TASK_HEADER, None):
        _request_id.set(None)
