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
    latency_ms = models.PositiveIntegerField()
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
        ]

    def __str__(self) -> str:
        return f"{self.event} {self.created_at:%Y-%m-%d %H:%M:%S}"
