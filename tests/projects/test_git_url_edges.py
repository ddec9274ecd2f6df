"""Git URLs that Python's URL parser cannot read, or reads into a host or port no server has: the
project page refuses them as it refuses any other bad URL, with an error on the page (200) and
nothing saved, never a 500."""

import pytest

from projects.models import ProjectIndex
from tests.projects.test_admin_indexing import page, with_source


@pytest.mark.parametrize(
    "url",
    [
        "http://[::1/x",  # an IPv6 address not closed
        "https://[abc]/repo.git",  # brackets around no IP address
        "http://a℀b/x",  # a host that NFKC normalization turns into "a/c"
        "https://git.example.com:99999/acme/tools.git",  # a port past 65535
        "https://git.example.com:abc/acme/tools.git",  # a port that is no number
        "https://git.example.com:0/acme/tools.git",  # a port no server listens on
        "https://%ZZ/acme/tools.git",  # a %-escape that is none
    ],
)
def test_the_project_page_refuses_a_url_with_no_readable_host_or_port(admin_client, world, url):
    response = admin_client.post(page(world.project), with_source(world.project, git_url=url))

    assert response.status_code == 200
    assert response.context["errors"]
    assert not ProjectIndex.objects.exists()


@pytest.mark.parametrize(
    "url",
    [
        "https://git.example.com:8443/acme/tools.git",
        "ssh://git@git.example.com:2222/acme/tools.git",
        "https://[2001:db8::1]:8443/acme/tools.git",
        "http://192.0.2.7/acme/tools.git",
        "https://git_server.internal/acme/tools.git",
        "https://git.example.com:/acme/tools.git",  # an empty port: the scheme's own
    ],
)
def test_the_project_page_takes_a_url_with_a_port_or_an_ip_address(admin_client, world, url):
    response = admin_client.post(page(world.project), with_source(world.project, git_url=url))

    assert response.status_code == 302
    assert ProjectIndex.objects.get(project=world.project).git_url == url
