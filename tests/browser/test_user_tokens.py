"""A user who is not staff signs in and manages their own personal access tokens."""

import requests
from playwright.sync_api import expect

PASSWORD = "bobs-long-password-1"


def whoami(live_server, token: str) -> requests.Response:
    return requests.get(
        f"{live_server.url}/api/v4/user", headers={"PRIVATE-TOKEN": token}, timeout=10
    )


def test_a_user_signs_in_creates_uses_and_revokes_a_token(page, live_server, world):
    world.bob.set_password(PASSWORD)
    world.bob.save()

    page.goto("/")
    page.click("header >> text=Sign in")
    page.fill("#id_username", "bob")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_have_text("Personal access tokens")
    expect(page.locator("header")).to_contain_text("Sign out bob")

    page.fill("#id_name", "editor")
    page.locator("label", has_text="read_api").locator("input").check()
    page.fill("#id_expires_at", "2099-12-31")
    page.click("text=Create token")

    expect(page.locator(".new-token")).to_contain_text("Your new token editor")
    plaintext = page.input_value("#new-token")
    assert whoami(live_server, plaintext).json()["username"] == "bob"
    row = page.locator("#tokens tr", has_text="editor")
    expect(row).to_contain_text("api, read_api, ai_features")
    expect(row).to_contain_text("2099-12-31")
    expect(row).to_contain_text("active")

    page.reload()
    expect(page.locator(".new-token")).to_have_count(0)
    expect(row).not_to_contain_text("never")  # used once, over HTTP

    row.locator("text=Revoke").click()
    expect(page.locator(".messages")).to_contain_text("The token editor was revoked.")
    expect(page.locator("#tokens tr", has_text="editor")).to_contain_text("revoked")
    assert whoami(live_server, plaintext).status_code == 401

    page.click("header >> text=Usage")
    expect(page.locator("h1")).to_have_text("Your usage")
    expect(page.locator("#usage tbody tr")).to_have_count(30)
