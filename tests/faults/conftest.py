from tests.fake_servers import openai_server  # noqa: F401  (fixtures used by name)
