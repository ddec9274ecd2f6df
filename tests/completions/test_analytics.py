"""The admin's analytics page: who may see it, its numbers (tables and CSV), its filters, and
the roll-up and retention behind it."""

import csv
import io
from datetime import UTC, date, datetime, timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from chat.models import Message, Role, State
from completions.models import SuggestionEvent, UsageDay, UsageEvent, UsageRollup
from completions.tasks import purge_usage_events, roll_up_usage
from projects.models import User

PAGE = "/admin/analytics/"
DAY = date(2026, 3, 2)  # a Monday
PERIOD = {"since": "2026-03-01", "until": "2026-03-03"}


def at(day: date, hour: int = 12) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def usage(user, *, day=DAY, hour=12, project=None, **fields) -> UsageEvent:
    values = {
        "endpoint": "completions",
        "language": "python",
        "intent": "completion",
        "provider": "openai",
        "model": "gpt-4o-mini",
        "status": 200,
        "latency_ms": 90,
        "upstream_ms": 70,
        "suggestion_chars": 10,
        "choices": 1,
    }
    if fields.get("status", 200) >= 400:
        values.update(suggestion_chars=0, choices=0, upstream_ms=None)
    values.update(fields)
    return UsageEvent.objects.create(created_at=at(day, hour), user=user, project=project, **values)


def suggestion(user, kind, *, day=DAY, language="python", size=None, project_id=None):
    return SuggestionEvent.objects.create(
        created_at=at(day),
        user=user,
        event=kind,
        language=language,
        suggestion_size=size,
        project_id=project_id,
    )


@pytest.fixture
def staff(db) -> User:
    return User.objects.create_user("ada", email="ada@example.com", is_staff=True)


@pytest.fixture
def admin_client(client, staff):
    client.force_login(staff)
    return client


@pytest.fixture
def seeded(world):
    """Known events: bob (3 requests over two days, one refused) and alice (one, streamed,
    in the private project), and what their editors did with the suggestions."""
    usage(world.bob, latency_ms=90, upstream_ms=70)
    usage(world.bob, latency_ms=400, upstream_ms=300, suggestion_chars=30, language="go")
    usage(world.bob, status=429, latency_ms=1)
    usage(
        world.alice,
        day=DAY + timedelta(days=1),
        project=world.project,
        provider="anthropic",
        model="claude-3-5-haiku",
        streamed=True,
        latency_ms=700,
        upstream_ms=650,
        suggestion_chars=200,
    )
    usage(world.alice, day=DAY + timedelta(days=1), status=504, latency_ms=2000)
    usage(world.bob, day=DAY + timedelta(days=1), status=503, latency_ms=50)
    usage(world.bob, day=DAY + timedelta(days=1), status=403, latency_ms=5)
    Kind = SuggestionEvent.Kind
    for kind in (Kind.SHOWN, Kind.SHOWN, Kind.SHOWN, Kind.ACCEPTED, Kind.REJECTED):
        suggestion(world.bob, kind, size=4 if kind == Kind.ACCEPTED else None)
    suggestion(world.alice, Kind.SHOWN, language="go", project_id=world.project.pk)
    suggestion(world.alice, Kind.ACCEPTED, language="go", size=2, project_id=world.project.pk)
    question = Message.objects.create(user=world.bob, role=Role.USER, content="Why?")
    Message.objects.filter(pk=question.pk).update(created_at=at(DAY))
    failed = Message.objects.create(
        user=world.bob, role=Role.USER, content="How?", state=State.FAILED
    )
    Message.objects.filter(pk=failed.pk).update(created_at=at(DAY))
    roll_up_usage.delay()
    return world


def exported(client, table: str, **filters) -> list[list[str]]:
    response = client.get(PAGE, {**PERIOD, **filters, "export": table})
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    return list(csv.reader(io.StringIO(response.content.decode())))


# Who may see it -------------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_the_login_page(client, db):
    response = client.get(PAGE)

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_a_user_who_is_not_staff_is_refused(client, world):
    client.force_login(world.bob)

    for url in (PAGE, f"{PAGE}?export=top_users"):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/admin/login/")


def test_the_admin_index_links_to_the_page(admin_client):
    response = admin_client.get("/admin/")

    assert f'href="{PAGE}"' in response.content.decode()


# The numbers ----------------------------------------------------------------------------------


def test_the_page_shows_each_days_requests_and_active_users(admin_client, seeded):
    response = admin_client.get(PAGE, PERIOD)

    assert response.status_code == 200
    tables = {table.name: table for table in response.context["tables"]}
    assert tables["activity_by_day"].rows == [
        ("2026-03-01", 0, 0),
        ("2026-03-02", 3, 1),
        ("2026-03-03", 4, 2),
    ]
    assert "<td>2026-03-03</td><td>4</td><td>2</td>" in response.content.decode()


def test_the_csv_export_holds_the_same_numbers(admin_client, seeded):
    assert exported(admin_client, "activity_by_day") == [
        ["day", "requests", "active users"],
        ["2026-03-01", "0", "0"],
        ["2026-03-02", "3", "1"],
        ["2026-03-03", "4", "2"],
    ]
    response = admin_client.get(PAGE, {**PERIOD, "export": "top_users"})
    assert 'filename="top_users-2026-03-01-2026-03-03.csv"' in response["Content-Disposition"]


def test_active_users_are_counted_once_a_week(admin_client, seeded):
    assert exported(admin_client, "active_users_by_week") == [
        ["week", "active users", "requests"],
        ["2026-03-02", "2", "7"],
    ]


def test_top_users_projects_and_languages(admin_client, seeded):
    assert exported(admin_client, "top_users") == [
        ["user", "requests", "suggested characters"],
        ["bob", "5", "40"],
        ["alice", "2", "200"],
    ]
    assert exported(admin_client, "top_projects")[1:] == [
        ["(none)", "6", "40"],
        ["acme/platform/tools", "1", "200"],
    ]
    assert exported(admin_client, "top_languages")[1:] == [
        ["python", "6", "210"],
        ["go", "1", "30"],
    ]


def test_suggestions_shown_accepted_and_rejected_by_user_and_language(admin_client, seeded):
    assert exported(admin_client, "suggestions_by_user") == [
        ["user", "shown", "accepted", "rejected", "acceptance rate", "accepted lines"],
        ["bob", "3", "1", "1", "33.3%", "4"],
        ["alice", "1", "1", "0", "100.0%", "2"],
    ]
    assert exported(admin_client, "suggestions_by_language")[1:] == [
        ["python", "3", "1", "1", "33.3%", "4"],
        ["go", "1", "1", "0", "100.0%", "2"],
    ]
    assert exported(admin_client, "suggestions_by_day")[2] == [
        "2026-03-02",
        "4",
        "2",
        "1",
        "50.0%",
    ]


def test_what_each_model_returned(admin_client, seeded):
    assert exported(admin_client, "suggestions_by_model") == [
        ["model", "requests", "answered", "suggestions", "suggested characters"],
        ["openai/gpt-4o-mini", "6", "2", "2", "40"],
        ["anthropic/claude-3-5-haiku", "1", "1", "1", "200"],
    ]


def test_latency_percentiles_time_to_first_byte_and_overhead(admin_client, seeded):
    # Answered: 90 and 400 ms (not streamed), 700 ms to the first byte (streamed).
    assert exported(admin_client, "latency") == [
        [
            "answered requests",
            "latency p50",
            "latency p95",
            "stream first byte p50",
            "stream first byte p95",
            "mean upstream",
            "mean own overhead",
        ],
        ["3", "≤ 100 ms", "≤ 400 ms", "≤ 800 ms", "≤ 800 ms", "340 ms", "57 ms"],
    ]
    by_model = exported(admin_client, "latency_by_model")
    assert by_model[1] == [
        "openai/gpt-4o-mini",
        "2",
        "≤ 100 ms",
        "≤ 400 ms",
        "",
        "",
        "185 ms",
        "60 ms",
    ]


def test_errors_by_kind_per_day(admin_client, seeded):
    assert exported(admin_client, "errors_by_day") == [
        ["day", "rate-limited (429)", "other 4xx", "5xx", "upstream timeouts (504)"],
        ["2026-03-01", "0", "0", "0", "0"],
        ["2026-03-02", "1", "0", "0", "0"],
        ["2026-03-03", "0", "1", "1", "1"],
    ]


def test_chat_questions_answered_and_failed(admin_client, seeded):
    assert exported(admin_client, "chat_by_day")[2] == ["2026-03-02", "2", "1", "1"]


def test_an_unknown_table_is_not_found(admin_client, seeded):
    assert admin_client.get(PAGE, {"export": "passwords"}).status_code == 404


# Filters --------------------------------------------------------------------------------------


def test_the_user_filter(admin_client, seeded):
    assert exported(admin_client, "activity_by_day", user="alice")[1:] == [
        ["2026-03-01", "0", "0"],
        ["2026-03-02", "0", "0"],
        ["2026-03-03", "2", "1"],
    ]
    assert exported(admin_client, "suggestions_by_user", user="alice")[1:] == [
        ["alice", "1", "1", "0", "100.0%", "2"],
    ]


def test_an_unknown_user_is_a_form_error(admin_client, seeded):
    response = admin_client.get(PAGE, {**PERIOD, "user": "nobody"})

    assert "No user is called nobody." in response.content.decode()


def test_the_language_filter(admin_client, seeded):
    assert exported(admin_client, "top_users", language="go")[1:] == [["bob", "1", "30"]]
    assert exported(admin_client, "suggestions_by_language", language="go")[1:] == [
        ["go", "1", "1", "0", "100.0%", "2"],
    ]


def test_the_model_filter(admin_client, seeded):
    assert exported(admin_client, "top_users", model="anthropic/claude-3-5-haiku")[1:] == [
        ["alice", "1", "200"],
    ]


def test_the_group_and_project_filters(admin_client, seeded):
    group = seeded.group.pk  # the project is in its subgroup
    assert exported(admin_client, "top_users", group=group)[1:] == [["alice", "1", "200"]]
    assert exported(admin_client, "suggestions_by_user", project=seeded.project.pk)[1:] == [
        ["alice", "1", "1", "0", "100.0%", "2"],
    ]
    other = seeded.public_project.pk
    assert exported(admin_client, "top_users", project=other)[1:] == []


def test_the_date_range(admin_client, seeded):
    rows = exported(admin_client, "activity_by_day", since="2026-03-03", until="2026-03-03")

    assert rows[1:] == [["2026-03-03", "4", "2"]]


def test_a_range_that_ends_before_it_starts_is_refused(admin_client, seeded):
    response = admin_client.get(PAGE, {"since": "2026-03-03", "until": "2026-03-01"})

    assert "The first day comes after the last." in response.content.decode()


# Roll-up and retention ------------------------------------------------------------------------


def test_todays_events_show_without_celery_beat(admin_client, world):
    UsageEvent.objects.create(
        created_at=timezone.now(), user=world.bob, endpoint="completions", status=200, latency_ms=1
    )

    rows = exported(admin_client, "top_users", **{"since": "", "until": ""})

    assert rows[1:] == [["bob", "1", "0"]]


def test_each_roll_up_recomputes_the_days_since_its_last_run_and_no_earlier(world):
    usage(world.bob, day=DAY - timedelta(days=1))
    usage(world.bob, day=DAY, hour=10)
    roll_up_usage.delay()
    # As if beat's last run had been at 23:30: the next one looks back from 22:30, so DAY's
    # events (one written late) are counted again and the day before is left as it was.
    UsageRollup.objects.update(rolled_up_at=at(DAY, 23) + timedelta(minutes=30))
    UsageDay.objects.filter(day=DAY - timedelta(days=1)).update(requests=100)
    usage(world.bob, day=DAY, hour=23)
    usage(world.bob, day=DAY + timedelta(days=1), hour=1)

    roll_up_usage.delay()
    roll_up_usage.delay()  # twice: the same numbers

    counts = dict(UsageDay.objects.values_list("day", "requests"))
    assert counts == {DAY - timedelta(days=1): 100, DAY: 2, DAY + timedelta(days=1): 1}


def test_a_roll_up_catching_up_on_many_days_takes_them_a_fortnight_at_a_time(world):
    for offset in range(40):
        usage(world.bob, day=DAY + timedelta(days=offset))

    roll_up_usage.delay()
    assert UsageDay.objects.count() == 14
    roll_up_usage.delay()
    roll_up_usage.delay()

    assert UsageDay.objects.count() == 40
    assert set(UsageDay.objects.values_list("requests", flat=True)) == {1}


def test_the_purge_deletes_raw_events_older_than_the_retention_and_keeps_the_roll_up(
    world, settings
):
    settings.USAGE_RETENTION_DAYS = 30
    now = timezone.now()
    old = UsageEvent.objects.create(
        created_at=now - timedelta(days=31),
        user=world.bob,
        endpoint="completions",
        status=200,
        latency_ms=1,
    )
    recent = UsageEvent.objects.create(
        created_at=now - timedelta(days=29),
        user=world.bob,
        endpoint="completions",
        status=200,
        latency_ms=1,
    )
    old_suggestion = suggestion(world.bob, SuggestionEvent.Kind.SHOWN)
    SuggestionEvent.objects.filter(pk=old_suggestion.pk).update(created_at=now - timedelta(days=31))
    roll_up_usage.delay()

    assert purge_usage_events.delay().get() == 2

    assert list(UsageEvent.objects.all()) == [recent]
    assert not SuggestionEvent.objects.exists()
    assert UsageDay.objects.filter(day=old.created_at.date()).exists()


def test_a_retention_of_zero_keeps_every_event(world, settings):
    settings.USAGE_RETENTION_DAYS = 0
    usage(world.bob, day=date(2020, 1, 1))

    purge_usage_events.delay()

    assert UsageEvent.objects.count() == 1


def test_celery_beat_rolls_up_and_purges_periodically():
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}

    assert {"completions.tasks.roll_up_usage", "completions.tasks.purge_usage_events"} <= tasks


def test_the_page_carries_no_inline_script(admin_client, seeded):
    page = admin_client.get(PAGE, PERIOD).content.decode()

    assert '<script id="analytics-charts" type="application/json">' in page
    for tag in page.split("<script")[1:]:
        assert " src=" in tag.split(">")[0] or 'type="application/json"' in tag.split(">")[0]
