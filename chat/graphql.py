"""The chat app's part of the GraphQL schema, with GitLab's names."""

import strawberry
from strawberry import Private

from chat.services import chat_features_available
from projects.models import User


@strawberry.type
class ChatUserFields:
    """Chat's fields of `CurrentUser`."""

    user: Private[User]

    @strawberry.field(description="Whether the user may use Duo Chat.")
    def duo_chat_available(self) -> bool:
        return self.user.chat_access

    @strawberry.field(description="GitLab's names of the chat features the user may use.")
    def duo_chat_available_features(self) -> list[str]:
        return chat_features_available(self.user)
