"""What a completion naming a project asks Redis, under a production-style server: whether code
suggestions are on for the project and which files it excludes, read in one round trip once they
are remembered, and remembered no longer than the rules behind them stay unchanged."""

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import redis
import requests

from projects.models import Group, Membership
from tests.completions.conftest import COMPLETIONS, completion_body
from tests.completions.test_context_exclusion import PROJECT, SECRET
from tests.conftest import make_token
from tests.services import RedisServer, server_process

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

SECRET_FILE = {"type": "file", "name": "secrets/keys.py", "content": SECRET}


@pytest.fixture
def server(own_redis, openai_server, settings) -> Iterator[str]:
    # This process's admin changes must reach the server's cache, as they do in production.
    settings.CACHES = {
        "default": {
            "BACKEND": "codesuggest.cache.PooledRedisCache",
            "LOCATION": own_redis.url,
            "KEY_PREFIX": "codesuggest",
        }
    }
    environment = {
        "REDIS_URL": own_redis.url,
        "COMPLETIONS_PROVIDER": "openai",
        "COMPLETIONS_BASE_URL": openai_server.url,
        "LOG_LEVEL": "WARNING",
    }
    with server_process(environment, production=True) as url:
        yield url


def complete(url: str, token: str, project_path: str = PROJECT) -> requests.Response:
    body = completion_body(project_path=project_path, context=[SECRET_FILE])
    return requests.post(url + COMPLETIONS, json=body, headers={"PRIVATE-TOKEN": token}, timeout=10)


@contextmanager
def commands_run_by(server: RedisServer) -> Iterator[list[str]]:
    """The commands `server` runs while the block runs, as MONITOR reports them."""
    client = redis.Redis.from_url(server.url, socket_timeout=10)
    commands: list[str] = []
    end = f"end-of-block-{uuid.uuid4().hex}"
    with client.monitor() as monitor:
        yield commands
        client.echo(end)  # from another connection than the monitor's
        while end not in (command := monitor.next_command()["command"]):
            commands.append(command)


def reading_namespace_decisions(commands: list[str]) -> list[str]:
    return [
        command.split()[0]
        for command in commands
        if "namespaces-generation" in command or ":ns:" in command
    ]


def test_it_reads_the_gate_and_the_exclusions_in_one_round_trip(
    server, own_redis, openai_server, world
):
    world.project.context_exclusions = "secrets/"
    world.project.save()
    token = make_token(world.bob)
    assert complete(server, token).status_code == 200  # remembers both

    with commands_run_by(own_redis) as commands:
        response = complete(server, token)

    assert response.status_code == 200
    assert SECRET not in openai_server.last.json["prompt"]
    assert reading_namespace_decisions(commands) == ["MGET"]


def test_a_rule_an_admin_adds_applies_to_the_next_completion(server, openai_server, world):
    token = make_token(world.bob)
    complete(server, token)
    assert SECRET in openai_server.last.json["prompt"]

    world.subgroup.context_exclusions = "keys.py"
    world.subgroup.save()
    complete(server, token)

    assert SECRET not in openai_server.last.json["prompt"]


def test_a_group_moved_below_one_with_rules_takes_them_to_the_next_completion(
    server, openai_server, world
):
    vault = Group.objects.create(name="Vault", path="vault", context_exclusions="secrets/")
    Membership.objects.create(user=world.bob, group=vault)
    token = make_token(world.bob)
    complete(server, token)  # remembers that the project excludes nothing
    assert SECRET in openai_server.last.json["prompt"]

    world.subgroup.parent = vault
    world.subgroup.save()
    complete(server, token, project_path="vault/platform/tools")

    assert SECRET not in openai_server.last.json["prompt"]


def test_a_group_locking_code_suggestions_off_applies_to_the_next_completion(server, world):
    token = make_token(world.bob)
    assert complete(server, token).status_code == 200

    world.group.code_suggestions = False
    world.group.lock_code_suggestions = True
    world.group.save()

    assert complete(server, token).status_code == 403
