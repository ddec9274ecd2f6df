from django.conf import settings
from django.contrib import admin, messages

from chat.models import Message
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
    list_display = ("created_at", "user", "role", "short_content", "state", "resource_type")
    list_filter = ("role", "state", "resource_type", "created_at")
    search_fields = ("user__username", "content", "request_id")
    list_select_related = ("user",)
    date_hierarchy = "created_at"
    actions = [purge_expired]

    @admin.display(description="content")
    def short_content(self, obj: Message) -> str:
        return obj.content[:80]

    # History is a record: admins read and delete it, they do not write it.
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
