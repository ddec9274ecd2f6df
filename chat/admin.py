from django.conf import settings
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import Truncator

from chat.markdown import markdown_to_html
from chat.models import Message, Role
from chat.services import history_purge_expired


@admin.action(description="Purge all history older than the retention period")
def purge_expired(modeladmin, request, queryset):
    count = history_purge_expired()
    days = settings.CHAT_HISTORY_RETENTION_DAYS
    modeladmin.message_user(
        request, f"Deleted {count} message(s) older than {days} days.", messages.SUCCESS
    )


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    """Chat history as questions, each beside its answer (and the /reset markers between)."""

    list_display = ("created_at", "user", "question_text", "answer_text", "state", "resource_type")
    list_filter = ("state", "resource_type", "created_at")
    search_fields = ("user__username", "content", "answers__content", "request_id")
    list_select_related = ("user",)
    date_hierarchy = "created_at"
    ordering = ("-created_at", "-id")
    actions = [purge_expired]
    fields = (
        "user",
        "created_at",
        "state",
        "error",
        "resource_type",
        "resource_id",
        "request_id",
        "question_html",
        "answer_html",
    )
    readonly_fields = fields

    class Media:
        css = {"all": ["codesuggest/admin.css"]}

    def get_queryset(self, request: HttpRequest) -> QuerySet[Message]:
        # An answer is shown with its question, not as a row of its own.
        return (
            super().get_queryset(request).exclude(role=Role.ASSISTANT).prefetch_related("answers")
        )

    @admin.display(description="question")
    def question_text(self, obj: Message) -> str:
        return Truncator(obj.content).chars(200)

    @admin.display(description="answer")
    def answer_text(self, obj: Message) -> str:
        answer = _answer_of(obj)
        return Truncator(answer.content).chars(200) if answer else "-"

    @admin.display(description="question")
    def question_html(self, obj: Message) -> SafeString:
        return _rendered(obj.content)

    @admin.display(description="answer")
    def answer_html(self, obj: Message) -> SafeString | str:
        answer = _answer_of(obj)
        return _rendered(answer.content) if answer else "-"

    # History is a record: admins read and delete it, they do not write it.
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


def _answer_of(question: Message) -> Message | None:
    answers = list(question.answers.all())  # prefetched; at most one (a constraint)
    return answers[0] if answers else None


def _rendered(markdown: str) -> SafeString:
    # Sanitised by markdown_to_html: safe to show as HTML.
    return mark_safe(f'<div class="chat-markdown">{markdown_to_html(markdown)}</div>')  # noqa: S308
