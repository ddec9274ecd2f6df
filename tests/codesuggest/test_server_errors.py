"""When the service itself fails (docs/api.md#errors): a database it cannot reach is a 503 that
says so and when to try again, logged once as an outage, in REST's shape or GraphQL's; an
exception nobody expected is a 500 whose traceback reaches the log, never the client."""

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.db import connection

from codesuggest.api import errors
from tests.conftest import make_token

UNREACHABLE = {"message": "503 Service Unavailable - the database cannot be reached"}


@contextmanager
def database_gone() -> Iterator[None]:
    """The database cannot be opened, as after it went away: the next query opens a new
    connection, to a database that is not there."""
    name = connection.settings_dict["NAME"]
    connection.close()
    connection.settings_dict["NAME"] = (
        "/nonexistent/codesuggest.sqlite3" if connection.vendor == "sqlite" else f"{name}_gone"
    )
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict["NAME"] = name


# PostgreSQL's connections come from a pool that stays connected (tests/faults restart the server).
sqlite_only = pytest.mark.skipif(
    connection.vendor != "sqlite", reason="a pooled connection does not open the database again"
)


@sqlite_only
@pytest.mark.django_db(transaction=True)
def test_a_database_that_cannot_be_reached_is_a_503_that_says_so(api, world, caplog):
    token = make_token(world.bob)

    with caplog.at_level(logging.ERROR), database_gone():
        response = api.get("/api/v4/user", token=token)

    assert response.status_code == 503
    assert response.json() == UNREACHABLE
    assert response["Retry-After"] == "5"
    outage = [r.getMessage() for r in caplog.records if "is unavailable" in r.getMessage()]
    assert outage[0].startswith("The database is unavailable: OperationalError: ")


@sqlite_only
@pytest.mark.django_db(transaction=True)
def test_graphql_tells_a_database_it_cannot_reach_as_the_rest_api_does(api, world):
    query = '{ project(fullPath: "acme/website") { name } }'

    with database_gone():
        response = api.post("/api/graphql", {"query": query})  # anonymous: no query before

    assert response.status_code == 200
    assert response.json() == {
        "errors": [
            {
                "message": UNREACHABLE["message"],
                "locations": [{"line": 1, "column": 3}],
                "path": ["project"],
            }
        ],
        "data": {"project": None},
    }


def test_an_unexpected_exception_is_a_500_whose_traceback_is_logged(caplog):
    bug = RuntimeError("password=hunter2")

    with caplog.at_level(logging.ERROR):
        error = errors.as_api_error(bug)

    assert (error.status, error.body) == (500, {"message": "500 Internal Server Error"})
    [logged] = [r for r in caplog.records if r.exc_info and r.exc_info[1] is bug]
    assert logged.getMessage() == "Unhandled error while answering an API request"
