"""Celery tasks: each takes an id (or nothing), calls a service, and is safe to run twice."""

import logging
import time

from celery import Task, shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import InterfaceError, OperationalError, connection
from redis import RedisError

from chat.metrics import record_answer
from chat.services import (
    history_purge_expired,
    question_answer,
    question_fail,
    questions_sweep,
)
from codesuggest.providers import ProviderError

logger = logging.getLogger(__name__)

# The database or Redis went away for a moment (a restart, a terminated connection): the same
# run may well succeed a few seconds later.
INFRASTRUCTURE_ERRORS = (OperationalError, InterfaceError, RedisError)


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
    started = time.perf_counter()
    outcome = "failed"
    try:
        question_answer(question_id=question_id, attempt=retries + 1)
        outcome = "answered"
    except ProviderError as exc:
        if exc.transient and retries < settings.CHAT_TASK_MAX_RETRIES:
            logger.warning("Chat question %s: %s; retrying", question_id, exc)
            outcome = "retried"
            raise self.retry(countdown=2 ** (retries + 1)) from exc
        _give_up(question_id, str(exc))
    except SoftTimeLimitExceeded:
        _give_up(question_id, "The chat model did not answer in time")
    except INFRASTRUCTURE_ERRORS as exc:
        # A connection that failed must not be lent to the next attempt.
        connection.close()
        if retries < settings.CHAT_TASK_MAX_RETRIES:
            logger.warning(
                "Chat question %s: %s: %s; retrying", question_id, type(exc).__name__, exc
            )
            outcome = "retried"
            raise self.retry(countdown=2 ** (retries + 1)) from exc
        _give_up(question_id, "Chat could not reach its database or Redis")
    except Exception:
        logger.exception("Chat question %s failed", question_id)
        _give_up(question_id, "The chat model failed")
    finally:
        record_answer(outcome=outcome, seconds=time.perf_counter() - started)


def _give_up(question_id: int, error: str) -> None:
    """Record the failure, so that whoever waits hears of it rather than wait for the timeout.
    If even that fails, the sweep fails the question once its deadline has passed."""
    try:
        question_fail(question_id=question_id, error=error)
    except INFRASTRUCTURE_ERRORS as exc:
        connection.close()
        logger.error(
            "Chat question %s: its failure could not be recorded (%s); the sweep will",
            question_id,
            type(exc).__name__,
        )


@shared_task(soft_time_limit=600, time_limit=660)
def purge_chat_history() -> int:
    return history_purge_expired()


@shared_task(soft_time_limit=60, time_limit=90)
def sweep_pending_questions() -> tuple[int, int]:
    return questions_sweep()
