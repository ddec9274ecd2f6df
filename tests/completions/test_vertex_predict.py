"""The Vertex AI predict API served by this service, driven by Google's own SDK and by hand."""

import pytest

from tests.completions.conftest import completion_body
from tests.conftest import make_token

PREDICT = (
    "/v1/projects/my-project/locations/us-central1/publishers/google/models/code-gecko@002:predict"
)


def predict_body(**parameters):
    return {
        "instances": [{"prefix": "def add(a, b):\n    ", "suffix": "\n"}],
        "parameters": parameters,
    }


@pytest.mark.django_db(transaction=True)
def test_googles_sdk_gets_a_completion_from_this_service(live_server, upstream, world):
    import vertexai
    from google.oauth2.credentials import Credentials
    from vertexai.language_models import CodeGenerationModel

    upstream.completion_texts = ["return a + b"]
    token = make_token(world.bob, scopes=("ai_features",))
    vertexai.init(
        project="my-project",
        location="us-central1",
        api_endpoint=live_server.url,
        api_transport="rest",
        credentials=Credentials(token=token),
    )

    model = CodeGenerationModel.from_pretrained("code-gecko@002")
    response = model.predict(
        prefix="def add(a, b):\n    ", suffix="\n", max_output_tokens=32, temperature=0.0
    )

    assert response.text == "return a + b"
    sent = upstream.last.json
    assert sent["prompt"].endswith("def add(a, b):\n    ")
    assert sent["max_tokens"] == 32


def test_it_answers_with_vertexs_prediction_shape(api, upstream, bob_token):
    response = api.post(
        PREDICT,
        predict_body(candidateCount=2.0, maxOutputTokens=64.0),
        token=None,
        HTTP_AUTHORIZATION=f"Bearer {bob_token}",
    )

    assert response.status_code == 200
    predictions = response.json()["predictions"]
    assert len(predictions) == 2
    assert predictions[0]["content"] == "return a * b"
    assert predictions[0]["safetyAttributes"] == {"blocked": False, "categories": [], "scores": []}
    assert predictions[0]["citationMetadata"] == {"citations": []}
    assert upstream.last.json["n"] == 2


def test_every_parameter_reaches_the_model(api, upstream, bob_token):
    api.post(
        PREDICT,
        predict_body(
            temperature=0.5,
            maxOutputTokens=10,
            stopSequences=["\n\n"],
            seed=7,
            presencePenalty=0.5,
            frequencyPenalty=-0.5,
        ),
        HTTP_AUTHORIZATION=f"Bearer {bob_token}",
    )

    sent = upstream.last.json
    assert (sent["temperature"], sent["max_tokens"], sent["seed"]) == (0.5, 10, 7)
    assert "\n\n" in sent["stop"]
    assert (sent["presence_penalty"], sent["frequency_penalty"]) == (0.5, -0.5)


def test_echo_puts_the_prefix_before_the_content(api, upstream, bob_token):
    response = api.post(PREDICT, predict_body(echo=True), HTTP_AUTHORIZATION=f"Bearer {bob_token}")

    assert response.json()["predictions"][0]["content"] == "def add(a, b):\n    return a * b"


@pytest.mark.parametrize(
    ("parameters", "message"),
    [
        ({"temperature": 1.5}, "Parameter temperature must be between 0 and 1."),
        ({"maxOutputTokens": 65}, "Parameter maxOutputTokens must be between 1 and 64."),
        ({"maxOutputTokens": 10.5}, "Parameter maxOutputTokens must be an integer."),
        ({"candidateCount": 5}, "Parameter candidateCount must be between 1 and 4."),
        ({"logprobs": 6}, "Parameter logprobs must be between 0 and 5."),
        ({"presencePenalty": -2.5}, "Parameter presencePenalty must be between -2 and 2."),
        ({"frequencyPenalty": 3}, "Parameter frequencyPenalty must be between -2 and 2."),
        ({"stopSequences": "x"}, "Parameter stopSequences must be a list of strings."),
        ({"echo": "yes"}, "Parameter echo must be a boolean."),
        ({"temperature": "hot"}, "Parameter temperature must be a number."),
    ],
)
def test_out_of_range_parameters_get_googles_error(api, upstream, bob_token, parameters, message):
    response = api.post(
        PREDICT, predict_body(**parameters), HTTP_AUTHORIZATION=f"Bearer {bob_token}"
    )

    assert response.status_code == 400
    assert response.json() == {
        "error": {"code": 400, "message": message, "status": "INVALID_ARGUMENT"}
    }
    assert upstream.requests == []


def test_an_instance_without_a_prefix_is_invalid(api, upstream, bob_token):
    response = api.post(
        PREDICT, {"instances": [{"suffix": "x"}]}, HTTP_AUTHORIZATION=f"Bearer {bob_token}"
    )

    assert response.status_code == 400
    assert response.json()["error"]["status"] == "INVALID_ARGUMENT"


def test_it_needs_a_credential(api, upstream):
    response = api.post(PREDICT, predict_body())

    assert response.status_code == 401


def test_it_shares_the_completions_rate_limit(api, upstream, settings, bob_token):
    settings.CODE_SUGGESTIONS_RATE_LIMIT = 2
    api.post("/api/v4/code_suggestions/completions", completion_body(), token=bob_token)
    api.post(PREDICT, predict_body(), HTTP_AUTHORIZATION=f"Bearer {bob_token}")

    response = api.post(PREDICT, predict_body(), HTTP_AUTHORIZATION=f"Bearer {bob_token}")

    assert response.status_code == 429


def test_a_gitlab_project_path_in_the_url_gates_like_project_path(api, upstream, world, bob_token):
    for namespace in (world.project, world.group, world.subgroup):
        namespace.code_suggestions = False
        namespace.save()
    path = PREDICT.replace("my-project", "acme%2Fplatform%2Ftools")

    response = api.post(path, predict_body(), HTTP_AUTHORIZATION=f"Bearer {bob_token}")

    assert response.status_code == 403


def test_the_model_description_names_the_code_generation_schema(api, bob_token):
    response = api.get(
        "/v1/publishers/google/models/code-gecko@002", HTTP_AUTHORIZATION=f"Bearer {bob_token}"
    )

    assert response.status_code == 200
    assert response.json()["predictSchemata"]["instanceSchemaUri"].endswith(
        "code_generation_1.0.0.yaml"
    )


@pytest.mark.parametrize(
    "path",
    [
        "/v1/projects/a%0Ab/locations/us-central1/publishers/google/models/code-gecko:predict",
        "/v1/projects/p/locations/l/publishers/google/models/m:explain",
        "/v1/anything",
    ],
)
def test_a_path_under_vertex_that_names_no_route_is_a_json_404(api, bob_token, path):
    # Found by schemathesis: Django's HTML page came back here.
    response = api.post(path, predict_body(), token=bob_token)

    assert response.status_code == 404
    assert response.json() == {"message": "404 Not Found"}
