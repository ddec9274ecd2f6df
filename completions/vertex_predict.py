"""Vertex AI's code-model predict API, answered by the configured provider (docs/api.md).

A tool built for code-gecko, or Google's own SDK, can point at this service and get completions
from a self-hosted model. Parameters are checked as Vertex checks them, with Google's error body.
"""

from typing import Any

from rest_framework.exceptions import ParseError
from rest_framework.request import Request
from rest_framework.response import Response

from codesuggest.api import errors
from codesuggest.api.params import NUL
from codesuggest.providers import Candidate
from completions import openapi
from completions.params import parse_instances, parse_parameters
from completions.services import predict
from completions.usage import metered_request
from completions.views import CodeSuggestionsView

CODE_GENERATION_SCHEMA = (
    "gs://google-cloud-aiplatform/schema/predict/instance/code_generation_1.0.0.yaml"
)


def prediction_json(candidate: Candidate) -> openapi.Prediction:
    return openapi.Prediction(
        content=candidate.text,
        score=candidate.score if candidate.score is not None else 0.0,
        safetyAttributes=candidate.safety_attributes
        or {"blocked": False, "categories": [], "scores": []},
        citationMetadata=candidate.citation_metadata or {"citations": []},
    )


class PredictView(CodeSuggestionsView):
    @openapi.vertex_predict
    def post(self, request: Request, project: str, location: str, model: str) -> Response:
        body = self.body(request)
        if not isinstance(body, dict):
            raise errors.invalid_argument("The request body must be a JSON object.")
        instances = parse_instances(body.get("instances"))
        parameters = parse_parameters(body.get("parameters"))
        if NUL in project:  # names no project, and the database cannot look it up
            raise errors.invalid_argument(
                "Invalid resource name: the project holds a NUL character."
            )
        # A GitLab project path in the URL (acme%2Ftools, as GitLab encodes it) gates as
        # `project_path` does; a Google Cloud project id names nothing here and is ignored.
        with metered_request(
            user=self.user, project_path=project, endpoint="vertex_predict"
        ) as usage:
            predictions = predict(instances=instances, parameters=parameters)
            usage.describe_predictions(
                predictions, prompt_chars=sum(len(p) + len(s) for p, s in instances)
            )
        return Response(
            openapi.PredictResponse(
                predictions=[prediction_json(c) for c in predictions.candidates],
                deployedModelId="",
                model=f"projects/{project}/locations/{location}/models/{model}",
                modelDisplayName=model,
                metadata={"tokenMetadata": {}},
            )
        )

    def body(self, request: Request) -> Any:
        try:
            return super().body(request)
        except ParseError as exc:  # in Google's words and error body, as the SDK expects
            raise errors.invalid_argument(f"Invalid JSON payload received. {exc.detail}") from None


class PublisherModelView(CodeSuggestionsView):
    """The model description Google's SDK fetches before its first prediction."""

    @openapi.vertex_publisher_model
    def get(self, request: Request, model: str) -> Response:
        version = model.partition("@")[2] or "001"
        return Response(
            openapi.PublisherModel(
                name=f"publishers/google/models/{model}",
                versionId=version,
                openSourceCategory="PROPRIETARY",
                launchStage="GA",
                publisherModelTemplate=(
                    f"projects/{{user-project}}/locations/{{location}}/publishers/google/models/{model}"
                ),
                predictSchemata=openapi.PredictSchemata(
                    instanceSchemaUri=CODE_GENERATION_SCHEMA,
                    parametersSchemaUri="",
                    predictionSchemaUri="",
                ),
            )
        )
