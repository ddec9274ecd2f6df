from tests.fake_servers import openai_server  # noqa: F401  (fixtures used by name)
from tests.services import own_redis  # noqa: F401
