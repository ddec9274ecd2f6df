"""The base every API view shares: GitLab's credentials, scopes and parameter checks."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast, overload

from rest_framework.request import Request
from rest_framework.views import APIView

from codesuggest.api import params
from codesuggest.api.scopes import ANY_SCOPE

if TYPE_CHECKING:  # for annotations only: the apps depend on this package, not the reverse
    from projects.authentication import Credential
    from projects.models import User


class ApiView(APIView):
    # Scopes a personal access token needs here (any one of them).
    required_scopes: tuple[str, ...] = ANY_SCOPE
    # Whether the short-lived code-suggestions token is accepted (only by the code-suggestions
    # endpoints, as in GitLab).
    accepts_code_suggestions_token = False

    # Who is calling and with what: set once authentication has passed, typed for the views.
    user: User
    credential: Credential

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        # The default permission (IsAuthenticated) lets only a signed-in user through.
        self.user = cast("User", request.user)
        self.credential = cast("Credential", request.auth)

    def parse(self, request: Request, schema: params.Schema) -> dict[str, Any]:
        return params.parse(self.body(request), schema)

    def body(self, request: Request) -> Any:
        """The parsed body; a malformed one is a 400 here, after authentication."""
        # Set when authentication already tried to read the body (for `private_token`).
        parse_error = getattr(request, "body_parse_error", None)
        if parse_error is not None:
            raise parse_error
        return request.data


@overload
def gitlab_time(moment: datetime) -> str: ...
@overload
def gitlab_time(moment: None) -> None: ...
def gitlab_time(moment: datetime | None) -> str | None:
    """GitLab's timestamp format: ISO 8601 in UTC with milliseconds (2024-01-02T03:04:05.678Z)."""
    if moment is None:
        return None
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"
