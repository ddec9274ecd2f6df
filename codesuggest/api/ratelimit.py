"""Per-user request limits, counted in the shared cache so every web process and node agrees."""

from django.conf import settings
from django.http import HttpRequest
from django_ratelimit.core import get_usage

from codesuggest.api import errors


def _user_key(group: str, request: HttpRequest) -> str:
    return str(request.user.pk)


def enforce_code_suggestions_rate_limit(request: HttpRequest) -> None:
    """Count this request in the user's fixed one-minute window; 429 past the limit.

    The counter lives in the default cache (Redis in production), so the limit holds across
    gunicorn workers and nodes. A limit of 0 switches it off.
    """
    limit = settings.CODE_SUGGESTIONS_RATE_LIMIT
    if not limit:
        return
    usage = get_usage(
        request, group="code_suggestions", key=_user_key, rate=f"{limit}/m", increment=True
    )
    if usage and usage["should_limit"]:
        raise errors.rate_limited(retry_after=max(1, usage["time_left"]))
