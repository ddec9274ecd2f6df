from django.core.management.base import BaseCommand

from chat.tasks import purge_chat_history


class Command(BaseCommand):
    help = (
        "Delete chat history older than CHAT_HISTORY_RETENTION_DAYS (for cron, where Celery "
        "beat does not run); prints the number of messages deleted."
    )

    def handle(self, *args, **options):
        # Run in this process, whatever the broker: the command is its own scheduler.
        self.stdout.write(str(purge_chat_history.apply().get()))
