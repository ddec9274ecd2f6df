"""The start page and the API docs in a browser, which fetch nothing from anywhere else."""

from playwright.sync_api import expect


def test_the_start_page_leads_to_the_api_docs_which_list_the_operations(
    page, live_server, external_requests
):
    refused = []
    page.on("console", lambda m: refused.append(m.text) if "Content Security" in m.text else None)

    page.goto("/")
    expect(page.locator("h1")).to_have_text("codesuggest")
    for name in ("Admin", "Your access tokens", "API documentation", "Readiness"):
        expect(page.locator(".cards a", has_text=name)).to_be_visible()

    page.click(".cards a:has-text('API documentation')")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("codesuggest")
    operations = page.locator(".opblock-summary-path")
    expect(operations.first).to_be_visible()
    assert operations.count() >= 15

    page.locator(".opblock-summary-path", has_text="/api/v4/code_suggestions/enabled").click()
    expect(page.locator(".opblock-body").first).to_be_visible()

    assert external_requests == []
    assert refused == []


def test_an_unknown_page_is_our_plain_404(page):
    response = page.goto("/no/such/page")
    assert response.status == 404
    expect(page.locator("h1")).to_have_text("Page not found")
    page.click("text=Go to the start page")
    expect(page.locator("h1")).to_have_text("codesuggest")


def test_the_schema_opens_in_the_browser(page):
    downloads = []
    page.on("download", lambda download: downloads.append(download))
    page.goto("/api/schema")
    expect(page.locator("body")).to_contain_text("openapi: 3.0.3")
    assert downloads == []
