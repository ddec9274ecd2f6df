from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from codesuggest.api.errors import error_response, payload_too_large


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
