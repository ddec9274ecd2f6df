"""Signing in, in a browser."""

from playwright.sync_api import expect

from projects.models import User

PASSWORD = "correct horse battery staple"


def test_an_admin_signs_in_with_the_form_and_reaches_the_admin(page):
    User.objects.create_superuser("root", email="root@example.com", password=PASSWORD)
    page.goto("/admin/")
    page.fill("#id_username", "root")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    expect(page.locator("#site-name")).to_be_visible()
    expect(page.locator("#user-tools")).to_contain_text("root")


def test_a_wrong_password_is_refused_in_the_form(page):
    User.objects.create_superuser("root", email="root@example.com", password=PASSWORD)
    page.goto("/admin/")
    page.fill("#id_username", "root")
    page.fill("#id_password", "wrong")
    page.click("input[type=submit]")
    expect(page.locator(".errornote")).to_be_visible()
    assert "/admin/login/" in page.url
