"""Parameter parsing, for any JSON body: the parameters, or the API's 400, nothing else (issue 11).

The bodies are built from the keys the real schemas know, so that most of them reach the nested
checks, with values of every JSON type, number-like strings and NUL characters among them.
"""

from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chat.params import chat_schema
from codesuggest.api.errors import ApiError
from codesuggest.api.params import INT_MAX, INT_MIN, NUL, Param, Schema, parse
from completions.params import (
    COMPLETION_PARAMS,
    GATEWAY_COMPLETION_PARAMS,
    TRACK_EVENT_PARAMS,
    TRACK_EVENTS_PARAMS,
)
from projects.params import ENABLED_PARAMS


def schemas() -> dict[str, Schema]:
    return {
        "completions": COMPLETION_PARAMS,
        "v2 completions": GATEWAY_COMPLETION_PARAMS,
        "enabled": ENABLED_PARAMS,
        "chat": chat_schema(),
        "track_event": TRACK_EVENT_PARAMS,
        "track_events": TRACK_EVENTS_PARAMS,
    }


def key_names(schema: Schema) -> Iterator[str]:
    for key, param in schema.items():
        yield key
        for nested in (param.fields, param.items.fields if param.items else None):
            if nested:
                yield from key_names(nested)


KEYS = sorted({key for schema in schemas().values() for key in key_names(schema)})
# Strings a careless integer or boolean parser trips on, and the choices the schemas offer.
TRICKY_TEXT = st.sampled_from(
    ["", " ", "\x00", "a\x00b", "--1", "+-1", "²", "٣", "1e400", "0x10", "1_000", " 7 ", "1" * 5000,
     "9" * 20, "true", "FALSE", "file", "snippet", "completion", "generation", "project", "commit",
     "code_suggestion_shown_in_ide"]
)  # fmt: skip
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=INT_MIN - 2, max_value=INT_MIN + 2)
    | st.integers(min_value=INT_MAX - 2, max_value=INT_MAX + 2)
    | st.floats(allow_nan=False, allow_infinity=False)  # what JSON can carry
    | st.text(max_size=20)
    | TRICKY_TEXT
)
KEY = st.sampled_from(KEYS) | st.text(max_size=5) | st.just("\x00")
JSON = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEY, inner, max_size=6),
    max_leaves=30,
)
BODY = st.dictionaries(KEY, JSON, max_size=8) | JSON


def holds_nul(value: Any) -> bool:
    if isinstance(value, str):
        return NUL in value
    if isinstance(value, dict):
        return any(holds_nul(k) or holds_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(holds_nul(item) for item in value)
    return False


def out_of_range(value: Any) -> bool:
    if isinstance(value, int) and not isinstance(value, bool):
        return not INT_MIN <= value <= INT_MAX
    if isinstance(value, dict):
        return any(out_of_range(v) for v in value.values())
    if isinstance(value, list):
        return any(out_of_range(item) for item in value)
    return False


def outcome(body: Any, schema: Schema) -> dict[str, Any] | ApiError:
    """The parameters, or the ApiError parsing raised; any other exception fails the test."""
    try:
        return parse(body, schema)
    except ApiError as error:
        return error


@pytest.mark.parametrize("name", list(schemas()))
@settings(
    max_examples=150,
    derandomize=True,  # the same bodies every run: a failure here is a bug, not bad luck
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(body=BODY)
def test_parsing_answers_with_the_parameters_or_a_400(name, body):
    result = outcome(body, schemas()[name])

    if isinstance(result, ApiError):
        assert result.status == 400
        assert list(result.body) == ["error"]
        assert result.body["error"]
    else:
        # What it lets through can be stored: no NUL, no integer beyond a bigint.
        assert not holds_nul(result)
        assert not out_of_range(result)
        assert set(result) == set(schemas()[name])


@settings(max_examples=200, derandomize=True, deadline=None)
@given(text=st.text(alphabet=st.characters(codec="utf-8"), max_size=25) | TRICKY_TEXT)
def test_an_integer_parameter_is_ascii_digits_or_invalid(text):
    result = outcome({"number": text}, {"number": Param(int)})

    if isinstance(result, ApiError):
        assert result.body == {"error": "number is invalid"}
    else:
        digits = text.strip().lstrip("+-").replace("_", "")
        assert digits.isascii()
        assert digits.isdigit()
        assert result["number"] == int(text)
