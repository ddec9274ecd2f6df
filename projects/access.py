"""Who may reach what: the checks API views make before doing any work."""

from codesuggest.api import errors
from projects.caching import remembered_for_namespaces
from projects.exclusions import (
    ContextExclusions,
    context_exclusions,
    context_exclusions_read_with,
)
from projects.models import (
    CodeSuggestionsOverride,
    InstanceSettings,
    Project,
    User,
    code_suggestions_enabled,
)


def visible_project(user: User, full_path: str) -> Project:
    """The project at `full_path` if the user may see it; a missing project and a private one
    the user is not in answer alike, so that nothing leaks about private projects."""
    project = Project.objects.visible_to(user, full_path=full_path)
    if project is None:
        raise errors.not_found()
    return project


def require_code_suggestions_access(user: User) -> None:
    if not user.code_suggestions_access:
        raise errors.unauthorized()


def require_chat_access(user: User) -> None:
    """Chat hides itself from a user who may not use it (a 404, as GitLab)."""
    if not user.chat_access:
        raise errors.not_found()


def require_code_suggestions_feature() -> None:
    """Code suggestions switched off for the whole instance: the endpoints are not there."""
    if InstanceSettings.load().code_suggestions == CodeSuggestionsOverride.OFF:
        raise errors.not_found()


def project_gating_code_suggestions(user: User, full_path: str | None) -> Project | None:
    """The project a completion names, if the user can see it; 403 when it has code
    suggestions off. A project the user cannot see is ignored, saying nothing about it."""
    if not full_path:
        return None
    # The project's context exclusions come in the same entry: the completion reads them next,
    # and this way from this request's memo instead of the cache.
    project, enabled, exclusions = remembered_for_namespaces(
        f"gate:{user.pk}:{full_path.lower()}", lambda: _project_and_state(user, full_path)
    )
    if not enabled:
        raise errors.forbidden()
    if project is not None:
        context_exclusions_read_with(project, exclusions)
    return project


def _project_and_state(
    user: User, full_path: str
) -> tuple[Project | None, bool, ContextExclusions]:
    project = Project.objects.visible_to(user, full_path=full_path)
    enabled = project is None or code_suggestions_enabled(project)
    return project, enabled, context_exclusions(project)
