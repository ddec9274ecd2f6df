"""The few HTML pages outside the admin: the landing page and the page for unknown paths."""

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.defaults import page_not_found


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "home.html", {"version": settings.CODESUGGEST_VERSION})


class NotFoundPageMiddleware:
    """Our plain 404 page for a path that matches no route, with DJANGO_DEBUG on too (`make
    run`), where Django would list every route. API paths keep their JSON 404s; a view's own
    404 is left as it is."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        unrouted = response.status_code == 404 and request.resolver_match is None
        if unrouted and not request.path.startswith("/api/"):
            return page_not_found(request, exception=None)
        return response
