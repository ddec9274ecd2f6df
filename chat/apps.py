from django.apps import AppConfig


class ChatConfig(AppConfig):
    name = "chat"

    def ready(self) -> None:
        from chat.metrics import PendingQuestions
        from codesuggest import metrics

        metrics.collect_at_scrape(PendingQuestions())
