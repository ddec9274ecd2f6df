"""Behind the TLS proxy (DJANGO_SECURE_SSL_REDIRECT=true): HSTS, Secure cookies, a
Content-Security-Policy on every page, and a Server header that names neither gunicorn nor its
version, under each worker the service runs with (ASGI by default, gevent for the REST API
alone)."""

import os
import re
import subprocess
import sys

import pytest
import requests
from django.test import Client

from tests.services import server_process

CSP = "default-src 'self'"


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("worker_class", ["asgi", "gevent"])
def test_pages_behind_tls_carry_the_security_headers_and_no_server_banner(worker_class):
    env = {"DJANGO_SECURE_SSL_REDIRECT": "true", "CODESUGGEST_EMBEDDED": "true"}
    with server_process(env, production=True, worker_class=worker_class) as url:
        page = requests.get(
            f"{url}/admin/login/", headers={"X-Forwarded-Proto": "https"}, timeout=10
        )
        plain = requests.get(f"{url}/admin/login/", allow_redirects=False, timeout=10)
        api = requests.get(
            f"{url}/api/v4/version", headers={"X-Forwarded-Proto": "https"}, timeout=10
        )

    assert page.status_code == 200
    assert page.headers["Strict-Transport-Security"] == "max-age=31536000"
    assert CSP in page.headers["Content-Security-Policy"]
    assert "frame-ancestors 'self'" in page.headers["Content-Security-Policy"]
    csrf_cookie = page.headers["Set-Cookie"]
    assert csrf_cookie.startswith("csrftoken=")
    assert "Secure" in csrf_cookie
    assert plain.status_code == 301
    assert plain.headers["Location"].startswith("https://")
    for response in (page, plain, api):
        assert response.headers.get("Server") == "codesuggest"
        assert "gunicorn" not in str(response.headers).lower()


def test_the_session_cookie_is_secure_behind_tls(settings):
    # Settings as DJANGO_SECURE_SSL_REDIRECT=true makes them (codesuggest/settings.py).
    assert settings.SESSION_COOKIE_SECURE is settings.CSRF_COOKIE_SECURE is False
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "from django.conf import settings as s; "
            "print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_SECONDS)",
        ],
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "codesuggest.settings",
            "DJANGO_SECURE_SSL_REDIRECT": "true",
            "CODESUGGEST_EMBEDDED": "true",
        },
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.split() == ["True", "True", "31536000"]


# The admin, the only HTML the service serves, works under its policy: no inline script, no
# event-handler attribute, no javascript: URL, which the policy would block.
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
EVENT_HANDLER = re.compile(r"\son[a-z]+\s*=", re.IGNORECASE)


@pytest.fixture
def admin_client(db, django_user_model, world):
    client = Client()
    client.force_login(django_user_model.objects.create_superuser("root", password="pw-12345678"))
    return client


ADMIN_PAGES = [
    "/admin/",
    "/admin/login/",
    "/admin/projects/group/",
    "/admin/projects/group/add/",
    "/admin/projects/project/",
    "/admin/projects/project/add/",
    "/admin/projects/user/",
    "/admin/projects/personalaccesstoken/",
    "/admin/projects/personalaccesstoken/add/",
    "/admin/projects/instancesettings/",
    "/admin/chat/message/",
]


@pytest.mark.parametrize("path", ADMIN_PAGES)
def test_every_admin_page_has_the_policy_and_needs_nothing_it_forbids(admin_client, path):
    response = admin_client.get(path, follow=True)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert CSP in response["Content-Security-Policy"]
    html = response.content.decode()
    assert "<script" in html  # the admin's own scripts, from files
    assert INLINE_SCRIPT.findall(html) == []
    assert EVENT_HANDLER.findall(html) == []
    assert "javascript:" not in html
