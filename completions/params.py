"""What the completions endpoints accept: checked by the views, described by `openapi.py`."""

from codesuggest.api.params import Param

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
    "project_path": Param(str),
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

# Vertex AI's predict API, checked by `completions.vertex` with Google's errors.
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
