"""What the completions endpoints accept: checked by the views, described by `openapi.py`."""

import math
from typing import Any

from codesuggest.api import errors
from codesuggest.api.params import Param
from projects.models import FULL_PATH_MAX_LENGTH

MAX_FILE_CHARS = 400_000

CONTEXT_ITEM = Param(
    dict,
    fields={
        "type": Param(str, required=True, choices=("file", "snippet")),
        "name": Param(str, required=True, allow_blank=False, max_length=255),
        "content": Param(str, required=True, allow_blank=False),
    },
)

COMPLETION_PARAMS = {
    "current_file": Param(
        dict,
        required=True,
        fields={
            "file_name": Param(str, required=True, max_length=255),
            "content_above_cursor": Param(str, required=True, max_length=MAX_FILE_CHARS),
            "content_below_cursor": Param(str, max_length=MAX_FILE_CHARS, default=""),
        },
    ),
    "intent": Param(str, choices=("completion", "generation")),
    "stream": Param(bool, default=False),
    "project_path": Param(str, max_length=FULL_PATH_MAX_LENGTH),
    "generation_type": Param(str, choices=("comment", "empty_function", "small_file")),
    "user_instruction": Param(str),
    "context": Param(list, allow_blank=False, items=CONTEXT_ITEM),
    "choices_count": Param(int, minimum=1, maximum=4, default=1),
}

# The AI gateway's body, which the language server sends to direct access's `base_url`: the same
# fields, and the gateway's own. Its `prompt` (a prompt GitLab built, with prompt versions 2 and
# 3), `telemetry` and model choice are accepted and ignored: this service builds its own prompt
# for the model it is configured with.
GATEWAY_COMPLETION_PARAMS = {
    **COMPLETION_PARAMS,
    "prompt_version": Param(int, choices=(1, 2, 3), default=1),
    "project_id": Param(int),
    "model_provider": Param(str),
    "model_name": Param(str),
}

# Editors' telemetry about the suggestions they showed (`/usage_data/track_event(s)`). GitLab
# tracks many other internal events; only the code-suggestion ones mean anything here.
SUGGESTION_EVENTS = (
    "code_suggestion_shown_in_ide",
    "code_suggestion_accepted_in_ide",
    "code_suggestion_rejected_in_ide",
)
MAX_TRACKED_EVENTS = 50  # GitLab's limit for one batch
MAX_PROPERTIES_BYTES = 4096  # additional_properties as JSON; editors send about 200

TRACK_EVENT_PARAMS = {
    "event": Param(str, required=True, choices=SUGGESTION_EVENTS),
    "namespace_id": Param(int),
    "project_id": Param(int),
    "send_to_snowplow": Param(bool),
    # Any other property is accepted and stored, within MAX_PROPERTIES_BYTES.
    "additional_properties": Param(
        dict,
        fields={
            "unique_tracking_id": Param(str, max_length=128),
            "language": Param(str, max_length=64),
            "suggestion_size": Param(int, minimum=0, maximum=2**31 - 1),
            "timestamp": Param(str, max_length=64),
        },
    ),
}

TRACK_EVENTS_PARAMS = {
    "events": Param(
        list,
        required=True,
        allow_blank=False,
        max_length=MAX_TRACKED_EVENTS,
        items=Param(dict, fields=TRACK_EVENT_PARAMS),
    ),
}

# Vertex AI's predict API, checked below with Google's errors (completions/vertex_predict.py).
MAX_INSTANCES = 5

# name: (type, minimum, maximum)
NUMBER_PARAMETERS: dict[str, tuple[type, float, float]] = {
    "temperature": (float, 0.0, 1.0),
    "maxOutputTokens": (int, 1, 64),
    "candidateCount": (int, 1, 4),
    "logprobs": (int, 0, 5),
    "presencePenalty": (float, -2.0, 2.0),
    "frequencyPenalty": (float, -2.0, 2.0),
    "seed": (int, -(2**63), 2**63 - 1),
}


# Vertex AI's predict body: checked as Vertex checks it, answered in Google's words.


def _number(name: str, value: Any) -> int | float:
    kind, low, high = NUMBER_PARAMETERS[name]
    # Google's SDK sends every number as a JSON float (64.0); an integral float is an integer.
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise errors.invalid_argument(f"Parameter {name} must be a number.")
    if kind is int:
        if value != int(value):
            raise errors.invalid_argument(f"Parameter {name} must be an integer.")
        value = int(value)
    if not low <= value <= high:
        raise errors.invalid_argument(f"Parameter {name} must be between {low:g} and {high:g}.")
    return value


def parse_parameters(parameters: Any) -> dict[str, Any]:
    if parameters is None:
        return {}
    if not isinstance(parameters, dict):
        raise errors.invalid_argument("parameters must be an object.")
    parsed: dict[str, Any] = {}
    for name, value in parameters.items():
        if name in NUMBER_PARAMETERS:
            parsed[name] = _number(name, value)
        elif name == "stopSequences":
            if not isinstance(value, list) or not all(isinstance(s, str) for s in value):
                raise errors.invalid_argument("Parameter stopSequences must be a list of strings.")
            parsed[name] = tuple(value)
        elif name == "echo":
            if not isinstance(value, bool):
                raise errors.invalid_argument("Parameter echo must be a boolean.")
            parsed[name] = value
        else:
            raise errors.invalid_argument(f"Unknown parameter {name}.")
    return parsed


def parse_instances(instances: Any) -> list[tuple[str, str]]:
    if not isinstance(instances, list) or not instances:
        raise errors.invalid_argument("instances must be a non-empty list.")
    if len(instances) > MAX_INSTANCES:
        raise errors.invalid_argument(f"At most {MAX_INSTANCES} instances are allowed.")
    parsed = []
    for index, instance in enumerate(instances):
        prefix = instance.get("prefix") if isinstance(instance, dict) else None
        suffix = instance.get("suffix", "") if isinstance(instance, dict) else None
        if not isinstance(prefix, str):
            raise errors.invalid_argument(
                f"instances[{index}].prefix is required and must be a string."
            )
        if not isinstance(suffix, str):
            raise errors.invalid_argument(f"instances[{index}].suffix must be a string.")
        parsed.append((prefix, suffix))
    return parsed
