"""The admin's analytics page at scale, by hand (not in CI):

    .venv/bin/python bench/analytics.py [--count 1000000] [--reuse]

It needs PostgreSQL at its usual local port (or BENCH_DATABASE_URL). It creates the database
`codesuggest_analytics_bench` (dropped first; `--reuse` keeps one seeded before), migrates it,
seeds COUNT usage events with `manage.py seed_usage_events` (90 days, 250 users, 60 projects;
the editors' telemetry and chat questions in proportion) and rolls them up. Then it times, in
this process, through Django's test client as a staff user:

  - baselines measured in the same run: a trivial query, counting the raw events, and the
    raw-event query the roll-up replaces (30 days of requests and active users per day);
  - the whole page (every table, charts' data, filter choices) for each filter, and a CSV;
  - the roll-up beat runs every ANALYTICS_ROLLUP_SECONDS (today and the hour before).

Each time is the median of --repeat runs after one warm-up.
"""

import argparse
import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
DATABASE_URL = os.environ.get(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/codesuggest_analytics_bench"
)


def fresh_database() -> None:
    import psycopg

    url = urlsplit(DATABASE_URL)
    name = url.path.lstrip("/")
    with psycopg.connect(url._replace(path="/postgres").geturl(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def timed(run, repeat: int) -> float:
    """Median seconds of `repeat` runs, after one warm-up run."""
    run()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--reuse", action="store_true", help="keep the seeded database")
    args = parser.parse_args()

    os.environ.update(
        DATABASE_URL=DATABASE_URL,
        CODESUGGEST_EMBEDDED="true",
        DJANGO_SETTINGS_MODULE="codesuggest.settings",
        LOG_LEVEL="WARNING",
    )
    os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-secret-key-long-enough-for-hs256")
    sys.path.insert(0, str(ROOT))
    if not args.reuse:
        fresh_database()

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.db.models import Count
    from django.db.models.functions import TruncDate
    from django.test import Client
    from django.utils import timezone

    from completions.analytics import usage_catch_up, usage_roll_up
    from completions.models import (
        UsageDay,
        UsageDayByUser,
        UsageDayTotal,
        UsageEvent,
        UsageRollup,
    )
    from projects.models import Group, Project, User

    call_command("migrate", "--no-input", verbosity=0)
    if not args.reuse:
        started = time.perf_counter()
        call_command("seed_usage_events", count=args.count, no_roll_up=True)
        print(f"seeded {args.count:,} usage events in {time.perf_counter() - started:.0f} s")
    # Seeded without its roll-up (above, so that the first roll-up is timed on its own).
    if not UsageRollup.objects.filter(rolled_up_at__isnull=False).exists():
        started = time.perf_counter()
        usage_catch_up()
        print(f"first roll-up of every event: {time.perf_counter() - started:.1f} s")
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    events = UsageEvent.objects.count()
    print(
        f"{events:,} usage events; daily roll-up rows: {UsageDay.objects.count():,} by user, "
        f"project, language and model, {UsageDayByUser.objects.count():,} by user and project, "
        f"{UsageDayTotal.objects.count():,} by language and model"
    )

    staff, _ = User.objects.get_or_create(username="bench-admin", defaults={"is_staff": True})
    client = Client(HTTP_HOST="localhost")
    client.force_login(staff)
    user = User.objects.filter(username__startswith="seed-").order_by("pk").first()
    project = Project.objects.filter(path__startswith="service-").order_by("pk").first()
    group = Group.objects.filter(path__startswith="seed-team-").order_by("pk").first()
    if not (user and project and group):
        sys.exit("No seeded data: run without --reuse")
    today = timezone.now().date()
    quarter = {"since": (today - timedelta(days=89)).isoformat()}

    def page(**query):
        def run() -> None:
            response = client.get("/admin/analytics/", query)
            assert response.status_code == 200, response.status_code

        return run

    def sql(statement: str):
        def run() -> None:
            with connection.cursor() as cursor:
                cursor.execute(statement)
                cursor.fetchall()

        return run

    def raw_activity() -> None:
        since = timezone.now() - timedelta(days=30)
        list(
            UsageEvent.objects.filter(created_at__gte=since)
            .annotate(day=TruncDate("created_at"))
            .values("day")
            .annotate(requests=Count("id"), users=Count("user", distinct=True))
            .order_by()
        )

    def incremental_roll_up() -> None:
        # As beat leaves it: the last run ANALYTICS_ROLLUP_SECONDS ago.
        UsageRollup.objects.update(rolled_up_at=timezone.now() - timedelta(minutes=5))
        usage_roll_up()

    cases = [
        ("baseline: SELECT 1", sql("SELECT 1")),
        (
            "baseline: count the raw usage events",
            sql("SELECT count(*) FROM completions_usageevent"),
        ),
        ("baseline: raw query, 30 days of requests and active users per day", raw_activity),
        ("page: default (last 30 days)", page()),
        ("page: last 90 days", page(**quarter)),
        ("page: 90 days, one user", page(**quarter, user=user.username)),
        ("page: 90 days, one group", page(**quarter, group=group.pk)),
        ("page: 90 days, one project", page(**quarter, project=project.pk)),
        ("page: 90 days, language python", page(**quarter, language="python")),
        ("page: 90 days, one model", page(**quarter, model="openai/codestral-22b")),
        (
            "page: 90 days, group + language + model",
            page(**quarter, group=group.pk, language="python", model="openai/codestral-22b"),
        ),
        ("CSV: top users, 90 days", page(**quarter, export="top_users")),
        ("roll-up as beat runs it (today and the hour before)", incremental_roll_up),
    ]
    width = max(len(name) for name, _ in cases)
    for name, run in cases:
        print(f"{name:<{width}}  {timed(run, args.repeat) * 1000:8.1f} ms")


if __name__ == "__main__":
    main()
