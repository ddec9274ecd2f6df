"""The base every API view shares: GitLab's credentials, scopes and parameter checks."""

from datetime import UTC, datetime
from typing import Any

from rest_framework.request import Request
from rest_framework.views import APIView

from codesuggest.api import params
from codesuggest.api.authentication import ANY_SCOPE


class ApiView(APIView):
    # Scopes a personal access token needs here (any one of them).
    required_scopes: tuple[str, ...] = ANY_SCOPE
    # Whether the short-lived code-suggestions token is accepted (only by the code-suggestions
    # endpoints, as in GitLab).
    accepts_code_suggestions_token = False

    def parse(self, request: Request, schema: params.Schema) -> dict[str, Any]:
        # Set when authentication already tried to read the body (for `private_token`).
        parse_error = getattr(request, "body_parse_error", None)
        if parse_error is not None:
            raise parse_error
        return params.parse(request.data, schema)


def gitlab_time(moment: datetime | None) -> str | None:
    """GitLab's timestamp format: ISO 8601 in UTC with milliseconds (2024-01-02T03:04:05.678Z)."""
    if moment is None:
        return None
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"
