"""Editors' telemetry about suggestions: what was shown, accepted and rejected, per user."""

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from codesuggest import metrics
from codesuggest.api.errors import bad_request
from completions.models import SuggestionEvent
from completions.params import MAX_PROPERTIES_BYTES
from projects.models import User

# Stored in columns of their own, so not again among the other properties.
COLUMNS = ("unique_tracking_id", "language", "suggestion_size", "timestamp")


def track_suggestion_events(
    *, user: User, events: Sequence[tuple[str, Mapping[str, Any], Mapping[str, Any]]]
) -> list[SuggestionEvent]:
    """Store each event, given as (its name in the request, its parameters as checked, the
    event as sent), all or none: one bad event is a 400 naming every problem and stores
    nothing."""
    built: list[SuggestionEvent] = []
    problems: list[str] = []
    for name, params, sent in events:
        sent_properties = sent.get("additional_properties") or {}
        event, event_problems = _suggestion_event(user, name, params, sent_properties)
        built.append(event)
        problems.extend(event_problems)
    if problems:
        raise bad_request(", ".join(problems))
    with transaction.atomic():
        stored = SuggestionEvent.objects.bulk_create(built)
    for event in stored:
        metrics.SUGGESTION_EVENTS.labels(event.event).inc()
    return stored


def _moment(text: str) -> datetime | None:
    """An ISO 8601 time (UTC unless it says otherwise) as UTC, or None."""
    try:
        moment = parse_datetime(text)
    except ValueError:  # well formed, but no such date
        return None
    if moment is None:
        return None
    if timezone.is_naive(moment):
        return moment.replace(tzinfo=UTC)
    try:
        # In UTC: PostgreSQL refuses offsets beyond ±15:59, which ISO 8601 allows.
        return moment.astimezone(UTC)
    except OverflowError:  # within a day of year 1 or 9999, outside them in UTC
        return None


def _suggestion_event(
    user: User, name: str, params: Mapping[str, Any], sent_properties: Mapping[str, Any]
) -> tuple[SuggestionEvent, list[str]]:
    scope = f"{name}[additional_properties]" if name else "additional_properties"
    problems = []
    if len(json.dumps(sent_properties)) > MAX_PROPERTIES_BYTES:
        problems.append(f"{scope} must be less than {MAX_PROPERTIES_BYTES} bytes")
    properties = params["additional_properties"] or dict.fromkeys(COLUMNS)
    occurred_at = None
    if properties["timestamp"] is not None:
        occurred_at = _moment(properties["timestamp"])
        if occurred_at is None:
            problems.append(f"{scope}[timestamp] is invalid")
    event = SuggestionEvent(
        user=user,
        event=params["event"],
        occurred_at=occurred_at,
        unique_tracking_id=properties["unique_tracking_id"] or "",
        language=properties["language"] or "",
        suggestion_size=properties["suggestion_size"],
        namespace_id=params["namespace_id"],
        project_id=params["project_id"],
        additional_properties={
            key: value for key, value in sent_properties.items() if key not in COLUMNS
        },
    )
    return event, problems
