"""Chat's metrics for /-/metrics: what only the database, or the Celery workers, know.

Answers are made by Celery workers, which no scrape reaches. Each attempt is therefore counted
where every web process can read it: in the chat relay's Redis (CHAT_REDIS_URL), one pipelined
round trip per attempt, next to the model call it times. Without that Redis (the embedded run)
tasks run in the web process itself, which keeps the counts in its memory.
"""

import math
import threading
from collections.abc import Iterable

import redis
from django.db import DatabaseError
from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.utils import floatToGoString

from chat import relay
from chat.models import Message, State
from codesuggest.metrics import SECONDS

ANSWERS_KEY = f"{relay.PREFIX}:metrics:answers"
OUTCOMES = ("answered", "retried", "failed")
_BOUNDS = (*SECONDS, math.inf)

_local: dict[str, float] = {}
_local_lock = threading.Lock()


def record_answer(*, outcome: str, seconds: float) -> None:
    """Count one attempt at answering a question, by how it ended, and its time."""
    fields = [f"{outcome}:{bound}" for bound in _BOUNDS if seconds <= bound]
    client = relay.shared_client()
    if client is None:
        with _local_lock:
            for name in fields:
                _local[name] = _local.get(name, 0) + 1
            _local[f"{outcome}:sum"] = _local.get(f"{outcome}:sum", 0.0) + seconds
        return
    pipeline = client.pipeline(transaction=False)
    for name in fields:
        pipeline.hincrby(ANSWERS_KEY, name, 1)
    pipeline.hincrbyfloat(ANSWERS_KEY, f"{outcome}:sum", seconds)
    try:
        pipeline.execute()
    except redis.RedisError as exc:
        relay.RELAY.failed(exc)  # a lost count must not fail the answer


def _answer_counts() -> dict[str, float]:
    client = relay.shared_client()
    if client is None:
        with _local_lock:
            return dict(_local)
    stored: dict[bytes, bytes] = client.hgetall(ANSWERS_KEY)  # type: ignore[assignment]
    return {key.decode(): float(value) for key, value in stored.items()}


class ChatAnswers:
    """`codesuggest_chat_answer_duration_seconds`, read from the counts above when scraped."""

    def collect(self) -> Iterable[HistogramMetricFamily]:
        if relay.RELAY.down:  # just failed: a scrape must not wait for its timeout again
            return []
        try:
            counts = _answer_counts()
        except redis.RedisError:
            return []
        family = HistogramMetricFamily(
            "codesuggest_chat_answer_duration_seconds",
            "Time of one attempt at answering a chat question, by how it ended",
            labels=["outcome"],
        )
        for outcome in OUTCOMES:
            buckets = [
                (floatToGoString(bound), counts.get(f"{outcome}:{bound}", 0)) for bound in _BOUNDS
            ]
            family.add_metric([outcome], buckets, counts.get(f"{outcome}:sum", 0.0))
        return [family]


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
