"""Seed usage events for trying out and measuring the analytics page (bench/analytics.py)."""

import math
import random
from datetime import UTC, datetime, timedelta

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from chat.models import Message, Role, State
from completions.analytics import usage_catch_up
from completions.models import SuggestionEvent, UsageEvent
from projects.models import Group, Project, User

BATCH = 5000
LANGUAGES = (
    *("python", "typescript", "javascript", "go", "java", "ruby", "rust", "kotlin"),
    *("c", "cpp", "csharp", "php", "scala", "swift", "shell", "sql"),
)
# The instance's completion model, switched halfway through the period, as admins do; the
# generation model; and the model behind the Vertex AI API, which some editors call.
COMPLETION_MODELS = (("openai", "codestral-22b"), ("openai", "qwen2.5-coder-7b"))
GENERATION_MODEL = ("anthropic", "claude-3-5-sonnet")
VERTEX_MODEL = ("vertex", "code-gecko@002")
# How editors reach the service, each always the same way: GitLab's endpoint, direct access to
# the gateway's, or the Vertex AI API.
ENDPOINTS = (("completions", 30), ("v2_completions", 65), ("vertex_predict", 5))
# (status, share): mostly answered, some refused by the rate limit, a few upstream failures.
STATUSES = ((200, 0.955), (429, 0.02), (503, 0.008), (504, 0.007), (403, 0.005), (400, 0.005))


class Command(BaseCommand):
    help = (
        "Add COUNT usage events (and editors' suggestion telemetry and chat questions in "
        "proportion) spread over seeded users, projects, languages, models and the last DAYS "
        "days, then roll them up. For trying the analytics page and measuring it at scale."
    )

    def add_arguments(self, parser):
        parser.add_argument("--count", type=int, default=1_000_000)
        parser.add_argument("--days", type=int, default=90)
        parser.add_argument("--users", type=int, default=250)
        parser.add_argument("--groups", type=int, default=10)
        parser.add_argument("--projects", type=int, default=60)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--no-roll-up", action="store_true")

    def handle(self, *args, count, days, users, groups, projects, seed, no_roll_up, **options):
        rng = random.Random(seed)
        people = _users(users)
        places = _projects(groups, projects)
        # Each person works mostly in one project and language, through one editor set-up,
        # some more than others.
        habits = {
            person.pk: (
                rng.sample(places, k=min(3, len(places))),
                rng.sample(LANGUAGES, k=3),
                rng.lognormvariate(0, 0.6),
                rng.choices([name for name, _ in ENDPOINTS], [share for _, share in ENDPOINTS])[0],
            )
            for person in people
        }
        now = timezone.now()
        start = now - timedelta(days=days)
        weights = [habits[person.pk][2] for person in people]
        made = 0
        while made < count:
            size = min(BATCH, count - made)
            chosen = rng.choices(people, weights=weights, k=size)
            events = [_event(rng, person, habits[person.pk], start, now) for person in chosen]
            with transaction.atomic():
                UsageEvent.objects.bulk_create(events, batch_size=BATCH)
                SuggestionEvent.objects.bulk_create(_telemetry(rng, events), batch_size=BATCH)
                _chat(rng, events)
            made += size
            if options["verbosity"] > 1:
                self.stderr.write(f"{made} usage events")
        if not no_roll_up:
            usage_catch_up()


def _users(count: int) -> list[User]:
    existing = {user.username: user for user in User.objects.filter(username__startswith="seed-")}
    new = [
        User(username=name, email=f"{name}@example.com")
        for name in (f"seed-{index:04d}" for index in range(count))
        if name not in existing
    ]
    for user in new:
        user.set_unusable_password()
    User.objects.bulk_create(new)
    return list(User.objects.filter(username__startswith="seed-").order_by("pk")[:count])


def _projects(groups: int, projects: int) -> list[Project]:
    made = []
    for index in range(projects):
        group, _ = Group.objects.get_or_create(
            path=f"seed-team-{index % groups:02d}",
            parent=None,
            defaults={"name": f"Seed team {index % groups:02d}"},
        )
        project, _ = Project.objects.get_or_create(
            group=group, path=f"service-{index:03d}", defaults={"name": f"Service {index:03d}"}
        )
        made.append(project)
    return made


def _moment(rng: random.Random, start: datetime, now: datetime) -> datetime:
    """A working hour of a day in the period, weekdays five times as busy as weekends."""
    while True:
        moment = start + timedelta(seconds=rng.uniform(0, (now - start).total_seconds()))
        if moment.weekday() < 5 or rng.random() < 0.2:
            break
    hour = min(23.99, max(0.0, rng.gauss(13, 3)))
    day = datetime(moment.year, moment.month, moment.day, tzinfo=UTC)
    return min(now, day + timedelta(hours=hour))


def _event(rng: random.Random, person: User, habits, start: datetime, now: datetime):
    places, languages, _, endpoint = habits
    created_at = _moment(rng, start, now)
    generation = endpoint != "vertex_predict" and rng.random() < 0.12
    streamed = generation and rng.random() < 0.7
    if endpoint == "vertex_predict":
        provider, model = VERTEX_MODEL
    elif generation:
        provider, model = GENERATION_MODEL
    else:
        provider, model = COMPLETION_MODELS[created_at >= start + (now - start) / 2]
    status = rng.choices(
        [status for status, _ in STATUSES], weights=[share for _, share in STATUSES]
    )[0]
    answered = status == 200
    upstream = round(rng.lognormvariate(math.log(650 if generation else 180), 0.5))
    overhead = round(rng.lognormvariate(math.log(12), 0.4))
    choices = rng.choice((0, 1, 1, 1, 1, 2)) if answered else 0
    return UsageEvent(
        created_at=created_at,
        user=person,
        project=rng.choices(places, weights=(80, 15, 5))[0],
        endpoint=endpoint,
        language=rng.choices(languages, weights=(70, 20, 10))[0],
        intent="generation" if generation else "completion",
        provider=provider,
        model=model,
        streamed=streamed,
        status=status,
        latency_ms=(upstream + overhead) if answered else rng.randint(1, 30),
        upstream_ms=upstream if answered else None,
        prompt_chars=rng.randint(200, 8000),
        suggestion_chars=sum(rng.randint(5, 400) for _ in range(choices)),
        choices=choices,
    )


def _telemetry(rng: random.Random, events: list[UsageEvent]) -> list[SuggestionEvent]:
    """What editors report of the answered suggestions: a third are shown; of those a third
    accepted, half rejected, the rest dismissed without a word."""
    telemetry = []
    for event in events:
        if not event.choices or rng.random() > 0.33:
            continue
        tracking_id = f"{rng.getrandbits(64):016x}"
        lines = max(1, event.suggestion_chars // 40)
        common = {
            "user": event.user,
            "unique_tracking_id": tracking_id,
            "language": event.language,
            "project_id": event.project.pk if event.project else None,
            "suggestion_size": lines,
        }
        shown_at = event.created_at + timedelta(milliseconds=event.latency_ms + 50)
        telemetry.append(
            SuggestionEvent(created_at=shown_at, event=SuggestionEvent.Kind.SHOWN, **common)
        )
        outcome = rng.random()
        if outcome < 0.85:
            kind = (
                SuggestionEvent.Kind.ACCEPTED if outcome < 0.33 else SuggestionEvent.Kind.REJECTED
            )
            telemetry.append(
                SuggestionEvent(created_at=shown_at + timedelta(seconds=2), event=kind, **common)
            )
    return telemetry


def _chat(rng: random.Random, events: list[UsageEvent]) -> None:
    """A chat question for one request in fifty; a few failed."""
    asked = [event for event in events if rng.random() < 0.02]
    questions = [
        Message(
            user=event.user,
            role=Role.USER,
            content="How do I …?",
            project_id=event.project.pk if event.project else None,
            state=State.FAILED if rng.random() < 0.03 else State.DONE,
        )
        for event in asked
    ]
    Message.objects.bulk_create(questions)
    # created_at is set on insert (auto_now_add); the question's time is the request's.
    for question, event in zip(questions, asked, strict=True):
        question.created_at = event.created_at
    Message.objects.bulk_update(questions, ["created_at"], batch_size=1000)
