"""The projects app's part of the GraphQL schema: who is calling, their projects, the instance's
feature flags. Names are GitLab's, so that its editor clients find what they ask for."""

from typing import cast

import strawberry
from django.contrib.auth.models import AnonymousUser
from strawberry import Private

from codesuggest.api.graphql import Info, UserID, global_id
from projects.models import (
    CodeSuggestionsOverride,
    InstanceSettings,
    Project,
    User,
    code_suggestions_decision,
)

# Flags GitLab's language server asks about and that this instance has on: completions take
# `context` (open tabs) and chat takes `additionalContext`. Every other name is false.
ENABLED_FEATURE_FLAGS = frozenset(
    {"advanced_context_resolver", "code_suggestions_context", "duo_additional_context"}
)


@strawberry.type
class UserFields:
    """The user's own fields of `CurrentUser`; chat adds its own (codesuggest/graphql.py)."""

    user: Private[User]

    @strawberry.field(graphql_type=UserID)
    def id(self) -> str:
        return global_id("User", self.user.pk)

    @strawberry.field
    def username(self) -> str:
        return self.user.username

    @strawberry.field
    def name(self) -> str:
        return self.user.get_full_name() or self.user.username

    @strawberry.field(description="Whether the user may use code suggestions.")
    def duo_code_suggestions_available(self) -> bool:
        forced_off = InstanceSettings.load().code_suggestions == CodeSuggestionsOverride.OFF
        return self.user.code_suggestions_access and not forced_off


@strawberry.type(name="Project")
class ProjectType:
    project: Private[Project]

    @strawberry.field(graphql_type=strawberry.ID)
    def id(self) -> str:
        return global_id("Project", self.project.pk)

    @strawberry.field(graphql_type=strawberry.ID)
    def full_path(self) -> str:
        return self.project.full_path

    @strawberry.field
    def name(self) -> str:
        return self.project.name

    @strawberry.field(description="Whether code suggestions are on for the project.")
    def duo_features_enabled(self) -> bool:
        return code_suggestions_decision(self.project).enabled


@strawberry.type
class Query:
    @strawberry.field(description="A project the caller may see, by its full path.")
    def project(self, info: Info, full_path: strawberry.ID) -> ProjectType | None:
        # Nobody signed in sees the public projects only.
        caller = info.context.user or cast(User, AnonymousUser())
        # A private project the caller is not in answers as a missing one: null.
        project = Project.objects.visible_to(caller, full_path=str(full_path))
        return ProjectType(project=project) if project else None

    @strawberry.field(description="Whether a feature flag is on for this instance.")
    def feature_flag_enabled(self, name: str) -> bool:
        return name in ENABLED_FEATURE_FLAGS
