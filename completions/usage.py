"""Usage events, recorded without slowing the request they describe.

Events wait in a small per-process buffer and are written in one INSERT once the buffer is
full or old, after the response has gone out (on `request_finished`), and at exit. While the
database is unavailable they stay in the buffer (up to MAX_BUFFERED) for a later flush.
"""

import atexit
import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.core.signals import request_finished
from django.db import IntegrityError, InterfaceError, OperationalError, connection
from django.utils import timezone

from codesuggest.api.ratelimit import enforce_code_suggestions_rate_limit
from codesuggest.outages import DATABASE
from completions.models import UsageEvent
from completions.services import Predictions, Suggestions
from projects.access import project_gating_code_suggestions
from projects.models import Project, User

logger = logging.getLogger(__name__)

BATCH_SIZE = 50
# Events kept while the database is unavailable; older ones beyond this are dropped.
MAX_BUFFERED = 5000
MAX_AGE_SECONDS = 5.0

_buffer: list[UsageEvent] = []
_oldest = 0.0
_lock = threading.Lock()


def record_usage(**fields: Any) -> None:
    global _oldest
    event = UsageEvent(created_at=timezone.now(), **fields)
    with _lock:
        if not _buffer:
            _oldest = time.monotonic()
        _buffer.append(event)


class UsageRecord:
    def __init__(self, **fields: Any) -> None:
        self.fields = fields

    @property
    def project(self) -> Project | None:
        return self.fields["project"]

    def describe(self, suggestions: Suggestions, *, streamed: bool = False) -> None:
        self.fields.update(
            streamed=streamed,
            upstream_ms=suggestions.upstream_ms,
            language=suggestions.language.name if suggestions.language else "",
            intent=suggestions.intent,
            provider=suggestions.config.provider,
            model=suggestions.model_name,
            prompt_chars=suggestions.prompt_chars,
            suggestion_chars=sum(len(choice.text) for choice in suggestions.choices),
            choices=len(suggestions.choices),
        )

    def describe_predictions(self, predictions: Predictions, *, prompt_chars: int) -> None:
        self.fields.update(
            provider=predictions.config.provider,
            model=predictions.model_name,
            upstream_ms=predictions.upstream_ms,
            prompt_chars=prompt_chars,
            suggestion_chars=sum(len(candidate.text) for candidate in predictions.candidates),
            choices=len(predictions.candidates),
        )


@contextmanager
def tracked_usage(*, user: User, project: Project | None, endpoint: str) -> Iterator[UsageRecord]:
    """Record the work done inside the block: what was asked, how long it took, how it ended."""
    record = UsageRecord(user=user, project=project, endpoint=endpoint)
    started = time.perf_counter()
    status = 200
    try:
        yield record
    except Exception as exc:
        status = getattr(exc, "status", 500)
        raise
    finally:
        latency_ms = round((time.perf_counter() - started) * 1000)
        record_usage(status=status, latency_ms=latency_ms, **record.fields)


@contextmanager
def metered_request(
    *, user: User, project_path: str | None, endpoint: str
) -> Iterator[UsageRecord]:
    """Every code-suggestions endpoint's way through, in GitLab's order: the project's gate
    (`project_path` may name none), then the work inside the block, recorded with the caller's
    rate limit: a refused request (429) is counted as well."""
    project = project_gating_code_suggestions(user, project_path)
    with tracked_usage(user=user, project=project, endpoint=endpoint) as usage:
        enforce_code_suggestions_rate_limit(user.pk)
        yield usage


def flush_usage_events(*, force: bool = True) -> int:
    """Write the buffered events; without `force`, only when the batch is full or old."""
    with _lock:
        due = len(_buffer) >= BATCH_SIZE or time.monotonic() - _oldest >= MAX_AGE_SECONDS
        if not _buffer or not (force or due) or (DATABASE.down and not force):
            return 0
        batch = _buffer.copy()
        _buffer.clear()
    try:
        try:
            UsageEvent.objects.bulk_create(batch)
        except IntegrityError:
            # A user or project deleted since its request refuses the whole batch: the rest is
            # written, and theirs go, as they would have gone with the rows they belonged to.
            batch = _whose_user_and_project_remain(batch)
            UsageEvent.objects.bulk_create(batch)
    except (OperationalError, InterfaceError) as exc:
        # The database is away for a while: keep the events for the next flush, up to a bound.
        DATABASE.failed(exc)
        with _lock:
            _buffer[:0] = batch[: max(0, MAX_BUFFERED - len(_buffer))]
        return 0
    except Exception as exc:
        # Analytics must never break serving; a batch the database refuses is dropped.
        logger.error("Could not write %d usage events: %s: %s", len(batch), type(exc).__name__, exc)
        return 0
    return len(batch)


def _whose_user_and_project_remain(batch: list[UsageEvent]) -> list[UsageEvent]:
    users = set(User.objects.filter(pk__in={e.user_id for e in batch}).values_list("pk", flat=True))
    projects = set(
        Project.objects.filter(pk__in={e.project_id for e in batch}).values_list("pk", flat=True)
    )
    return [
        event
        for event in batch
        if (event.user_id is None or event.user_id in users)
        and (event.project_id is None or event.project_id in projects)
    ]


def _flush_when_due(**kwargs: Any) -> None:
    flush_usage_events(force=False)
    # Django gave the request's connection back to the pool before this receiver ran; the
    # write borrowed another, which nothing else would return once the client disconnects.
    # Under gevent every request is a greenlet of its own, so each flush leaked one connection
    # until the pool was empty.
    if not connection.in_atomic_block:
        connection.close()


request_finished.connect(_flush_when_due, dispatch_uid="completions.usage.flush")
atexit.register(flush_usage_events)
