"""Chat history in the admin: each question beside its answer, Markdown shown as it reads."""

import pytest
from django.test import Client

from chat.models import Message, Role, State

pytestmark = pytest.mark.django_db

HISTORY = "/admin/chat/message/"
ANSWER = """Use a list comprehension:

```python
def evens(numbers):
    return [n for n in numbers if n % 2 == 0]
```

<script>alert("x")</script> and **that** is all. [click](javascript:alert(1))
"""


@pytest.fixture
def admin(world) -> Client:
    world.alice.is_staff = world.alice.is_superuser = True
    world.alice.save()
    client = Client()
    client.force_login(world.alice)
    return client


def ask(user, question: str, answer: str | None) -> Message:
    asked = Message.objects.create(user=user, role=Role.USER, content=question)
    if answer is not None:
        Message.objects.create(
            user=user, role=Role.ASSISTANT, content=answer, question=asked, state=State.DONE
        )
    return asked


def test_the_history_lists_each_question_beside_its_answer_newest_first(admin, world):
    ask(world.bob, "How do I keep the even numbers?", ANSWER)
    ask(world.bob, "And the odd ones?", None)

    response = admin.get(HISTORY)

    rows = response.context["cl"].result_list
    assert [row.content for row in rows] == ["And the odd ones?", "How do I keep the even numbers?"]
    html = response.content.decode()
    assert '<td class="field-question_text">How do I keep the even numbers?</td>' in html
    # More than the 80 characters every answer was cut to.
    assert "return [n for n in numbers if n % 2 == 0]" in html
    assert '<td class="field-answer_text">-</td>' in html


def test_the_history_finds_a_question_by_words_of_its_answer(admin, world):
    ask(world.bob, "How do I keep the even numbers?", ANSWER)
    ask(world.bob, "Something else", "Unrelated")

    rows = admin.get(HISTORY, {"q": "comprehension"}).context["cl"].result_list

    assert [row.content for row in rows] == ["How do I keep the even numbers?"]


def test_a_conversation_page_renders_markdown_with_its_code_indented(admin, world):
    question = ask(world.bob, "How do I keep the **even** numbers?", ANSWER)

    html = admin.get(f"{HISTORY}{question.pk}/change/").content.decode()

    assert "How do I keep the <strong>even</strong> numbers?" in html
    assert (
        '<pre><code class="language-python">def evens(numbers):\n'
        "    return [n for n in numbers if n % 2 == 0]\n</code></pre>"
    ) in html
    assert "and <strong>that</strong> is all" in html
    # Raw HTML and script links stay text, never markup.
    assert "&lt;script&gt;alert(" in html
    assert '<script>alert("x")</script>' not in html
    assert 'href="javascript:' not in html
