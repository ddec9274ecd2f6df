"""manage.py create_token: a personal access token, printed alone so that a script can keep it."""

from datetime import date

import pytest

from projects.models import PersonalAccessToken, User, token_digest
from tests.projects.commands import fails, manage, run


def test_create_token_prints_only_a_working_token(api, world):
    output = run("create_token", "charlie")
    plaintext = output.strip()
    assert output == plaintext + "\n"
    assert plaintext.split() == [plaintext]
    response = api.get("/api/v4/user", token=plaintext)
    assert response.json()["username"] == "charlie"
    token = PersonalAccessToken.objects.get(user=world.charlie)
    assert token.name == "cli"
    assert token.scopes == ["api", "ai_features"]
    assert token.expires_at is None


def test_create_token_takes_a_name_scopes_and_an_expiry(world):
    run("create_token", "bob", "--name", "ci", "--scopes", "read_api", "--expires-at", "2099-01-31")
    token = PersonalAccessToken.objects.get(user=world.bob)
    assert token.name == "ci"
    assert token.scopes == ["read_api"]
    assert token.expires_at == date(2099, 1, 31)


def test_create_token_refuses_an_unknown_scope(world):
    assert "sudo" in fails("create_token", "bob", "--scopes", "api,sudo")
    assert not PersonalAccessToken.objects.exists()


def test_create_token_refuses_a_bad_date(world):
    assert "YYYY-MM-DD" in fails("create_token", "bob", "--expires-at", "31/01/2099")


def test_create_token_refuses_an_unknown_user(world):
    assert "nobody" in fails("create_token", "nobody")


@pytest.mark.django_db(transaction=True)
def test_create_token_prints_only_the_token_as_a_process():
    User.objects.create_user("erin")
    result = manage("create_token", "erin")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert (
        PersonalAccessToken.objects.get(digest=token_digest(result.stdout.strip())).user.username
        == "erin"
    )
