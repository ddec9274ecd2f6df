"""python-gitlab's GraphQL client, a real client of GitLab's, against the service over HTTP."""

import gitlab
import pytest

from tests.conftest import make_token
from tests.graphql.conftest import GET_PROJECT, SUGGESTIONS_AVAILABLE

pytestmark = pytest.mark.django_db(transaction=True)


# python-gitlab passes variables the way gql 4 deprecates; nothing to do on our side.
@pytest.mark.filterwarnings("ignore:Using variable_values:DeprecationWarning")
def test_python_gitlabs_graphql_client_reads_the_current_user_and_a_project(live_server, world):
    token = make_token(world.bob)

    with gitlab.GraphQL(live_server.url, token=token) as client:
        user = client.execute(SUGGESTIONS_AVAILABLE)
        project = client.execute(
            GET_PROJECT, variable_values={"projectPath": "acme/platform/tools"}
        )

    assert user == {"currentUser": {"duoCodeSuggestionsAvailable": True}}
    assert project == {"project": {"duoFeaturesEnabled": True}}


def test_python_gitlabs_graphql_client_sees_a_bad_token_as_an_authentication_error(
    live_server, world
):
    client = gitlab.GraphQL(live_server.url, token="glpat-wrong")

    with client, pytest.raises(gitlab.GitlabAuthenticationError):
        client.execute(SUGGESTIONS_AVAILABLE)
