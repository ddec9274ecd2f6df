import pytest

from tests.conftest import make_token
from tests.fake_servers import (  # noqa: F401  (fixtures used by name)
    FakeOpenAIServer,
    anthropic_server,
    openai_server,
    refused_url,
    vertex_server,
)

COMPLETIONS = "/api/v4/code_suggestions/completions"

# Enough code above the cursor that the request is a completion, not a generation.
PYTHON_ABOVE = (
    "import os\n"
    "import sys\n"
    "\n"
    "\n"
    "def add(a, b):\n"
    "    total = a + b\n"
    "    print(total)\n"
    "    return total\n"
    "\n"
    "\n"
    "def multiply(a, b):\n"
    "    product = a * b\n"
    "    "
)


def completion_body(**overrides):
    body = {
        "current_file": {
            "file_name": "calc.py",
            "content_above_cursor": PYTHON_ABOVE,
            "content_below_cursor": "\n",
        }
    }
    body.update(overrides)
    return body


@pytest.fixture
def upstream(settings, openai_server: FakeOpenAIServer) -> FakeOpenAIServer:  # noqa: F811
    """An OpenAI-compatible model server behind completions and generations."""
    for feature in ("COMPLETIONS", "GENERATIONS"):
        setattr(settings, f"{feature}_PROVIDER", "openai")
        setattr(settings, f"{feature}_BASE_URL", openai_server.url)
        setattr(settings, f"{feature}_MODEL", "gpt-3.5-turbo-instruct")
        setattr(settings, f"{feature}_TIMEOUT", 2.0)
    openai_server.completion_texts = ["return a * b"]
    return openai_server


@pytest.fixture
def bob_token(world) -> str:
    return make_token(world.bob, scopes=("ai_features",))
