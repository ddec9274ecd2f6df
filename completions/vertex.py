"""Vertex AI's code-model predict API (seed 004), answered by the configured provider.

A tool built for code-gecko, or Google's own SDK, can point at this service and get completions
from a self-hosted model. Parameters are checked as Vertex checks them, with Google's error body.
"""

import math
import time
from typing import Any

from rest_framework.exceptions import ParseError
from rest_framework.request import Request
from rest_framework.response import Response

from codesuggest.api.errors import ApiError
from codesuggest.api.params import NUL
from codesuggest.api.ratelimit import enforce_code_suggestions_rate_limit
from codesuggest.features import provider_config
from codesuggest.providers import Candidate, CompletionRequest, model_name, provider_for
from completions import openapi
from completions.params import MAX_INSTANCES, NUMBER_PARAMETERS
from completions.usage import tracked_usage
from completions.views import CodeSuggestionsView
from projects.access import project_gating_code_suggestions

CODE_GENERATION_SCHEMA = (
    "gs://google-cloud-aiplatform/schema/predict/instance/code_generation_1.0.0.yaml"
)


def invalid_argument(message: str) -> ApiError:
    return ApiError(400, {"error": {"code": 400, "message": message, "status": "INVALID_ARGUMENT"}})


def _number(name: str, value: Any) -> int | float:
    kind, low, high = NUMBER_PARAMETERS[name]
    # Google's SDK sends every number as a JSON float (64.0); an integral float is an integer.
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise invalid_argument(f"Parameter {name} must be a number.")
    if kind is int:
        if value != int(value):
            raise invalid_argument(f"Parameter {name} must be an integer.")
        value = int(value)
    if not low <= value <= high:
        raise invalid_argument(f"Parameter {name} must be between {low:g} and {high:g}.")
    return value


def parse_parameters(parameters: Any) -> dict[str, Any]:
    if parameters is None:
        return {}
    if not isinstance(parameters, dict):
        raise invalid_argument("parameters must be an object.")
    parsed: dict[str, Any] = {}
    for name, value in parameters.items():
        if name in NUMBER_PARAMETERS:
            parsed[name] = _number(name, value)
        elif name == "stopSequences":
            if not isinstance(value, list) or not all(isinstance(s, str) for s in value):
                raise invalid_argument("Parameter stopSequences must be a list of strings.")
            parsed[name] = tuple(value)
        elif name == "echo":
            if not isinstance(value, bool):
                raise invalid_argument("Parameter echo must be a boolean.")
            parsed[name] = value
        else:
            raise invalid_argument(f"Unknown parameter {name}.")
    return parsed


def parse_instances(instances: Any) -> list[tuple[str, str]]:
    if not isinstance(instances, list) or not instances:
        raise invalid_argument("instances must be a non-empty list.")
    if len(instances) > MAX_INSTANCES:
        raise invalid_argument(f"At most {MAX_INSTANCES} instances are allowed.")
    parsed = []
    for index, instance in enumerate(instances):
        prefix = instance.get("prefix") if isinstance(instance, dict) else None
        suffix = instance.get("suffix", "") if isinstance(instance, dict) else None
        if not isinstance(prefix, str):
            raise invalid_argument(f"instances[{index}].prefix is required and must be a string.")
        if not isinstance(suffix, str):
            raise invalid_argument(f"instances[{index}].suffix must be a string.")
        parsed.append((prefix, suffix))
    return parsed


def completion_request(prefix: str, suffix: str, parameters: dict[str, Any]) -> CompletionRequest:
    return CompletionRequest(
        prefix=prefix,
        suffix=suffix,
        max_tokens=parameters.get("maxOutputTokens", 64),
        temperature=parameters.get("temperature", 0.2),
        candidates=parameters.get("candidateCount", 1),
        stop=parameters.get("stopSequences", ()),
        seed=parameters.get("seed"),
        logprobs=parameters.get("logprobs"),
        presence_penalty=parameters.get("presencePenalty"),
        frequency_penalty=parameters.get("frequencyPenalty"),
        echo=parameters.get("echo", False),
    )


def prediction_json(candidate: Candidate, prefix: str, echo: bool) -> dict[str, Any]:
    return {
        "content": prefix + candidate.text if echo else candidate.text,
        "score": candidate.score if candidate.score is not None else 0.0,
        "safetyAttributes": candidate.safety_attributes
        or {"blocked": False, "categories": [], "scores": []},
        "citationMetadata": candidate.citation_metadata or {"citations": []},
    }


class PredictView(CodeSuggestionsView):
    @openapi.vertex_predict
    def post(self, request: Request, project: str, location: str, model: str) -> Response:
        body = self.body(request)
        if not isinstance(body, dict):
            raise invalid_argument("The request body must be a JSON object.")
        instances = parse_instances(body.get("instances"))
        parameters = parse_parameters(body.get("parameters"))
        if NUL in project:  # names no project, and the database cannot look it up
            raise invalid_argument("Invalid resource name: the project holds a NUL character.")
        # A GitLab project path in the URL (acme%2Ftools, as GitLab encodes it) gates as
        # `project_path` does; a Google Cloud project id names nothing here and is ignored.
        gated = project_gating_code_suggestions(self.user, project)
        config = provider_config("completions")
        provider = provider_for(config)
        predictions = []
        with tracked_usage(user=self.user, project=gated, endpoint="vertex_predict") as usage:
            usage.fields.update(provider=config.provider, model=model_name(config))
            # Inside, so that a refused request is counted (429) as well.
            enforce_code_suggestions_rate_limit(self.user.pk)
            started = time.perf_counter()
            for prefix, suffix in instances:
                candidates = provider.complete(completion_request(prefix, suffix, parameters))
                predictions += [
                    prediction_json(candidate, prefix, parameters.get("echo", False))
                    for candidate in candidates
                    if not candidate.safety_attributes.get("blocked")
                ]
            usage.fields.update(
                upstream_ms=round((time.perf_counter() - started) * 1000),
                prompt_chars=sum(len(p) + len(s) for p, s in instances),
                suggestion_chars=sum(len(p["content"]) for p in predictions),
                choices=len(predictions),
            )
        return Response(
            {
                "predictions": predictions,
                "deployedModelId": "",
                "model": f"projects/{project}/locations/{location}/models/{model}",
                "modelDisplayName": model,
                "metadata": {"tokenMetadata": {}},
            }
        )

    def body(self, request: Request) -> Any:
        try:
            return super().body(request)
        except ParseError as exc:  # in Google's words and error body, as the SDK expects
            raise invalid_argument(f"Invalid JSON payload received. {exc.detail}") from None


class PublisherModelView(CodeSuggestionsView):
    """The model description Google's SDK fetches before its first prediction."""

    @openapi.vertex_publisher_model
    def get(self, request: Request, model: str) -> Response:
        version = model.partition("@")[2] or "001"
        return Response(
            {
                "name": f"publishers/google/models/{model}",
                "versionId": version,
                "openSourceCategory": "PROPRIETARY",
                "launchStage": "GA",
                "publisherModelTemplate": (
                    f"projects/{{user-project}}/locations/{{location}}/publishers/google/models/{model}"
                ),
                "predictSchemata": {
                    "instanceSchemaUri": CODE_GENERATION_SCHEMA,
                    "parametersSchemaUri": "",
                    "predictionSchemaUri": "",
                },
            }
        )
