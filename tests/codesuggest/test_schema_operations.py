"""More of what codesuggest/api/schema.py makes of a view (beside test_schema_descriptions.py):
an operation keeps the words its view gives it, an array of objects names its items' component
after the field, and a parameter it cannot describe stops the schema with the field's name
rather than describing it wrongly. The views are described while the test runs."""

import pytest
from django.urls import path
from drf_spectacular.generators import SchemaGenerator
from rest_framework.response import Response

from codesuggest.api.params import Param
from codesuggest.api.schema import api_schema, request_serializer
from codesuggest.api.views import ApiView


def described(view: type[ApiView]) -> dict:
    return SchemaGenerator(patterns=[path("probe", view.as_view())]).get_schema(public=True)


def test_an_operation_keeps_the_summary_description_and_tags_its_view_gives():
    class Probe(ApiView):
        @api_schema(
            responses={200: None},
            summary="Probe the service",
            description="Answers 200 when it is up.",
            tags=["probes"],
            operation_id="probe_it",
        )
        def get(self, request):
            return Response()

    operation = described(Probe)["paths"]["/probe"]["get"]

    assert operation["summary"] == "Probe the service"
    assert operation["description"] == "Answers 200 when it is up."
    assert operation["tags"] == ["probes"]
    assert operation["operationId"] == "probe_it"


def test_the_objects_of_an_array_are_a_component_named_after_the_field():
    body = request_serializer(
        "Probe",
        {"context": Param(list, items=Param(dict, fields={"name": Param(str, required=True)}))},
    )

    class Probe(ApiView):
        @api_schema(request=body, responses={200: None})
        def post(self, request):
            return Response()

    schemas = described(Probe)["components"]["schemas"]

    assert schemas["Probe"]["properties"]["context"]["items"] == {
        "$ref": "#/components/schemas/ProbeContext"
    }
    assert schemas["ProbeContext"]["required"] == ["name"]


@pytest.mark.parametrize("kind", [float, (str, bool), bytes])
def test_a_parameter_it_cannot_describe_is_refused_by_name(kind):
    with pytest.raises(TypeError) as refused:
        request_serializer("Probe", {"ratio": Param(kind)})

    assert str(refused.value) == f"ProbeRatio: no OpenAPI description for {kind}"
