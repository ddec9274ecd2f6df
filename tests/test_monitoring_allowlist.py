"""/-/health, /-/liveness, /-/readiness and /-/metrics answer only the addresses in
HEALTH_CHECK_ALLOWED_IPS (GitLab's monitoring allowlist); any other gets the 404 of a path that
does not exist, as from GitLab."""

import ipaddress

import pytest

# Readiness hands its connection back at once: the test may not hold it in a transaction.
pytestmark = pytest.mark.django_db(transaction=True)

MONITORING = ("/-/health", "/-/liveness", "/-/readiness", "/-/metrics")
OUTSIDER = "203.0.113.9"


def networks(*items: str) -> list:
    return [ipaddress.ip_network(item) for item in items]


@pytest.mark.parametrize("path", MONITORING)
def test_the_local_host_may_read_them_by_default(client, path):
    assert client.get(path, REMOTE_ADDR="127.0.0.1").status_code == 200
    assert client.get(path, REMOTE_ADDR="::1").status_code == 200


@pytest.mark.parametrize("path", MONITORING)
def test_any_other_address_gets_the_answer_of_a_path_that_does_not_exist(client, path):
    refused = client.get(path, REMOTE_ADDR=OUTSIDER)
    unknown = client.get("/-/no-such-page", REMOTE_ADDR=OUTSIDER)

    assert refused.status_code == 404
    # The same page, but for the path it may name.
    assert refused.content.replace(path.encode(), b"PATH") == unknown.content.replace(
        b"/-/no-such-page", b"PATH"
    )


def test_a_configured_network_may_read_them_and_the_local_host_no_longer(client, settings):
    settings.HEALTH_CHECK_ALLOWED_IPS = networks("10.0.0.0/8", "2001:db8::/32")

    assert client.get("/-/readiness", REMOTE_ADDR="10.20.30.40").status_code == 200
    assert client.get("/-/readiness", REMOTE_ADDR="2001:db8::7").status_code == 200
    assert client.get("/-/readiness", REMOTE_ADDR="127.0.0.1").status_code == 404
    assert client.get("/-/readiness", REMOTE_ADDR="11.0.0.1").status_code == 404


def test_an_ipv4_address_written_as_ipv6_counts_as_itself(client):
    assert client.get("/-/liveness", REMOTE_ADDR="::ffff:127.0.0.1").status_code == 200
    assert client.get("/-/liveness", REMOTE_ADDR=f"::ffff:{OUTSIDER}").status_code == 404


def test_behind_the_tls_proxy_the_address_it_forwarded_counts(client, settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.HEALTH_CHECK_ALLOWED_IPS = networks("10.0.0.0/8")
    proxy = {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_PROTO": "https"}

    monitor = client.get("/-/liveness", HTTP_X_FORWARDED_FOR="10.1.1.1", **proxy)
    outsider = client.get("/-/liveness", HTTP_X_FORWARDED_FOR=OUTSIDER, **proxy)
    # A client may write anything before the address the proxy added, but not that address.
    forged = client.get("/-/liveness", HTTP_X_FORWARDED_FOR=f"10.1.1.1, {OUTSIDER}", **proxy)

    assert monitor.status_code == 200
    assert outsider.status_code == 404
    assert forged.status_code == 404


def test_without_the_tls_proxy_a_forwarded_address_is_not_believed(client):
    response = client.get("/-/liveness", REMOTE_ADDR=OUTSIDER, HTTP_X_FORWARDED_FOR="127.0.0.1")

    assert response.status_code == 404
