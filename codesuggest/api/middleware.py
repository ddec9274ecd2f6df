from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from codesuggest.api.errors import bad_request, error_response, payload_too_large
from codesuggest.api.params import INVALID, NUL


class RequestBodyLimitMiddleware:
    """Refuse an oversized body from its declared length, before anything reads it.

    A body without a length (chunked) is never read past zero bytes by Django, so the
    declared length is the only one that can be large.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > settings.MAX_REQUEST_BODY_BYTES:
            return error_response(payload_too_large())
        return self.get_response(request)


class NullByteMiddleware:
    """Refuse a query string holding a NUL character (400), as GitLab does for every request
    (Gitlab::Middleware::HandleNullBytes).

    PostgreSQL cannot compare text with a NUL in it: the admin's list filters, search and
    autocomplete would pass one to the database and fail with a 500. Bodies are checked where
    they are read (`codesuggest.api.params`; Django's form fields refuse NUL themselves)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        for name, values in request.GET.lists():
            if NUL in name or any(NUL in value for value in values):
                return error_response(bad_request(f"{name} {INVALID}"))
        return self.get_response(request)
