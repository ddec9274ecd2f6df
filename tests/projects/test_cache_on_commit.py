"""The cached copies of tokens, users and code-suggestions decisions (projects/caching.py) are
dropped when a change commits, not only when it is saved: a request served while the admin's
transaction is still open reads the rows as they were and caches them, and that copy must not
outlive the commit (for a token, up to a minute; for a decision, ten)."""

import threading
from collections.abc import Callable

import pytest
from django.db import connection, transaction

from projects.models import PersonalAccessToken, token_digest
from tests.completions.conftest import COMPLETIONS, completion_body, upstream  # noqa: F401
from tests.conftest import Api, make_token
from tests.fake_servers import openai_server  # noqa: F401  (upstream's model server)

pytestmark = [
    pytest.mark.django_db(transaction=True),
    # SQLite's shared in-memory test database locks a table being written against other
    # connections' reads, so no request can be served beside the open transaction there.
    pytest.mark.skipif(connection.vendor == "sqlite", reason="needs concurrent readers"),
]


def token_in_use(user) -> str:
    """A token used this minute, so that the next requests do not write its last use: the open
    transaction below holds a lock on its row, or on its user's."""
    token = make_token(user)
    Api().get("/api/v4/user", token=token)
    return token


def in_another_request(call: Callable[[], int]) -> int:
    """`call()` in a thread of its own, so on a database connection of its own."""
    statuses: list[int] = []
    thread = threading.Thread(target=lambda: statuses.append(call()))
    thread.start()
    thread.join(timeout=30)
    return statuses[0]


def test_a_token_revoked_in_a_transaction_stops_working_at_its_commit(api, world):
    token = token_in_use(world.bob)
    revoked = PersonalAccessToken.objects.get(digest=token_digest(token))

    with transaction.atomic():
        revoked.revoked = True
        revoked.save()
        # Not committed yet: another request still finds the token valid, and caches it.
        assert in_another_request(lambda: api.get("/api/v4/user", token=token).status_code) == 200

    assert api.get("/api/v4/user", token=token).status_code == 401


def test_a_user_blocked_in_a_transaction_is_refused_at_its_commit(api, world):
    token = token_in_use(world.bob)

    with transaction.atomic():
        world.bob.is_active = False
        world.bob.save()
        assert in_another_request(lambda: api.get("/api/v4/user", token=token).status_code) == 200

    assert api.get("/api/v4/user", token=token).status_code == 403


@pytest.mark.usefixtures("upstream")
def test_code_suggestions_switched_off_in_a_transaction_apply_at_its_commit(api, world):
    token = token_in_use(world.bob)
    body = completion_body(project_path=world.project.full_path)

    with transaction.atomic():
        for namespace in (world.project, world.subgroup, world.group):
            namespace.code_suggestions = False
            namespace.save()
        assert in_another_request(lambda: api.post(COMPLETIONS, body, token=token).status_code) == (
            200
        )

    assert api.post(COMPLETIONS, body, token=token).status_code == 403
