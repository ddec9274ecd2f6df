"""A chat model server that answers 200 with garbage, the wrong shape, a cut stream or nothing:
the client hears of a failure, the stream ends with an error event, and no empty or partial
answer is kept in the history."""

import pytest

from chat.models import Message
from tests.chat.conftest import ask, history, read_events
from tests.fake_servers import Reply, sse

pytestmark = pytest.mark.django_db(transaction=True)

DELTA = {"choices": [{"index": 0, "delta": {"content": "Use "}}]}
FINISHED = {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}

BROKEN = {
    "an HTML page": (
        Reply(chunks=["<html><body>502 Bad Gateway</body></html>\n"]),
        "The openai model server sent a stream that is not Server-Sent Events",
    ),
    "an event of the wrong shape": (
        Reply(chunks=sse({"object": "chat.completion.chunk", "text": "x"})),
        "The openai model server sent an unexpected stream event",
    ),
    "a stream cut mid-answer": (
        Reply(chunks=sse(DELTA), cut_off=True),
        "The openai model server broke off the stream",
    ),
    "an empty answer": (
        Reply(chunks=[*sse(FINISHED), "data: [DONE]\n\n"]),
        "The chat model returned an empty answer",
    ),
}


@pytest.mark.parametrize(("reply", "message"), BROKEN.values(), ids=BROKEN.keys())
def test_a_broken_stream_fails_the_question_and_tells_its_reader(
    api, tokens, world, chat_model, reply, message
):
    chat_model.script(reply)

    response = ask(api, tokens["alice"], "Hello?", client_subscription_id="sub-1")

    assert response.status_code == 503
    assert response.json() == {"message": message}
    events = list(read_events(api.get("/api/v4/chat/subscriptions/sub-1", token=tokens["alice"])))
    assert events[-1][0] == "error"
    assert events[-1][1]["message"] == message
    assert "done" not in [event for event, _ in events]
    assert history(world.alice) == [("user", "Hello?")]
    assert Message.objects.get(user=world.alice).state == "failed"


@pytest.mark.parametrize(
    "reply",
    [Reply(body="<html>502</html>"), Reply(json={"choices": [{"message": {"content": ""}}]})],
    ids=["not JSON", "an empty answer"],
)
def test_a_broken_whole_answer_fails_the_question(api, tokens, world, chat_model, reply):
    chat_model.script(reply)

    response = ask(api, tokens["alice"], "Hello?")

    assert response.status_code == 503
    assert history(world.alice) == [("user", "Hello?")]
    assert Message.objects.get(user=world.alice).state == "failed"
