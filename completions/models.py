from django.conf import settings
from django.db import models
from django.utils import timezone


class UsageEvent(models.Model):
    """One code-suggestions request, for analytics. Sizes only: the code itself is never kept."""

    created_at = models.DateTimeField(db_index=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    project = models.ForeignKey(
        "projects.Project", null=True, blank=True, on_delete=models.SET_NULL
    )
    endpoint = models.CharField(max_length=32)
    language = models.CharField(max_length=64, blank=True)
    intent = models.CharField(max_length=16, blank=True)
    provider = models.CharField(max_length=32, blank=True)
    model = models.CharField(max_length=255, blank=True)
    status = models.PositiveSmallIntegerField()
    # For a stream, until its first chunk was ready (its time to first byte).
    latency_ms = models.PositiveIntegerField()
    # Spent waiting for the model; none when no model was asked (a refused request).
    upstream_ms = models.PositiveIntegerField(null=True, blank=True)
    streamed = models.BooleanField(default=False)
    prompt_chars = models.PositiveIntegerField(default=0)
    suggestion_chars = models.PositiveIntegerField(default=0)
    choices = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.endpoint} {self.status} {self.created_at:%Y-%m-%d %H:%M:%S}"


class SuggestionEvent(models.Model):
    """What an editor did with a suggestion it was given, as its telemetry reports it
    (`/usage_data/track_event`): the source of acceptance rates.

    The `unique_tracking_id` is the editor's own: the language server makes one up for each
    suggestion and never sends it with the completion request, so an event cannot be joined to
    the UsageEvent of its request yet. It is kept to join one suggestion's events to each other
    (shown, then accepted or rejected) and to that request once a client sends it along.
    """

    class Kind(models.TextChoices):
        SHOWN = "code_suggestion_shown_in_ide"
        ACCEPTED = "code_suggestion_accepted_in_ide"
        REJECTED = "code_suggestion_rejected_in_ide"

    created_at = models.DateTimeField(default=timezone.now)
    # When the editor says it happened; telemetry may arrive late, in batches.
    occurred_at = models.DateTimeField(null=True, blank=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    event = models.CharField(max_length=64, choices=Kind.choices)
    unique_tracking_id = models.CharField(max_length=128, blank=True)
    language = models.CharField(max_length=64, blank=True)
    suggestion_size = models.PositiveIntegerField(null=True, blank=True, help_text="Lines.")
    namespace_id = models.BigIntegerField(null=True, blank=True)
    project_id = models.BigIntegerField(null=True, blank=True)
    # Every other property the editor sent (bounded in size when received).
    additional_properties = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["user", "event", "created_at"]),
            models.Index(fields=["event", "created_at"]),
            models.Index(fields=["unique_tracking_id"]),
            # The roll-up reads the events since its last run; retention deletes the oldest.
            models.Index(fields=["created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.event} {self.created_at:%Y-%m-%d %H:%M:%S}"


# Upper bounds (ms) of the latency histogram the daily roll-up keeps: percentiles are read from
# it, to within one bucket (about a quarter), since no raw latency is read when the page shows.
LATENCY_BUCKETS_MS = (
    *(10, 15, 20, 25, 30, 40, 50, 60, 80, 100, 120, 150, 200, 250, 300, 400, 500, 600, 800),
    *(1000, 1200, 1500, 2000, 2500, 3000, 4000, 5000, 6000, 8000, 10_000, 15_000, 20_000),
    *(30_000, 60_000),
)


def latency_bucket_field(index: int) -> str:
    """The histogram column counting answered requests that were not streamed, with a latency
    up to LATENCY_BUCKETS_MS[index] (the last one counts anything longer)."""
    return f"latency_le_{index:02d}"


def first_byte_bucket_field(index: int) -> str:
    """The same for streamed answers, by their time to the first byte."""
    return f"first_byte_le_{index:02d}"


class UsageCounts(models.Model):
    """What a roll-up row counts of the UsageEvents it stands for."""

    day = models.DateField()
    requests = models.PositiveIntegerField(default=0)
    succeeded = models.PositiveIntegerField(default=0)
    rate_limited = models.PositiveIntegerField(default=0)
    client_errors = models.PositiveIntegerField(default=0, help_text="4xx but 429.")
    upstream_timeouts = models.PositiveIntegerField(default=0, help_text="504.")
    server_errors = models.PositiveIntegerField(default=0, help_text="5xx but 504.")
    choices = models.PositiveBigIntegerField(default=0)
    suggestion_chars = models.PositiveBigIntegerField(default=0)
    # Of the succeeded requests that asked a model: the time spent waiting for it, and ours.
    measured = models.PositiveIntegerField(default=0)
    upstream_ms = models.PositiveBigIntegerField(default=0)
    overhead_ms = models.PositiveBigIntegerField(default=0)
    for _index in range(len(LATENCY_BUCKETS_MS)):
        locals()[latency_bucket_field(_index)] = models.PositiveIntegerField(default=0)
        locals()[first_byte_bucket_field(_index)] = models.PositiveIntegerField(default=0)
    del _index

    class Meta:
        abstract = True


class UsageDay(UsageCounts):
    """UsageEvents of one day rolled up by everything the analytics page filters and groups by,
    so that the page never reads the raw events (completions/analytics.py)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    project = models.ForeignKey("projects.Project", null=True, on_delete=models.SET_NULL)
    language = models.CharField(max_length=64, blank=True)
    provider = models.CharField(max_length=32, blank=True)
    model = models.CharField(max_length=255, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["day"]),
            models.Index(fields=["user", "day"]),
            models.Index(fields=["project", "day"]),
            # What the page asks of each user and project under a language or model filter,
            # read from these indexes alone (PostgreSQL's index-only scans) rather than from the
            # wide rows: a third of the time (bench/analytics.py). Key columns, not INCLUDE ones,
            # which SQLite would warn of.
            models.Index(
                fields=[
                    *("language", "day", "provider", "model"),
                    *("user", "project", "requests", "suggestion_chars"),
                ],
                name="usageday_language_cover",
            ),
            models.Index(
                fields=[
                    *("provider", "model", "day", "language"),
                    *("user", "project", "requests", "suggestion_chars"),
                ],
                name="usageday_model_cover",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.requests}"


class UsageDayByUser(UsageCounts):
    """UsageDay without its language and model: a row or two per user a day, for what the page
    shows of each user or project when it filters by neither language nor model."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    project = models.ForeignKey("projects.Project", null=True, on_delete=models.SET_NULL)

    class Meta:
        indexes = [
            models.Index(fields=["day"]),
            models.Index(fields=["user", "day"]),
            models.Index(fields=["project", "day"]),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.requests}"


class UsageDayTotal(UsageCounts):
    """UsageDay without its user and project: a few rows a day, for what the page shows of
    everyone (each user's rows a day would be read otherwise)."""

    language = models.CharField(max_length=64, blank=True)
    provider = models.CharField(max_length=32, blank=True)
    model = models.CharField(max_length=255, blank=True)

    class Meta:
        indexes = [models.Index(fields=["day"])]

    def __str__(self) -> str:
        return f"{self.day} {self.requests}"


class SuggestionDay(models.Model):
    """SuggestionEvents of one day rolled up by user, project and language."""

    day = models.DateField()
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    project_id = models.BigIntegerField(null=True)
    language = models.CharField(max_length=64, blank=True)
    shown = models.PositiveIntegerField(default=0)
    accepted = models.PositiveIntegerField(default=0)
    rejected = models.PositiveIntegerField(default=0)
    accepted_lines = models.PositiveBigIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["day", "user"])]

    def __str__(self) -> str:
        return f"{self.day} {self.shown} shown"


class UsageRollup(models.Model):
    """The one row saying up to when UsageDay and SuggestionDay hold the raw events."""

    rolled_up_at = models.DateTimeField(null=True)

    def __str__(self) -> str:
        return f"rolled up at {self.rolled_up_at}"
