from django.apps import AppConfig


class ChatConfig(AppConfig):
    name = "chat"

    def ready(self) -> None:
        from chat.metrics import ChatAnswers, PendingQuestions
        from codesuggest import metrics

        metrics.collect_at_scrape(PendingQuestions())
        metrics.collect_at_scrape(ChatAnswers())
