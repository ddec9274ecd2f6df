"""Request parameters checked the way GitLab's API (Grape) checks them, with its messages.

A schema is a dict of name → `Param`; nested objects and arrays are named as GitLab names them
(`current_file[file_name]`, `context[0][type]`). All problems are reported at once, joined with
", ", so a client sees everything wrong with its request in one answer.

Whatever the body holds, `parse` answers with the values or an ApiError(400), never another
exception (tests/codesuggest/test_params_properties.py).
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from codesuggest.api.errors import bad_request

MISSING = "is missing"
INVALID = "is invalid"
NOT_VALID_VALUE = "does not have a valid value"
EMPTY = "is empty"

# The integers a parameter may hold: a PostgreSQL bigint, what every id and number here is
# stored in (a larger one could only fail in the database).
INT_MIN, INT_MAX = -(2**63), 2**63 - 1
# Ruby's Integer(text, 10), which Grape coerces with: ASCII digits, an optional sign, single
# underscores between digits, whitespace around. Not "--1", "²" or Arabic-Indic digits, which
# Python's int() would either refuse with a ValueError or silently read.
INTEGER_TEXT = re.compile(r"\s*[+-]?[0-9]+(?:_[0-9]+)*\s*", re.ASCII)
# PostgreSQL cannot store NUL in text or jsonb, and GitLab refuses it in any parameter
# (Gitlab::Middleware::HandleNullBytes): a parameter holding one anywhere is invalid.
NUL = "\x00"

Schema = Mapping[str, "Param"]


@dataclass(frozen=True)
class Param:
    kind: type | tuple[type, ...]
    required: bool = False
    allow_blank: bool = True
    choices: tuple[Any, ...] = ()
    max_length: int | None = None
    minimum: int | None = None
    maximum: int | None = None
    fields: Schema | None = None  # for objects (and objects inside arrays)
    items: "Param | None" = None  # for arrays
    default: Any = None


def parse(data: Any, schema: Schema) -> dict[str, Any]:
    """The validated parameters, or an ApiError(400) listing every problem."""
    values, errors = _check_object(data if isinstance(data, Mapping) else {}, schema, scope=None)
    if errors:
        raise bad_request(", ".join(errors))
    return values


def _name(scope: str | None, key: str | int) -> str:
    return str(key) if scope is None else f"{scope}[{key}]"


def _check_object(
    data: Mapping[str, Any], schema: Schema, scope: str | None
) -> tuple[dict[str, Any], list[str]]:
    values: dict[str, Any] = {}
    # Unknown keys are ignored, but some are stored as sent (telemetry's other properties).
    errors = [
        f"{_name(scope, key)} {INVALID}"
        for key, value in data.items()
        if key not in schema and (_holds_nul(key) or _holds_nul(value))
    ]
    for key, param in schema.items():
        name = _name(scope, key)
        if key not in data or data[key] is None:
            if param.required:
                errors.append(f"{name} {MISSING}")
            values[key] = param.default
            continue
        value, problems = _check_value(data[key], param, name)
        values[key] = value
        errors.extend(problems)
    return values, errors


def _check_value(value: Any, param: Param, name: str) -> tuple[Any, list[str]]:
    value = _coerce(value, param.kind)
    if value is _INVALID:
        return None, [f"{name} {INVALID}"]
    if isinstance(value, str):
        return value, _check_string(value, param, name)
    if isinstance(value, bool):
        return value, []
    if isinstance(value, int):
        return value, _check_number(value, param, name)
    if isinstance(value, list):
        return _check_array(value, param, name)
    if isinstance(value, Mapping) and param.fields is not None:
        return _check_object(value, param.fields, name)
    if _holds_nul(value):  # a free-form object, stored as sent
        return None, [f"{name} {INVALID}"]
    return value, []


_INVALID = object()


def _coerce(value: Any, kind: type | tuple[type, ...]) -> Any:
    """Accept what Grape accepts: "true"/"false" for booleans, digit strings for integers, and
    any number for a string, as its text."""
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if bool in kinds:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
    if int in kinds and not isinstance(value, bool):
        if isinstance(value, int) and INT_MIN <= value <= INT_MAX:
            return value
        if isinstance(value, str) and str not in kinds:
            return _integer(value)
    if isinstance(value, bool):
        return _INVALID
    if any(isinstance(value, k) for k in kinds if k not in (bool, int)):
        return value
    # Any number, as the schema says (`schema.NUMBER_AS_TEXT`): the JSON parser reads no
    # integer longer than str() can write (4,300 digits).
    if str in kinds and isinstance(value, int | float):
        return str(value)
    return _INVALID


def _integer(text: str) -> Any:
    if not INTEGER_TEXT.fullmatch(text):
        return _INVALID
    # Counted before int() reads it: int() refuses more than 4,300 digits with a ValueError.
    if len(text.strip().lstrip("+-").replace("_", "").lstrip("0")) > len(str(INT_MAX)):
        return _INVALID
    value = int(text)
    return value if INT_MIN <= value <= INT_MAX else _INVALID


def _holds_nul(value: Any) -> bool:
    """Whether a NUL is in this string, or in any key or string inside this object or array
    (walked without recursion: the body may nest as deep as the JSON parser allows)."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if NUL in item:
                return True
        elif isinstance(item, Mapping):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list | tuple):
            pending.extend(item)
    return False


def _check_string(value: str, param: Param, name: str) -> list[str]:
    if NUL in value:
        return [f"{name} {INVALID}"]
    if not param.allow_blank and not value.strip():
        return [f"{name} {EMPTY}"]
    if param.choices and value not in param.choices:
        return [f"{name} {NOT_VALID_VALUE}"]
    if param.max_length is not None and len(value) > param.max_length:
        return [f"{name} must be less than {param.max_length} characters"]
    return []


def _check_number(value: int, param: Param, name: str) -> list[str]:
    too_small = param.minimum is not None and value < param.minimum
    too_large = param.maximum is not None and value > param.maximum
    if too_small or too_large or (param.choices and value not in param.choices):
        return [f"{name} {NOT_VALID_VALUE}"]
    return []


def _check_array(items: list[Any], param: Param, name: str) -> tuple[list[Any], list[str]]:
    if not param.allow_blank and not items:
        return items, [f"{name} {EMPTY}"]
    if param.max_length is not None and len(items) > param.max_length:
        return items, [f"{name} must contain at most {param.max_length} items"]
    if param.items is None:  # a free-form array, stored as sent
        return items, [f"{name} {INVALID}"] if _holds_nul(items) else []
    values: list[Any] = []
    errors: list[str] = []
    for index, item in enumerate(items):
        value, problems = _check_value(item, param.items, _name(name, index))
        values.append(value)
        errors.extend(problems)
    return values, errors
