"""Limits against guessing and abuse, counted by django-ratelimit in the shared cache (Redis in
production), so every process and node counts together:

- admin sign-in: every attempt per client address, and failed attempts per username;
- API authentication: unknown credentials per client address (valid traffic is never counted);
- chat: questions per user, through the REST endpoint and GraphQL's aiAction alike.

Each default is GitLab's own (settings.py says which). A limit of 0 switches it off. Windows are
fixed; django-ratelimit starts each key's window at its own offset, and `Retry-After` is the rest
of the key's window. While Redis is unavailable nothing can be counted: RATE_LIMIT_WITHOUT_REDIS
says whether requests then go through uncounted (open) or get 503 (closed), as for completions.
(The completions limit, codesuggest/api/ratelimit.py, counts in one round trip of its own.)
"""

import ipaddress
import math
import time
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django_ratelimit.core import get_usage
from rest_framework.request import Request

from codesuggest import metrics
from codesuggest.api import errors
from codesuggest.errors import RateLimited

LOGIN_WINDOW_SECONDS = 60
LOGIN_FAILURE_WINDOW_SECONDS = 10 * 60
AUTH_FAILURE_WINDOW_SECONDS = 3 * 60
CHAT_WINDOW_SECONDS = 8 * 60 * 60


def _usage(group: str, key: str, limit: int, period: int, *, increment: bool) -> int | None:
    """Count a hit for `key` (or, without `increment`, only look): the seconds left in its
    window once `limit` hits are used up (a look) or exceeded (a hit), else None."""
    usage = get_usage(
        None,  # the key below needs no request, nor does matching every method
        group=group,
        key=lambda _group, _request: key,
        rate=(limit, period),
        increment=increment,
    )
    if usage is None:  # Redis is unavailable and RATELIMIT_FAIL_OPEN lets the request through
        return None
    if usage["limit"] == 0:  # Redis is unavailable and the limit fails closed
        raise errors.service_unavailable("the rate limit cannot be checked")
    if usage["count"] > limit or (not increment and usage["count"] >= limit):
        return max(1, usage["time_left"])
    return None


def client_address(request: HttpRequest | Request) -> str:
    """The caller's address. Behind the TLS proxy the settings trust (SECURE_PROXY_SSL_HEADER)
    it is the last address in X-Forwarded-For, the one that proxy added: a client can write
    anything before it, but not it."""
    address = request.META.get("REMOTE_ADDR", "")
    if getattr(settings, "SECURE_PROXY_SSL_HEADER", None):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "").rsplit(",", 1)[-1].strip()
        address = forwarded or address
    return address


def client_ip(request: HttpRequest | Request) -> str:
    """The caller's address as the key of a per-address limit: an IPv6 address stands for its
    /64, which one client usually holds whole."""
    address = client_address(request)
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if ip.version == 6:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False).network_address)
    return str(ip)


# Admin sign-in -----------------------------------------------------------------------------------


def login_throttled(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """The admin's login view, with LOGIN_RATE_LIMIT attempts per address per minute and
    LOGIN_FAILURE_LIMIT failures per username per 10 minutes. A username past its limit is
    refused before its password is checked, from any address, so that guessing learns nothing."""

    @wraps(view)
    def throttled(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method != "POST":
            return view(request, *args, **kwargs)
        username = str(request.POST.get("username", ""))
        try:
            retry_after = _login_retry_after(client_ip(request), username)
            if retry_after:
                metrics.RATE_LIMITED.labels("login").inc()
                raise errors.rate_limited(retry_after)
            response = view(request, *args, **kwargs)
            signed_in = request.user.is_authenticated and request.user.get_username() == username
            if not signed_in and settings.LOGIN_FAILURE_LIMIT:
                _usage(
                    "login-failures",
                    username,
                    settings.LOGIN_FAILURE_LIMIT,
                    LOGIN_FAILURE_WINDOW_SECONDS,
                    increment=True,
                )
        except errors.ApiError as exc:
            return errors.error_response(exc)
        return response

    return throttled


def _login_retry_after(ip: str, username: str) -> int | None:
    if settings.LOGIN_RATE_LIMIT:
        retry_after = _usage(
            "login", ip, settings.LOGIN_RATE_LIMIT, LOGIN_WINDOW_SECONDS, increment=True
        )
        if retry_after:
            return retry_after
    if settings.LOGIN_FAILURE_LIMIT:
        return _usage(
            "login-failures",
            username,
            settings.LOGIN_FAILURE_LIMIT,
            LOGIN_FAILURE_WINDOW_SECONDS,
            increment=False,
        )
    return None


# API authentication ------------------------------------------------------------------------------


def _ban_key(ip: str) -> str:
    return f"auth-failures-ban:{ip}"


def refuse_banned_address(request: HttpRequest | Request) -> None:
    """429 for an address that presented too many unknown credentials, whatever it presents now:
    a guess that happens to be right must not be told apart. One cache read per request that
    carries a credential; nothing is written for valid traffic."""
    if not settings.AUTH_FAILURE_LIMIT:
        return
    banned_until = cache.get(_ban_key(client_ip(request)))
    if banned_until is not None:
        metrics.RATE_LIMITED.labels("auth-failures").inc()
        raise errors.rate_limited(max(1, math.ceil(banned_until - time.time())))


def count_failed_authentication(request: HttpRequest | Request) -> None:
    """Count an unknown credential against its address; past AUTH_FAILURE_LIMIT in three minutes
    the address is refused until the window ends (this request included)."""
    if not settings.AUTH_FAILURE_LIMIT:
        return
    ip = client_ip(request)
    limit = settings.AUTH_FAILURE_LIMIT
    retry_after = _usage("auth-failures", ip, limit, AUTH_FAILURE_WINDOW_SECONDS, increment=True)
    if retry_after:
        metrics.RATE_LIMITED.labels("auth-failures").inc()
        cache.set(_ban_key(ip), time.time() + retry_after, timeout=retry_after)
        raise errors.rate_limited(retry_after)


# Chat --------------------------------------------------------------------------------------------


def enforce_chat_rate_limit(*, user_id: int) -> None:
    """429 past CHAT_RATE_LIMIT questions per user in eight hours (GitLab's `ai_action` limit)."""
    if not settings.CHAT_RATE_LIMIT:
        return
    retry_after = _usage(
        "chat", str(user_id), settings.CHAT_RATE_LIMIT, CHAT_WINDOW_SECONDS, increment=True
    )
    if retry_after:
        metrics.RATE_LIMITED.labels("chat").inc()
        raise RateLimited(retry_after)
