"""Chat's gauges for /-/metrics that only the database knows, read when scraped."""

from collections.abc import Iterable

from django.db import DatabaseError
from prometheus_client.core import GaugeMetricFamily

from chat.models import Message, State


class PendingQuestions:
    """Questions asked and not yet answered or failed: the work waiting for the Celery workers,
    whichever broker carries it. One indexed count (the sweep's partial index) per scrape."""

    def collect(self) -> Iterable[GaugeMetricFamily]:
        try:
            pending = Message.objects.filter(state=State.PENDING).count()
        except DatabaseError:
            return []  # the readiness check and the outage log say so; the rest still scrapes
        return [
            GaugeMetricFamily(
                "codesuggest_chat_questions_pending",
                "Chat questions waiting for an answer",
                value=pending,
            )
        ]
