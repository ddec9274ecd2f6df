"""GitLab's timestamps, as the REST API writes them: ISO 8601 in UTC with milliseconds, cut (not
rounded) from the microseconds, whatever time zone the server runs in."""

from datetime import UTC, datetime

import pytest

from projects.models import PersonalAccessToken, User
from tests.conftest import make_token

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _server_far_from_utc(settings):
    # Django sets the process's time zone from this setting: local time is now UTC+05:30.
    settings.TIME_ZONE = "Asia/Kolkata"


@pytest.mark.parametrize(
    ("microsecond", "written"),
    [(0, "03:04:05.000Z"), (500_000, "03:04:05.500Z"), (999_999, "03:04:05.999Z")],
)
def test_a_users_creation_time_is_utc_with_milliseconds(api, world, microsecond, written):
    joined = datetime(2024, 1, 2, 3, 4, 5, microsecond, tzinfo=UTC)
    User.objects.filter(pk=world.bob.pk).update(date_joined=joined)

    response = api.get("/api/v4/user", token=make_token(world.bob))

    assert response.json()["created_at"] == f"2024-01-02T{written}"


def test_a_tokens_creation_time_is_utc_with_milliseconds(api, world):
    token = make_token(world.bob)
    created = datetime(2023, 12, 31, 23, 59, 59, 250_000, tzinfo=UTC)
    PersonalAccessToken.objects.filter(user=world.bob).update(created_at=created)

    response = api.get("/api/v4/personal_access_tokens/self", token=token)

    assert response.json()["created_at"] == "2023-12-31T23:59:59.250Z"
