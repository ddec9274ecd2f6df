"""The fake model servers, as fixtures for every provider test."""

from tests.fake_servers import (  # noqa: F401  (fixtures used by name)
    anthropic_server,
    openai_server,
    refused_url,
    vertex_server,
)
