"""Celery tasks: each takes an id (or nothing), calls a service, and is safe to run twice."""

from celery import shared_task
from django.conf import settings
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from projects.indexing import (
    forget_code,
    forget_excluded_code,
    index_git_source,
    projects_with_git_sources,
)
from projects.models import Group, Project


# acks_late + reject_on_worker_lost: a worker lost mid-run leaves the message to another, whose
# run finds the files done so far indexed already. A copy that starts while one runs (a long
# run outlasts the broker's visibility timeout, and Redis hands the message out again) skips.
@shared_task(
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=settings.INDEX_TASK_SOFT_TIME_LIMIT,
    time_limit=settings.INDEX_TASK_TIME_LIMIT,
)
def index_project(project_id: int) -> None:
    index_git_source(project_id=project_id)


@shared_task(soft_time_limit=60, time_limit=90)
def refresh_git_indexes() -> int:
    """Every project with a Git source, each indexed by a task of its own."""
    project_ids = projects_with_git_sources()
    for project_id in project_ids:
        index_project.delay(project_id)
    return len(project_ids)


# It waits for a run of the project to end, which takes no longer than the run's time limit.
@shared_task(
    acks_late=True,
    soft_time_limit=settings.INDEX_TASK_TIME_LIMIT + settings.INDEX_TASK_SOFT_TIME_LIMIT,
    time_limit=settings.INDEX_TASK_TIME_LIMIT * 2,
)
def forget_project_code(index_key: str) -> None:
    """The project is gone: its key is all there is to take."""
    forget_code(index_key=index_key)


@receiver(post_delete, sender=Project)
def forget_the_code_of_a_deleted_project(sender: type, instance: Project, **kwargs: object) -> None:
    forget_project_code.delay_on_commit(instance.index_key)


# Like an index run, it may wait for one to end.
@shared_task(
    acks_late=True,
    soft_time_limit=settings.INDEX_TASK_TIME_LIMIT + settings.INDEX_TASK_SOFT_TIME_LIMIT,
    time_limit=settings.INDEX_TASK_TIME_LIMIT * 2,
)
def forget_excluded_project_code(project_ids: list[int]) -> None:
    for project in Project.objects.select_related("group").filter(pk__in=project_ids):
        forget_excluded_code(project=project)


@receiver(post_save, sender=Project)
def forget_what_a_project_excludes(sender: type, instance: Project, **kwargs: object) -> None:
    if instance.context_exclusions.strip():
        forget_excluded_project_code.delay_on_commit([instance.pk])


@receiver(post_save, sender=Group)
def forget_what_a_group_excludes(sender: type, instance: Group, **kwargs: object) -> None:
    if instance.context_exclusions.strip():
        below = Project.objects.filter(full_path__istartswith=f"{instance.full_path}/")
        forget_excluded_project_code.delay_on_commit(list(below.values_list("pk", flat=True)))
