"""The GraphQL schema: each app's part, composed here, the one place that knows them all (as
urls.py does for routes). Served by codesuggest/api/graphql.py at /api/graphql."""

import strawberry
from strawberry.tools import merge_types

from chat import graphql as chat
from codesuggest.api.graphql import Info, Schema
from projects import graphql as projects


@strawberry.type(name="CurrentUser")
class CurrentUser(projects.UserFields, chat.ChatUserFields):
    pass


@strawberry.type
class UserQuery:
    @strawberry.field(description="The signed-in user; null for an anonymous caller.")
    def current_user(self, info: Info) -> CurrentUser | None:
        user = info.context.user
        return CurrentUser(user=user) if user is not None else None


schema = Schema(
    query=merge_types("Query", (UserQuery, projects.Query, chat.Query)),
    mutation=chat.Mutation,
)
