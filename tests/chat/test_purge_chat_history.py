"""manage.py purge_chat_history, the Celery beat task behind it, and the admin's history pages."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from chat.models import Message, Role
from codesuggest.celery import app as celery_app

pytestmark = pytest.mark.django_db


def message(user, content: str, days_old: int) -> Message:
    stored = Message.objects.create(user=user, role=Role.USER, content=content)
    Message.objects.filter(pk=stored.pk).update(
        created_at=timezone.now() - timedelta(days=days_old)
    )
    return stored


def purge() -> str:
    out = StringIO()
    call_command("purge_chat_history", stdout=out)
    return out.getvalue().strip()


def test_it_deletes_history_older_than_the_retention_period(world, settings):
    settings.CHAT_HISTORY_RETENTION_DAYS = 30
    message(world.alice, "old", 31)
    message(world.bob, "recent", 29)

    assert purge() == "1"

    assert list(Message.objects.values_list("content", flat=True)) == ["recent"]


def test_it_keeps_everything_when_retention_is_zero(world, settings):
    settings.CHAT_HISTORY_RETENTION_DAYS = 0
    message(world.alice, "ancient", 3650)

    assert purge() == "0"

    assert Message.objects.count() == 1


def test_celery_beat_runs_the_purge_periodically():
    entry = celery_app.conf.beat_schedule["purge-chat-history"]

    assert entry["task"] == "chat.tasks.purge_chat_history"
    assert entry["task"] in celery_app.tasks


def test_an_admin_browses_and_purges_history_in_the_admin(world, settings, client):
    settings.CHAT_HISTORY_RETENTION_DAYS = 30
    world.alice.is_staff = world.alice.is_superuser = True
    world.alice.save()
    client.force_login(world.alice)
    old = message(world.bob, "an old question", 40)
    message(world.bob, "a new question", 1)

    page = client.get("/admin/chat/message/")
    assert page.status_code == 200
    assert b"an old question" in page.content
    assert client.get(f"/admin/chat/message/{old.pk}/change/").status_code == 200

    response = client.post(
        "/admin/chat/message/",
        {"action": "purge_expired", "_selected_action": [old.pk]},
        follow=True,
    )

    assert b"Deleted 1 message(s) older than 30 days." in response.content
    assert list(Message.objects.values_list("content", flat=True)) == ["a new question"]
