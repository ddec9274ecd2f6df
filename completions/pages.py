"""A user's own usage, on a page of their own, from the analytics roll-up the admins' page reads."""

from datetime import timedelta
from typing import cast

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from completions.analytics import (
    Filters,
    activity_by_day,
    suggestions_by_day,
    usage_roll_up_if_stale,
)
from projects.models import User

DAYS = 30


@login_required(login_url="sign_in")
def usage(request: HttpRequest) -> HttpResponse:
    user = cast(User, request.user)  # signed in: login_required
    usage_roll_up_if_stale()
    until = timezone.localdate()
    filters = Filters(since=until - timedelta(days=DAYS - 1), until=until, user=user)
    # Both tables have a row for every day of the period, in the same order.
    days = [
        {"day": day, "requests": requests, "shown": shown, "accepted": accepted, "rate": rate}
        for (day, requests, _users), (_day, shown, accepted, _rejected, rate) in zip(
            activity_by_day(filters).rows, suggestions_by_day(filters).rows, strict=True
        )
    ]
    totals = {key: sum(day[key] for day in days) for key in ("requests", "shown", "accepted")}
    return render(
        request,
        "user_settings/usage.html",
        {"days": days[::-1], "totals": totals, "period": DAYS},
    )
