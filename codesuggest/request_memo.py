"""Values computed at most once per request, for reads that several layers of a request make."""

from collections.abc import Callable
from contextvars import ContextVar
from typing import Any, TypeVar

from django.http import HttpRequest, HttpResponse

T = TypeVar("T")

# Context variables are per thread and per greenlet, so concurrent requests never share one.
_memo: ContextVar[dict[str, Any] | None] = ContextVar("request_memo", default=None)


def once_per_request(key: str, compute: Callable[[], T]) -> T:
    """`compute()` the first time in a request, the same value after; outside a request, always
    `compute()`."""
    memo = _memo.get()
    if memo is None:
        return compute()
    if key not in memo:
        memo[key] = compute()
    return memo[key]


class RequestMemoMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = _memo.set({})
        try:
            return self.get_response(request)
        finally:
            _memo.reset(token)
