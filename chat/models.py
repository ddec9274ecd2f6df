"""Chat history: every user's questions, the answers, and the /reset markers between them."""

import uuid

from django.conf import settings
from django.db import models

# Longer messages are cut: history is model input, and one pasted file must not fill the table.
MAX_CONTENT_LENGTH = 20_000
RESET = "/reset"


class Role(models.TextChoices):
    USER = "user"
    ASSISTANT = "assistant"
    # A /reset marker: the model sees nothing said before it.
    RESET = "reset"


class State(models.TextChoices):
    """A question's progress; answers and markers are always `done`."""

    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"


class MessageQuerySet(models.QuerySet):
    def older_than(self, cutoff) -> "MessageQuerySet":
        return self.filter(created_at__lt=cutoff)


class Message(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="chat_messages"
    )
    role = models.CharField(max_length=16, choices=Role.choices)
    content = models.TextField(blank=True)
    # Shared by a question and its answer, as GitLab's request id.
    request_id = models.UUIDField(default=uuid.uuid4, db_index=True)
    # An answer points at its question; at most one answer per question (see Meta).
    question = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="answers"
    )
    state = models.CharField(max_length=16, choices=State.choices, default=State.DONE)
    error = models.CharField(max_length=500, blank=True)
    resource_type = models.CharField(max_length=32, blank=True)
    resource_id = models.CharField(max_length=255, blank=True)
    project_id = models.BigIntegerField(null=True, blank=True)
    # What the model is told about the resource, fixed when the question is asked.
    resource_description = models.TextField(blank=True)
    additional_context = models.JSONField(default=list, blank=True)
    referer_url = models.CharField(max_length=1000, blank=True)
    client_subscription_id = models.CharField(max_length=500, blank=True)
    with_clean_history = models.BooleanField(default=False)
    # When a question was last handed to the workers (the sweep hands on orphaned ones again).
    dispatched_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = MessageQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["user", "role", "id"], name="chat_user_role_id"),
            # The sweep reads the few pending questions among many answered ones.
            models.Index(
                fields=["dispatched_at"],
                condition=models.Q(state="pending"),
                name="chat_pending_dispatched_at",
            ),
        ]
        constraints = [
            # The database, not only the task, makes sure a question is answered once.
            models.UniqueConstraint(
                fields=["question"],
                condition=models.Q(role="assistant"),
                name="chat_one_answer_per_question",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.role}: {self.content[:60]}"

    def save(self, *args, **kwargs) -> None:
        self.content = self.content[:MAX_CONTENT_LENGTH]
        super().save(*args, **kwargs)
