"""Usage analytics for admins: the daily roll-up of the raw events, their retention, and the
tables the analytics page shows.

The page reads only the roll-up (UsageDay, SuggestionDay), never the raw events: a million
events take seconds to group, their roll-up a few milliseconds (bench/analytics.py). The
roll-up is incremental: each run recomputes the days since its last run, today included, so
the page is as fresh as the last run (every ANALYTICS_ROLLUP_SECONDS under Celery beat, and
before the page is shown when that is older, as without beat in the embedded run).
"""

import math
from collections.abc import Callable, Iterable, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import partial
from typing import Any, TypeVar

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Q, QuerySet, Sum
from django.db.models.functions import TruncDate, TruncWeek
from django.utils import timezone

from chat.models import Message, Role, State
from completions.models import (
    LATENCY_BUCKETS_MS,
    SuggestionDay,
    SuggestionEvent,
    UsageCounts,
    UsageDay,
    UsageDayByUser,
    UsageDayTotal,
    UsageEvent,
    UsageRollup,
    first_byte_bucket_field,
    latency_bucket_field,
)
from projects.models import Group, Project, User

# Raw events may be written a little after they happened (the usage buffer holds them for a
# few seconds, longer while the database is away): each run recomputes from this long before
# the previous one, so that an event of yesterday written just after midnight still counts.
LATE_EVENTS = timedelta(hours=1)
# A run that catches up on many days (the first, or after beat was stopped) does this many at
# most, so that it ends well within the task's time limit; the next runs do the rest.
DAYS_PER_RUN = 14
DELETE_BATCH = 10_000
BUCKETS = [latency_bucket_field(index) for index in range(len(LATENCY_BUCKETS_MS))]
FIRST_BYTE_BUCKETS = [first_byte_bucket_field(index) for index in range(len(LATENCY_BUCKETS_MS))]
# Every column a UsageDay adds up, but its key.
COUNTS = [field.name for field in UsageCounts._meta.get_fields() if field.name not in ("id", "day")]
SUCCEEDED = Q(status__lt=400)
Cube = TypeVar("Cube", bound=UsageCounts)


# Roll-up and retention ------------------------------------------------------------------------


def usage_roll_up(*, now: datetime | None = None) -> int:
    """Recompute the daily roll-up from the raw events of every day since the last run (all of
    them the first time, DAYS_PER_RUN at a time); the number of roll-up rows written. Safe to
    run twice, or at once: runs take turns on the roll-up's row."""
    now = now or timezone.now()
    with suppress(IntegrityError):  # created by a run at the same moment
        UsageRollup.objects.get_or_create(pk=1, defaults={"rolled_up_at": None})
    with transaction.atomic():
        state = UsageRollup.objects.select_for_update().get(pk=1)
        since = _first_day_to_recompute(state.rolled_up_at)
        if since is None:
            return 0
        start = datetime.combine(since, time.min, tzinfo=UTC)
        end = min(now, start + timedelta(days=DAYS_PER_RUN))
        usage = UsageEvent.objects.filter(created_at__gte=start)
        suggestions = SuggestionEvent.objects.filter(created_at__gte=start)
        if end < now:
            usage = usage.filter(created_at__lt=end)
            suggestions = suggestions.filter(created_at__lt=end)
        UsageDay.objects.filter(day__gte=since).delete()
        UsageDayByUser.objects.filter(day__gte=since).delete()
        UsageDayTotal.objects.filter(day__gte=since).delete()
        SuggestionDay.objects.filter(day__gte=since).delete()
        written = len(UsageDay.objects.bulk_create(_usage_days(usage), batch_size=2000))
        by_user = _coarser_days(UsageDayByUser, since, ("user_id", "project_id"))
        written += len(UsageDayByUser.objects.bulk_create(by_user, batch_size=2000))
        totals = _coarser_days(UsageDayTotal, since, ("language", "provider", "model"))
        written += len(UsageDayTotal.objects.bulk_create(totals, batch_size=2000))
        written += len(
            SuggestionDay.objects.bulk_create(_suggestion_days(suggestions), batch_size=2000)
        )
        state.rolled_up_at = end
        state.save(update_fields=["rolled_up_at"])
    return written


def usage_catch_up() -> None:
    """Roll up as many times as it takes to be current (seeding, benchmarks)."""
    began = timezone.now()
    while not UsageRollup.objects.filter(rolled_up_at__gte=began).exists():
        usage_roll_up()


def usage_roll_up_if_stale() -> None:
    """Roll up when the last run is older than the beat's interval: the page then never shows
    older numbers than beat would, and still shows today's where no beat runs."""
    rolled_up_at = UsageRollup.objects.filter(pk=1).values_list("rolled_up_at", flat=True).first()
    fresh_since = timezone.now() - timedelta(seconds=settings.ANALYTICS_ROLLUP_SECONDS)
    if rolled_up_at is None or rolled_up_at < fresh_since:
        usage_roll_up()


def _first_day_to_recompute(rolled_up_at: datetime | None) -> date | None:
    if rolled_up_at is not None:
        return (rolled_up_at - LATE_EVENTS).astimezone(UTC).date()
    firsts = [
        events.order_by("created_at").values_list("created_at", flat=True).first()
        for events in (UsageEvent.objects, SuggestionEvent.objects)
    ]
    first = min((moment for moment in firsts if moment), default=None)
    return first.astimezone(UTC).date() if first else None


def _usage_days(events: QuerySet[UsageEvent]) -> Iterable[UsageDay]:
    measured = SUCCEEDED & Q(upstream_ms__isnull=False)
    buckets = {}
    lower = -1
    for index, upper in enumerate(LATENCY_BUCKETS_MS):
        is_last = index == len(LATENCY_BUCKETS_MS) - 1
        in_bucket = Q(latency_ms__gt=lower) & (Q() if is_last else Q(latency_ms__lte=upper))
        for column, streamed in ((BUCKETS[index], False), (FIRST_BYTE_BUCKETS[index], True)):
            buckets[column] = Count("id", filter=SUCCEEDED & Q(streamed=streamed) & in_bucket)
        lower = upper
    rows = (
        events.annotate(day=TruncDate("created_at", tzinfo=UTC))
        .values("day", "user_id", "project_id", "language", "provider", "model")
        .annotate(
            requests=Count("id"),
            succeeded=Count("id", filter=SUCCEEDED),
            rate_limited=Count("id", filter=Q(status=429)),
            client_errors=Count("id", filter=Q(status__gte=400, status__lt=500) & ~Q(status=429)),
            upstream_timeouts=Count("id", filter=Q(status=504)),
            server_errors=Count("id", filter=Q(status__gte=500) & ~Q(status=504)),
            choices_sum=Sum("choices"),
            suggestion_chars_sum=Sum("suggestion_chars"),
            measured=Count("id", filter=measured),
            upstream_ms_sum=Sum("upstream_ms", filter=measured),
            overhead_ms_sum=Sum(F("latency_ms") - F("upstream_ms"), filter=measured),
            **buckets,
        )
        .order_by()
    )
    for row in rows.iterator(chunk_size=5000):
        yield UsageDay(
            choices=row.pop("choices_sum") or 0,
            suggestion_chars=row.pop("suggestion_chars_sum") or 0,
            upstream_ms=row.pop("upstream_ms_sum") or 0,
            overhead_ms=max(0, row.pop("overhead_ms_sum") or 0),
            **row,
        )


def _coarser_days(cube: type[Cube], since: date, keys: tuple[str, ...]) -> Iterable[Cube]:
    """UsageDay's rows since `since` added up by day and `keys` only, as rows of `cube`."""
    rows = (
        UsageDay.objects.filter(day__gte=since)
        .values("day", *keys)
        .annotate(**{f"{name}_sum": Sum(name) for name in COUNTS})
        .order_by()
    )
    for row in rows.iterator(chunk_size=5000):
        yield cube(
            day=row["day"],
            **{key: row[key] for key in keys},
            **{name: row[f"{name}_sum"] for name in COUNTS},
        )


def _suggestion_days(events: QuerySet[SuggestionEvent]) -> Iterable[SuggestionDay]:
    accepted = Q(event=SuggestionEvent.Kind.ACCEPTED)
    rows = (
        events.annotate(day=TruncDate("created_at", tzinfo=UTC))
        .values("day", "user_id", "project_id", "language")
        .annotate(
            shown=Count("id", filter=Q(event=SuggestionEvent.Kind.SHOWN)),
            accepted=Count("id", filter=accepted),
            rejected=Count("id", filter=Q(event=SuggestionEvent.Kind.REJECTED)),
            accepted_lines_sum=Sum("suggestion_size", filter=accepted),
        )
        .order_by()
    )
    for row in rows.iterator(chunk_size=5000):
        yield SuggestionDay(accepted_lines=row.pop("accepted_lines_sum") or 0, **row)


def usage_purge_expired(*, now: datetime | None = None) -> int:
    """Delete raw usage and suggestion events older than USAGE_RETENTION_DAYS (0 keeps them
    for ever); the number deleted. The daily roll-up keeps their counts: it holds no request's
    details, and the page's history would otherwise end with the raw events."""
    days = settings.USAGE_RETENTION_DAYS
    if days == 0:
        return 0
    cutoff = (now or timezone.now()) - timedelta(days=days)
    deleted = 0
    for model in (UsageEvent, SuggestionEvent):
        # In batches: one statement deleting months of events would hold its locks for long.
        while ids := list(
            model.objects.filter(created_at__lt=cutoff).values_list("id", flat=True)[:DELETE_BATCH]
        ):
            deleted += model.objects.filter(id__in=ids).delete()[0]
    return deleted


# What the page shows ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    since: date
    until: date  # included
    group: Group | None = None
    project: Project | None = None
    user: User | None = None
    language: str = ""
    model: str = ""  # "provider/model"


@dataclass
class Table:
    name: str
    title: str
    columns: Sequence[str]
    rows: list[Sequence[Any]] = field(default_factory=list)


def usage_days(
    filters: Filters, *, per_user: bool = False, per_language: bool = False
) -> QuerySet[Any]:
    """The roll-up rows the filters select, from the smallest roll-up that has what the filters
    and the question need: each user's and project's rows (`per_user`), each language's and
    model's (`per_language`), both, or neither (everyone's totals)."""
    each_user = per_user or bool(filters.user or filters.project or filters.group)
    each_language = per_language or bool(filters.language or filters.model)
    cube: type[UsageDay | UsageDayByUser | UsageDayTotal] = UsageDayTotal
    if each_user:
        cube = UsageDay if each_language else UsageDayByUser
    # Lookups rather than chained filters: not every roll-up has every field, and only those
    # it has are asked for.
    lookups: dict[str, Any] = {"day__gte": filters.since, "day__lte": filters.until}
    if filters.group:
        lookups["project__group__in"] = _group_tree(filters.group)
    if filters.project:
        lookups["project"] = filters.project
    if filters.user:
        lookups["user"] = filters.user
    if filters.language:
        lookups["language"] = filters.language
    if filters.model:
        lookups["provider"], _, lookups["model"] = filters.model.partition("/")
    return cube.objects.filter(**lookups).order_by()


def suggestion_days(filters: Filters) -> QuerySet[SuggestionDay]:
    """Suggestion telemetry names no model (see SuggestionEvent), so the model filter does not
    apply to it."""
    days = SuggestionDay.objects.filter(day__gte=filters.since, day__lte=filters.until)
    if filters.group:
        projects = Project.objects.filter(group__in=_group_tree(filters.group))
        days = days.filter(project_id__in=projects.values("id"))
    if filters.project:
        days = days.filter(project_id=filters.project.pk)
    if filters.user:
        days = days.filter(user=filters.user)
    if filters.language:
        days = days.filter(language=filters.language)
    return days.order_by()


def _group_tree(group: Group) -> QuerySet[Group]:
    return Group.objects.filter(Q(pk=group.pk) | Q(full_path__istartswith=f"{group.full_path}/"))


def _each_day(filters: Filters) -> list[date]:
    return [
        filters.since + timedelta(days=offset)
        for offset in range((filters.until - filters.since).days + 1)
    ]


def activity_by_day(filters: Filters) -> Table:
    rows = {
        row["day"]: row
        for row in usage_days(filters, per_user=True)
        .values("day")
        .annotate(requests=Sum("requests"), users=Count("user", distinct=True))
    }
    table = Table(
        "activity_by_day", "Requests and active users per day", ("day", "requests", "active users")
    )
    for day in _each_day(filters):
        row = rows.get(day, {})
        table.rows.append((day.isoformat(), row.get("requests", 0), row.get("users", 0)))
    return table


def active_users_by_week(filters: Filters) -> Table:
    rows = (
        usage_days(filters, per_user=True)
        .annotate(week=TruncWeek("day"))
        .values("week")
        .annotate(users=Count("user", distinct=True), requests=Sum("requests"))
        .order_by("week")
    )
    return Table(
        "active_users_by_week",
        "Active users per week (weeks start on Monday)",
        ("week", "active users", "requests"),
        [(_as_date(row["week"]).isoformat(), row["users"], row["requests"]) for row in rows],
    )


def _as_date(value: date | datetime) -> date:
    return value.date() if isinstance(value, datetime) else value


def top_by(filters: Filters, key: str, name: str, title: str, label: str, top: int) -> Table:
    rows = (
        usage_days(filters, per_user=key != "language", per_language=key == "language")
        .values(key)
        .annotate(requests=Sum("requests"), chars=Sum("suggestion_chars"))
        .order_by("-requests", key)[:top]
    )
    return Table(
        name,
        title,
        (label, "requests", "suggested characters"),
        [(row[key] or "(none)", row["requests"], row["chars"]) for row in rows],
    )


def suggestions_by(filters: Filters, key: str, name: str, label: str) -> Table:
    rows = (
        suggestion_days(filters)
        .values(key)
        .annotate(
            shown=Sum("shown"),
            accepted=Sum("accepted"),
            rejected=Sum("rejected"),
            lines=Sum("accepted_lines"),
        )
        .order_by("-shown", key)
    )
    return Table(
        name,
        f"Suggestions by {label}",
        (label, "shown", "accepted", "rejected", "acceptance rate", "accepted lines"),
        [
            (
                row[key] or "(none)",
                row["shown"],
                row["accepted"],
                row["rejected"],
                _rate(row["accepted"], row["shown"]),
                row["lines"],
            )
            for row in rows
        ],
    )


def _rate(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else ""


def suggestions_by_day(filters: Filters) -> Table:
    rows = {
        row["day"]: row
        for row in suggestion_days(filters)
        .values("day")
        .annotate(shown=Sum("shown"), accepted=Sum("accepted"), rejected=Sum("rejected"))
    }
    table = Table(
        "suggestions_by_day",
        "Suggestions per day",
        ("day", "shown", "accepted", "rejected", "acceptance rate"),
    )
    for day in _each_day(filters):
        row = rows.get(day, {})
        shown, accepted = row.get("shown", 0), row.get("accepted", 0)
        table.rows.append(
            (day.isoformat(), shown, accepted, row.get("rejected", 0), _rate(accepted, shown))
        )
    return table


def suggestions_by_model(filters: Filters) -> Table:
    rows = (
        usage_days(filters, per_language=True)
        .values("provider", "model")
        .annotate(
            requests=Sum("requests"),
            answered=Sum("succeeded"),
            choices=Sum("choices"),
            chars=Sum("suggestion_chars"),
        )
        .order_by("-requests", "provider", "model")
    )
    return Table(
        "suggestions_by_model",
        "Suggestions by model (editors' telemetry names no model: what each model returned)",
        ("model", "requests", "answered", "suggestions", "suggested characters"),
        [
            (_model(row), row["requests"], row["answered"], row["choices"], row["chars"])
            for row in rows
        ],
    )


def _model(row: dict[str, Any]) -> str:
    return f"{row['provider']}/{row['model']}"


def _histograms() -> dict[str, Any]:
    return {
        "measured": Sum("measured"),
        "upstream": Sum("upstream_ms"),
        "overhead": Sum("overhead_ms"),
        **{f"plain_{index}": Sum(name) for index, name in enumerate(BUCKETS)},
        **{f"stream_{index}": Sum(name) for index, name in enumerate(FIRST_BYTE_BUCKETS)},
    }


def percentile(counts: Sequence[int], fraction: float) -> str:
    """The latency below which `fraction` of the counted requests fall, as the upper bound of
    its histogram bucket (LATENCY_BUCKETS_MS)."""
    total = sum(counts)
    if not total:
        return ""
    rank = math.ceil(fraction * total)
    seen = 0
    for index, count in enumerate(counts):
        seen += count
        if seen >= rank:
            if index == len(counts) - 1:
                return f"> {LATENCY_BUCKETS_MS[-2]} ms"
            return f"≤ {LATENCY_BUCKETS_MS[index]} ms"
    raise AssertionError("unreachable")


def _latency_columns(row: dict[str, Any]) -> tuple[str, ...]:
    plain = [row[f"plain_{index}"] or 0 for index in range(len(BUCKETS))]
    stream = [row[f"stream_{index}"] or 0 for index in range(len(BUCKETS))]
    measured = row["measured"] or 0
    return (
        percentile(plain, 0.5),
        percentile(plain, 0.95),
        percentile(stream, 0.5),
        percentile(stream, 0.95),
        f"{(row['upstream'] or 0) / measured:.0f} ms" if measured else "",
        f"{(row['overhead'] or 0) / measured:.0f} ms" if measured else "",
    )


LATENCY_COLUMNS = (
    "latency p50",
    "latency p95",
    "stream first byte p50",
    "stream first byte p95",
    "mean upstream",
    "mean own overhead",
)


def latency(filters: Filters) -> Table:
    row = usage_days(filters).aggregate(requests=Sum("succeeded"), **_histograms())
    return Table(
        "latency",
        "Latency of answered requests",
        ("answered requests", *LATENCY_COLUMNS),
        [(row["requests"] or 0, *_latency_columns(row))],
    )


def latency_by_model(filters: Filters) -> Table:
    rows = (
        usage_days(filters, per_language=True)
        .values("provider", "model")
        .annotate(requests=Sum("succeeded"), **_histograms())
        .order_by("-requests", "provider", "model")
    )
    return Table(
        "latency_by_model",
        "Latency by model",
        ("model", "answered requests", *LATENCY_COLUMNS),
        [(_model(row), row["requests"], *_latency_columns(row)) for row in rows],
    )


def errors_by_day(filters: Filters) -> Table:
    kinds = ("rate_limited", "client_errors", "server_errors", "upstream_timeouts")
    rows = {
        row["day"]: row
        for row in usage_days(filters)
        .values("day")
        .annotate(**{f"{kind}_sum": Sum(kind) for kind in kinds})
    }
    table = Table(
        "errors_by_day",
        "Errors per day",
        ("day", "rate-limited (429)", "other 4xx", "5xx", "upstream timeouts (504)"),
    )
    for day in _each_day(filters):
        row = rows.get(day, {})
        table.rows.append((day.isoformat(), *(row.get(f"{kind}_sum", 0) for kind in kinds)))
    return table


def chat_by_day(filters: Filters) -> Table:
    """Chat questions and how they ended, from the chat history itself (chat keeps no usage
    events of its own). Chat names no language or model here, so those filters do not apply."""
    start = datetime.combine(filters.since, time.min, tzinfo=UTC)
    end = datetime.combine(filters.until + timedelta(days=1), time.min, tzinfo=UTC)
    questions = Message.objects.filter(role=Role.USER, created_at__gte=start, created_at__lt=end)
    if filters.user:
        questions = questions.filter(user=filters.user)
    if filters.project:
        questions = questions.filter(project_id=filters.project.pk)
    if filters.group:
        projects = Project.objects.filter(group__in=_group_tree(filters.group))
        questions = questions.filter(project_id__in=projects.values("id"))
    rows = {
        row["day"]: row
        for row in questions.annotate(day=TruncDate("created_at", tzinfo=UTC))
        .values("day")
        .annotate(
            asked=Count("id"),
            answered=Count("id", filter=Q(state=State.DONE)),
            failed=Count("id", filter=Q(state=State.FAILED)),
        )
        .order_by()
    }
    table = Table("chat_by_day", "Chat questions per day", ("day", "asked", "answered", "failed"))
    for day in _each_day(filters):
        row = rows.get(day, {})
        table.rows.append(
            (day.isoformat(), row.get("asked", 0), row.get("answered", 0), row.get("failed", 0))
        )
    return table


def filter_choices() -> dict[str, list[str]]:
    """The languages and models there is any usage of, for the page's filters."""
    days = UsageDayTotal.objects.order_by()
    return {
        "languages": sorted(
            language for language in days.values_list("language", flat=True).distinct() if language
        ),
        "models": sorted(
            {
                f"{provider}/{model}"
                for provider, model in days.values_list("provider", "model").distinct()
            }
        ),
    }


TOP = 10
# Every table of the analytics page, in its order, by the name its CSV export goes by.
TABLES: dict[str, Callable[[Filters], Table]] = {
    "activity_by_day": activity_by_day,
    "active_users_by_week": active_users_by_week,
    "top_users": partial(
        top_by, key="user__username", name="top_users", title="Top users", label="user", top=TOP
    ),
    "top_projects": partial(
        top_by,
        key="project__full_path",
        name="top_projects",
        title="Top projects",
        label="project",
        top=TOP,
    ),
    "top_languages": partial(
        top_by,
        key="language",
        name="top_languages",
        title="Top languages",
        label="language",
        top=TOP,
    ),
    "suggestions_by_day": suggestions_by_day,
    "suggestions_by_user": partial(
        suggestions_by, key="user__username", name="suggestions_by_user", label="user"
    ),
    "suggestions_by_language": partial(
        suggestions_by, key="language", name="suggestions_by_language", label="language"
    ),
    "suggestions_by_model": suggestions_by_model,
    "latency": latency,
    "latency_by_model": latency_by_model,
    "errors_by_day": errors_by_day,
    "chat_by_day": chat_by_day,
}
