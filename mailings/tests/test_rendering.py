"""Message bodies: Markdown, sanitising, placeholders, the text part."""

import pytest

from mailings.models import BodyFormat
from mailings.rendering import CompiledMessage, PlaceholderError, Recipient, validate_placeholders

BODY = (
    '# Hello, {{ first_name|default:"friend" }}!\n\n'
    "Your address: **{{ email }}**.\n\n[Our site](https://shop.example/?who={{ full_name }})"
)


def render(body=BODY, body_format=BodyFormat.MARKDOWN, **recipient):
    compiled = CompiledMessage(subject="News", body=body, body_format=body_format, sender_name="Acme")
    person = {"email": "ann@example.org", "full_name": "Ann Lee", "unsubscribe_url": "https://s.example/u/1/"}
    return compiled.render(Recipient(**{**person, **recipient}))


def test_markdown_becomes_html_inside_the_layout_and_stays_readable_as_text():
    text, html = render()
    assert "<h1>Hello, Ann!</h1>" in html
    assert "<strong>ann@example.org</strong>" in html
    assert 'href="https://shop.example/?who=Ann Lee"' in html
    assert "Acme" in html
    assert 'href="https://s.example/u/1/"' in html
    assert text.startswith("# Hello, Ann!")
    assert "https://s.example/u/1/" in text


def test_an_empty_value_takes_the_default_and_each_recipient_gets_their_own():
    compiled = CompiledMessage(subject="S", body=BODY, body_format=BodyFormat.MARKDOWN)
    first = compiled.render(Recipient(email="a@example.org", full_name=""))
    second = compiled.render(Recipient(email="b@example.org", full_name="Bob Stone"))
    assert "Hello, friend!" in first[1]
    assert "Hello, Bob!" in second[1]
    assert "a@example.org" not in second[0] + second[1]


def test_a_clients_name_cannot_inject_html_template_code_or_a_script_link():
    text, html = render(full_name='<img src=x onerror=alert(1)> {{ email }} {% now "Y" %}')
    assert "<img src=x" not in html
    assert "Hello, &lt;img!" in html
    assert "{{ email }}" in text  # inserted as text, never expanded again
    assert '{% now "Y" %}' in text
    _text, html = render(body="[x]({{ full_name }})", full_name="javascript:alert(1)")
    assert 'href="javascript:' not in html
    assert 'href="javascript%3Aalert%281%29"' in html


def test_raw_html_and_unsafe_links_in_the_markdown_are_neutralised():
    _text, html = render(body='<script>alert(1)</script>\n\n[x](javascript:alert(1)) <b onclick="x">b</b>')
    assert "<script>" not in html
    assert "<b onclick" not in html
    assert 'href="javascript' not in html


def test_a_plain_text_message_is_escaped_into_paragraphs():
    text, html = render(body="Line one\nLine <two>\n\nHi {{ full_name }}", body_format=BodyFormat.TEXT)
    assert "<p>Line one<br>Line &lt;two&gt;</p>" in html
    assert "<p>Hi Ann Lee</p>" in html
    assert text.startswith("Line one\nLine <two>\n\nHi Ann Lee")


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ("Hi {{ nickname }}", "Unknown placeholder “nickname”"),
        ("Hi {{ full_name|upper }}", "is not a placeholder"),
        ("Hi {{ full_name", "not closed"),
        ("Hi {{ email }} }}", "not closed"),
    ],
)
def test_a_placeholder_that_cannot_be_filled_is_an_error(body, problem):
    with pytest.raises(PlaceholderError) as exc:
        validate_placeholders(body)
    assert any(problem in p for p in exc.value.problems)


def test_template_syntax_is_just_text():
    validate_placeholders('{% load static %} {{ email }} {{ full_name|default:"you" }}')
    text, _html = render(body="{% if x %}yes{% endif %}")
    assert "{% if x %}yes{% endif %}" in text
