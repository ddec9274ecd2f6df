"""The rate limit and token revocation hold across server processes sharing Redis: two nodes."""

import json
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from projects.models import PersonalAccessToken, User, token_digest
from tests.completions.conftest import COMPLETIONS, completion_body
from tests.conftest import make_token
from tests.services import server_process

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def post(url: str, token: str) -> int:
    request = urllib.request.Request(
        url + COMPLETIONS,
        data=json.dumps(completion_body()).encode(),
        headers={"PRIVATE-TOKEN": token, "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


@pytest.fixture
def two_nodes(openai_server, own_redis):
    """Two gunicorn processes on one database and one Redis (of this test's own), each its own
    node."""
    env = {
        "REDIS_URL": own_redis.url,
        "COMPLETIONS_PROVIDER": "openai",
        "COMPLETIONS_BASE_URL": openai_server.url,
        "CODE_SUGGESTIONS_RATE_LIMIT": "60",
    }
    with server_process(env) as first, server_process(env) as second:
        yield first, second


def wait_for_a_fresh_window(seconds_needed: float = 20.0) -> None:
    # Windows are aligned to the clock's minutes; 70 requests must fall in one of them.
    left = 60 - time.time() % 60
    if left < seconds_needed:
        time.sleep(left + 0.1)


def test_exactly_60_of_70_requests_succeed_across_two_nodes(two_nodes, world):
    token = make_token(world.bob, scopes=("api",))
    wait_for_a_fresh_window()

    urls = [two_nodes[i % 2] for i in range(70)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(lambda url: post(url, token), urls))

    assert statuses.count(200) == 60
    assert statuses.count(429) == 10


def admin_session(node: str, username: str, password: str) -> requests.Session:
    session = requests.Session()
    session.get(f"{node}/admin/login/")
    response = session.post(
        f"{node}/admin/login/",
        data={
            "username": username,
            "password": password,
            "csrfmiddlewaretoken": session.cookies["csrftoken"],
            "next": "/admin/",
        },
    )
    assert response.url.endswith("/admin/"), "the admin login failed"
    return session


def test_a_token_revoked_through_one_node_is_rejected_by_the_other_at_once(two_nodes, world):
    first, second = two_nodes
    token = make_token(world.bob, scopes=("api",))
    assert post(second, token) == 200  # the second node has now cached the token
    User.objects.create_superuser("root", password="root-password-1")

    admin = admin_session(first, "root", "root-password-1")
    admin.post(
        f"{first}/admin/projects/personalaccesstoken/",
        data={
            "action": "revoke_tokens",
            "_selected_action": PersonalAccessToken.objects.get(digest=token_digest(token)).pk,
            "csrfmiddlewaretoken": admin.cookies["csrftoken"],
        },
    )

    assert post(second, token) == 401
