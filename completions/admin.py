"""The analytics page inside the admin (/admin/analytics/): staff only, its URL in
codesuggest/urls.py, its numbers from completions/analytics.py."""

import csv
from datetime import date, timedelta
from typing import Any

from django import forms
from django.contrib import admin
from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone

from completions.analytics import TABLES, Filters, Table, filter_choices, usage_roll_up_if_stale
from projects.models import Group, Project, User

DEFAULT_DAYS = 30
# The charts drawn above the tables: (table, chart type, the columns it plots, those of them
# on a scale of their own on the right).
CHARTS = (
    ("activity_by_day", "line", ("requests", "active users"), ("active users",)),
    ("active_users_by_week", "bar", ("active users",), ()),
    ("suggestions_by_day", "line", ("shown", "accepted", "rejected"), ()),
    (
        "errors_by_day",
        "bar",
        ("rate-limited (429)", "other 4xx", "5xx", "upstream timeouts (504)"),
        (),
    ),
    ("chat_by_day", "bar", ("answered", "failed"), ()),
)


class DateInput(forms.DateInput):
    input_type = "date"


class AnalyticsFilterForm(forms.Form):
    since = forms.DateField(required=False, widget=DateInput)
    until = forms.DateField(required=False, widget=DateInput)
    group = forms.ModelChoiceField(Group.objects.all(), required=False, empty_label="All groups")
    project = forms.ModelChoiceField(
        Project.objects.order_by("full_path"), required=False, empty_label="All projects"
    )
    # A username, not a list: there may be thousands of users.
    user = forms.CharField(required=False)
    language = forms.ChoiceField(required=False)
    model = forms.ChoiceField(required=False, label="Provider/model")

    def __init__(self, *args: Any, languages: list[str], models: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        language, model = self.fields["language"], self.fields["model"]
        assert isinstance(language, forms.ChoiceField)
        assert isinstance(model, forms.ChoiceField)
        language.choices = [("", "All languages")] + [(name, name) for name in languages]
        model.choices = [("", "All models")] + [(name, name) for name in models]

    def clean_user(self) -> User | None:
        username = self.cleaned_data["user"].strip()
        if not username:
            return None
        user = User.objects.filter(username__iexact=username).first()
        if user is None:
            raise forms.ValidationError(f"No user is called {username}.")
        return user

    def clean(self) -> dict[str, Any]:
        data = self.cleaned_data
        until = data.get("until") or timezone.now().date()
        since = data.get("since") or until - timedelta(days=DEFAULT_DAYS - 1)
        if since > until:
            raise forms.ValidationError("The first day comes after the last.")
        data.update(since=since, until=until)
        return data

    def filters(self) -> Filters:
        data = self.cleaned_data
        return Filters(
            since=data["since"],
            until=data["until"],
            group=data["group"],
            project=data["project"],
            user=data["user"],
            language=data["language"],
            model=data["model"],
        )


def default_filters() -> Filters:
    today = timezone.now().date()
    return Filters(since=today - timedelta(days=DEFAULT_DAYS - 1), until=today)


def analytics(request: HttpRequest) -> HttpResponse:
    usage_roll_up_if_stale()
    defaults = default_filters()
    data = request.GET.copy()
    # The dates shown are the dates used, also when none were asked for.
    for key in ("since", "until"):
        if not data.get(key):
            data[key] = getattr(defaults, key).isoformat()
    form = AnalyticsFilterForm(data, **filter_choices())
    filters = form.filters() if form.is_valid() else defaults
    export = request.GET.get("export")
    if export:
        if export not in TABLES or not form.is_valid():
            raise Http404("No such table")
        return csv_response(TABLES[export](filters), filters.since, filters.until)
    tables = [table(filters) for table in TABLES.values()]
    query = request.GET.copy()
    query.pop("export", None)
    context = {
        **admin.site.each_context(request),
        "title": "Analytics",
        "form": form,
        "filters": filters,
        "tables": tables,
        "charts": charts(tables),
        # Tables drawn as charts: their rows, one a day, are folded away below the charts.
        "charted": {name for name, *_ in CHARTS},
        "query": query.urlencode(),
    }
    return TemplateResponse(request, "admin/analytics/index.html", context)


def charts(tables: list[Table]) -> list[dict[str, Any]]:
    """What static/completions/analytics.js draws, passed to it through json_script."""
    by_name = {table.name: table for table in tables}
    drawn = []
    for name, kind, columns, on_the_right in CHARTS:
        table = by_name[name]
        drawn.append(
            {
                "id": name,
                "title": table.title,
                "type": kind,
                "labels": [row[0] for row in table.rows],
                "series": [
                    {
                        "label": column,
                        "data": [row[table.columns.index(column)] for row in table.rows],
                        "right": column in on_the_right,
                    }
                    for column in columns
                ],
            }
        )
    return drawn


def csv_response(table: Table, since: date, until: date) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    filename = f"{table.name}-{since.isoformat()}-{until.isoformat()}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    writer = csv.writer(response)
    writer.writerow(table.columns)
    writer.writerows(table.rows)
    return response
