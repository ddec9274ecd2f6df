"""Celery tasks: each takes an id (or nothing), calls a service, and is safe to run twice."""

import logging

from celery import Task, shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings

from chat.services import history_purge_expired, question_answer, question_fail
from codesuggest.providers import ProviderError

logger = logging.getLogger(__name__)


# acks_late + reject_on_worker_lost: a worker killed mid-answer leaves the message to another
# worker; question_answer makes the second run a no-op if the first one finished.
@shared_task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=settings.CHAT_TASK_MAX_RETRIES,
    soft_time_limit=settings.CHAT_TASK_SOFT_TIME_LIMIT,
    time_limit=settings.CHAT_TASK_TIME_LIMIT,
)
def answer_question(self: Task, question_id: int) -> None:
    retries = self.request.retries
    try:
        question_answer(question_id=question_id, attempt=retries + 1)
    except ProviderError as exc:
        if exc.transient and retries < settings.CHAT_TASK_MAX_RETRIES:
            logger.warning("Chat question %s: %s; retrying", question_id, exc)
            raise self.retry(countdown=2 ** (retries + 1)) from exc
        question_fail(question_id=question_id, error=str(exc))
    except SoftTimeLimitExceeded:
        question_fail(question_id=question_id, error="The chat model did not answer in time")
    except Exception:
        # Whoever waits must hear that it failed rather than wait for the timeout.
        logger.exception("Chat question %s failed", question_id)
        question_fail(question_id=question_id, error="The chat model failed")


@shared_task(soft_time_limit=600, time_limit=660)
def purge_chat_history() -> int:
    return history_purge_expired()
