"""The history as clients read it back (`chat.services.chat_records`, behind GraphQL's
aiMessages and the REST history)."""

import pytest

from chat.models import Message, Role
from chat.services import chat_records

pytestmark = pytest.mark.django_db


def test_a_request_id_that_is_no_uuid_does_not_hide_the_ones_after_it(world):
    question = Message.objects.create(user=world.alice, role=Role.USER, content="Hi?")

    records = chat_records(
        user=world.alice, request_ids=["not-a-uuid", str(question.request_id)], roles=None
    )

    assert [record.content for record in records] == ["Hi?"]
