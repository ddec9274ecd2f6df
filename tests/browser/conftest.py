"""Tests in a real browser: Playwright drives Debian's Chromium against a live server.

Every test under tests/browser is marked `browser` (select them with `pytest -m browser`). They
skip when /usr/bin/chromium is missing, or fail under CI=true (.ci/run installs it). Playwright's
own browser downloads are never used. A failing test leaves a screenshot of its page, and the
failure report says where.
"""

from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest
from django.conf import settings
from django.test import Client

from projects.models import User
from tests.services import unavailable

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"
BROWSER_TESTS = Path(__file__).parent
# How long an action or an assertion waits for the page.
TIMEOUT_MS = 10_000


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if BROWSER_TESTS in Path(item.path).parents:
            item.add_marker(pytest.mark.browser)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = yield
    page = getattr(item, "funcargs", {}).get("page")
    if report.when == "call" and report.failed and page is not None and not page.is_closed():
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{item.name}.png"
        try:
            page.screenshot(path=str(path), full_page=True)
            report.sections.append(("screenshot", f"{path} (of {page.url})"))
        except Exception as exc:  # a screenshot that fails must not hide the failure itself
            report.sections.append(("screenshot", f"none: {exc}"))
    return report


@pytest.fixture(scope="package")
def chromium() -> Iterator:
    """One headless Chromium for all the browser tests (they run one after the other).

    Playwright's sync API keeps its asyncio loop marked as running in this thread while it is
    open: Django then refuses database access from the tests (SynchronousOnlyOperation) unless
    told it is safe, which it is, as the loop never runs Django code. The package scope closes
    Playwright, and clears that loop, before the rest of the suite, whose async tests need none.
    """
    if not CHROMIUM.exists():
        unavailable(f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import expect, sync_playwright

    # The same patience for assertions as for actions (the context's default timeout): 5 s, the
    # default, was too short for a click's effect on a machine busy with other test runs.
    expect.set_options(timeout=TIMEOUT_MS)
    with pytest.MonkeyPatch.context() as patch, sync_playwright() as playwright:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        yield browser
        browser.close()


@pytest.fixture
def external_requests() -> list[str]:
    """The URLs the page tried to fetch from any host but the live server's (all refused)."""
    return []


@pytest.fixture
def page(chromium, live_server, external_requests) -> Iterator:
    """A fresh browser context and page, on the live server: relative URLs go there. Requests
    to any other host are refused and recorded in `external_requests`."""
    own_host = urlparse(live_server.url).netloc
    context = chromium.new_context(
        base_url=live_server.url, viewport={"width": 1280, "height": 900}
    )
    context.set_default_timeout(TIMEOUT_MS)

    def only_own_host(route) -> None:
        url = urlparse(route.request.url)
        if url.scheme in ("http", "https", "ws", "wss") and url.netloc != own_host:
            external_requests.append(route.request.url)
            route.abort()
        else:
            route.continue_()

    context.route("**/*", only_own_host)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def sign_in(live_server) -> Callable:
    """Signs a user in on a page, as if they had used the sign-in form: a session of their own,
    its cookie in the page's browser context. For tests whose subject is not signing in."""

    def sign_in(page, user: User) -> None:
        client = Client()
        client.force_login(user)
        cookie = client.cookies[settings.SESSION_COOKIE_NAME]
        page.context.add_cookies(
            [{"name": cookie.key, "value": cookie.value, "url": live_server.url}]
        )

    return sign_in
