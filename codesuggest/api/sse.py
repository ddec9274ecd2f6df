"""Server-Sent Events, as the API streams them: generations and chat subscriptions."""

import json

# A comment line: it keeps proxies from closing a quiet stream, and clients ignore it.
KEEP_ALIVE = b": keep-alive\n\n"


def sse_event(event: str, data: object) -> bytes:
    return f"event: {event}\ndata: {json.dumps(data)}\n\n".encode()
