"""Settings and parameters that change what a model is asked reach it, through the API."""

import pytest

from tests.completions.test_local_engine_endpoint import complete, local_engine  # noqa: F401
from tests.completions.test_vertex_predict import PREDICT, predict_body


@pytest.mark.usefixtures("local_engine")
@pytest.mark.parametrize(("threshold", "answered"), [(0.0, True), (1.0, False)])
def test_the_local_engines_confidence_threshold_decides_what_it_answers(
    api, settings, bob_token, threshold, answered
):
    # The same request; only the setting differs. No suggestion is ever fully certain, so at 1.0
    # the engine keeps quiet, and at 0 it says what it has.
    settings.LOCAL_ENGINE_MIN_CONFIDENCE = threshold

    choices = complete(api, bob_token)["choices"]

    assert bool(choices) is answered


def test_vertex_logprobs_reach_the_model(api, settings, vertex_server, bob_token):
    settings.COMPLETIONS_PROVIDER = "vertex"
    settings.COMPLETIONS_MODEL = "code-gecko@002"
    settings.COMPLETIONS_TIMEOUT = 2.0
    settings.VERTEX_API_ENDPOINT = vertex_server.url
    settings.VERTEX_PROJECT = "acme"

    response = api.post(PREDICT, predict_body(logprobs=3), HTTP_AUTHORIZATION=f"Bearer {bob_token}")

    assert response.status_code == 200
    # Google's SDK sends every number as a protobuf Value: a JSON float.
    assert vertex_server.last.json["parameters"]["logprobs"] == 3.0
