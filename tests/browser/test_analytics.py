"""The admin's analytics page in a browser: seeded usage, its charts, filters and CSV export."""

import csv
import io
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from playwright.sync_api import expect

from completions.models import UsageEvent
from projects.models import User

SCREENSHOT = Path(settings.BASE_DIR) / "var" / "screenshots" / "analytics.png"


@pytest.fixture
def seeded_page(page, sign_in):
    call_command("seed_usage_events", count=3000, days=20, users=12, projects=5, groups=2)
    admin = User.objects.create_superuser("ada", email="ada@example.com")
    sign_in(page, admin)
    violations: list[str] = []
    page.on("console", lambda message: violations.append(message.text))
    page.violations = violations
    return page


def column(page, table: str, index: int) -> list[str]:
    cells = page.locator(f"#table-{table} tbody tr td:nth-child({index})")
    return cells.all_inner_texts()


def test_the_page_draws_its_charts_from_its_own_files_and_shows_the_seeded_numbers(
    seeded_page, external_requests
):
    page = seeded_page
    page.goto("/admin/")
    page.click("#analytics-link a")

    expect(page.locator("h1")).to_have_text("Analytics")
    expect(page.locator('canvas[data-chart="activity_by_day"]')).to_have_attribute(
        "data-drawn", "true"
    )
    assert page.locator("canvas[data-drawn=true]").count() == 5
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT))
    page.click("#table-activity_by_day summary")
    requests = sum(int(value) for value in column(page, "activity_by_day", 2))
    assert requests == UsageEvent.objects.count() == 3000
    assert external_requests == []
    assert not [text for text in page.violations if "Content Security Policy" in text]


def test_a_language_filter_narrows_every_table(seeded_page):
    page = seeded_page
    page.goto("/admin/analytics/")

    page.select_option("#id_language", "python")
    page.click("input[type=submit][value=Show]")

    expect(page).to_have_url(re.compile(r"language=python"))
    page.wait_for_load_state("load")  # the URL changes before the new page's tables are there
    assert column(page, "top_languages", 1) == ["python"]
    page.click("#table-activity_by_day summary")
    python = UsageEvent.objects.filter(language="python").count()
    assert sum(int(value) for value in column(page, "activity_by_day", 2)) == python


def test_a_table_downloads_as_csv_with_the_numbers_on_the_page(seeded_page):
    page = seeded_page
    page.goto("/admin/analytics/")
    shown = [
        row.locator("td").all_inner_texts()
        for row in page.locator("#table-top_users tbody tr").all()
    ]

    with page.expect_download() as download:
        page.click("#table-top_users a.analytics-export")

    assert download.value.suggested_filename.startswith("top_users-")
    text = Path(download.value.path()).read_text()
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["user", "requests", "suggested characters"]
    assert rows[1:] == shown
