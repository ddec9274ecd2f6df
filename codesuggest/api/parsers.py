"""The API's JSON parser: DRF's, refusing the JSON that would break the code behind it."""

import codecs
import json
import math
import re
from typing import Any

from django.conf import settings
from rest_framework import parsers
from rest_framework.exceptions import ParseError

# As deep as a body may nest: Ruby's JSON parser (GitLab's) refuses more than 100 levels
# (max_nesting). Real bodies nest 4 or 5 deep; Python's json would parse about 1,000 levels
# and then raise RecursionError, and every function that walks the result recursively could
# too.
MAX_DEPTH = 100
# Half a UTF-16 surrogate pair: json joins a whole pair ("\\ud83d\\ude00") into the character it
# encodes, but reads an escape with no partner ("\\ud800") as a code point no codec encodes, and
# a body in UTF-7 (its charset may say so) can hold one too.
_SURROGATE = re.compile("[\ud800-\udfff]")


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, but a body nested deeper than MAX_DEPTH, or holding a number too large
    for a float (`1e400` would read as infinity) or half a surrogate pair, is malformed: a 400
    like any other."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = codecs.getreader(encoding)(stream).read()
        except ValueError as exc:
            raise ParseError(f"JSON parse error - {exc}") from None
        return loads(text)


def loads(text: str) -> Any:
    """JSON text read by the rules above (for JSON inside JSON, too); raises ParseError."""
    try:
        data = json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)
    except RecursionError:
        raise _too_deep() from None
    except ValueError as exc:
        raise ParseError(f"JSON parse error - {exc}") from None
    if _deeper_than(data, MAX_DEPTH):
        raise _too_deep()
    if (surrogate := _lone_surrogate(data)) is not None:
        raise ParseError(
            f"JSON parse error - \\u{ord(surrogate):04x} is half a surrogate pair, not a character"
        )
    return data


def _lone_surrogate(data: Any) -> str | None:
    """Half a surrogate pair in any key or string of `data` (walked without recursion): the
    cache key, database row or model request built from it would fail."""
    pending = [data]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if found := _SURROGATE.search(item):
                return found.group()
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return None


def _too_deep() -> ParseError:
    return ParseError(f"JSON parse error - nested deeper than {MAX_DEPTH} levels")


def _refuse_constant(name: str) -> Any:
    # NaN and Infinity are not JSON (DRF refuses them too).
    raise ValueError(f"Out of range float values are not JSON compliant: {name!r}")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"Number out of range: {text[:20]!r}")
    return value


def _deeper_than(data: Any, limit: int) -> bool:
    """Whether arrays and objects nest more than `limit` levels (walked level by level, without
    recursion)."""
    level = [data] if isinstance(data, dict | list) else []
    for _ in range(limit):
        level = [
            child
            for item in level
            for child in (item.values() if isinstance(item, dict) else item)
            if isinstance(child, dict | list)
        ]
    return bool(level)
