from django.conf import settings
from django.db import models


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
