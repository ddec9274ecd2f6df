"""manage.py seed_usage_events: realistic usage at scale, for the analytics page's benchmark."""

from django.core.management import call_command

from completions.models import SuggestionEvent, UsageDay, UsageEvent
from projects.models import Project, User


def test_it_seeds_the_events_asked_for_spread_over_users_projects_and_days(db):
    call_command("seed_usage_events", count=3000, days=30, users=20, projects=6, groups=2)

    assert UsageEvent.objects.count() == 3000
    assert User.objects.filter(username__startswith="seed-").count() == 20
    assert Project.objects.count() == 6
    assert UsageEvent.objects.values("user").distinct().count() == 20
    assert UsageEvent.objects.values("language").distinct().count() > 5
    assert UsageEvent.objects.dates("created_at", "day").count() > 20
    assert SuggestionEvent.objects.exists()
    # Rolled up, ready for the page.
    assert sum(UsageDay.objects.values_list("requests", flat=True)) == 3000


def test_seeding_twice_adds_to_the_same_users_and_projects(db):
    for _ in range(2):
        call_command("seed_usage_events", count=100, users=5, projects=3, groups=1)

    assert UsageEvent.objects.count() == 200
    assert User.objects.count() == 5
    assert Project.objects.count() == 3
