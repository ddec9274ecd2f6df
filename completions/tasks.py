"""Celery beat's usage-analytics work: each task calls one service and is safe to run twice."""

from celery import shared_task

from completions.analytics import usage_purge_expired, usage_roll_up


@shared_task(soft_time_limit=600, time_limit=660)
def roll_up_usage() -> int:
    return usage_roll_up()


@shared_task(soft_time_limit=600, time_limit=660)
def purge_usage_events() -> int:
    return usage_purge_expired()
