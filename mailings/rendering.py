"""A message's body as email: Markdown to sanitised HTML in the email layout,
a plain-text part, and placeholders filled in per recipient.

Placeholders: `{{ full_name }}`, `{{ first_name }}`, `{{ email }}`, each with an
optional default for an empty value: `{{ first_name|default:"friend" }}`.
The body is never template code: placeholders are found with one regular
expression, and a client's values are only ever inserted as escaped text.

`CompiledMessage` does the expensive work once per message (Markdown, the
sanitiser, the layout) and leaves slots where the placeholders and the
recipient's unsubscribe link go; `render()` per recipient only joins strings.
"""

import html
import re
import secrets
from dataclasses import dataclass
from urllib.parse import quote

import nh3
from django.core.exceptions import ValidationError
from django.template.defaultfilters import linebreaks_filter
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from markdown_it import MarkdownIt

from mailings.models import BodyFormat

FIELDS = {
    "full_name": gettext_lazy("the client's full name"),
    "first_name": gettext_lazy("the first word of the client's full name"),
    "email": gettext_lazy("the client's email address"),
}
PLACEHOLDER = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
PLACEHOLDER_BODY = re.compile(r'^\s*([A-Za-z_]+)\s*(?:\|\s*default\s*:\s*"([^"{}\r\n]*)"\s*)?$')
MAX_DEFAULT = 100

# What Markdown may produce and the sanitiser keeps; raw HTML in the source is escaped by the parser.
ALLOWED_TAGS = {
    "a", "b", "blockquote", "br", "code", "del", "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i",
    "img", "li", "ol", "p", "pre", "s", "strong", "table", "tbody", "td", "th", "thead", "tr", "ul",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "title", "width", "height"}}
URL_SCHEMES = {"http", "https", "mailto"}

_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable(
    ["table", "strikethrough"]
)


class PlaceholderError(ValueError):
    """A body with placeholders that cannot be filled in; `problems` lists each."""

    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True, slots=True)
class Placeholder:
    field: str
    default: str = ""


@dataclass(frozen=True, slots=True)
class Recipient:
    email: str
    full_name: str = ""
    unsubscribe_url: str = ""

    def value(self, placeholder: Placeholder) -> str:
        if placeholder.field == "full_name":
            value = " ".join(self.full_name.split())
        elif placeholder.field == "first_name":
            value = (self.full_name.split() or [""])[0]
        else:
            value = self.email
        return value or placeholder.default


def parse_placeholder(inner: str) -> Placeholder:
    match = PLACEHOLDER_BODY.match(inner)
    if not match:
        raise PlaceholderError(
            [_("“{{%(text)s}}” is not a placeholder; write it like {{ full_name }}.") % {"text": inner[:40]}]
        )
    name, default = match.group(1), match.group(2) or ""
    if name not in FIELDS:
        raise PlaceholderError(
            [_("Unknown placeholder “%(name)s”; use one of: %(fields)s.") % {"name": name, "fields": ", ".join(FIELDS)}]
        )
    if len(default) > MAX_DEFAULT:
        raise PlaceholderError([_("A placeholder's default is at most %(n)s characters.") % {"n": MAX_DEFAULT}])
    return Placeholder(name, default)


def validate_placeholders(text: str) -> None:
    """Raise PlaceholderError listing every placeholder that cannot be filled in."""
    problems = []
    for match in PLACEHOLDER.finditer(text or ""):
        try:
            parse_placeholder(match.group(1))
        except PlaceholderError as exc:
            problems.extend(p for p in exc.problems if p not in problems)
    if "{{" in PLACEHOLDER.sub("", text or "") or "}}" in PLACEHOLDER.sub("", text or ""):
        problems.append(_("A placeholder is not closed: write it like {{ full_name }}."))
    if problems:
        raise PlaceholderError(problems)


def check_subject(subject: str) -> str:
    """A subject is one line without placeholders (forms and the API); raises ValidationError."""
    # A line break in a header would start a new header (and Django refuses to send it).
    if "\r" in subject or "\n" in subject:
        raise ValidationError(_("The subject must be a single line."), code="line_break")
    if "{{" in subject:
        raise ValidationError(_("Placeholders work in the body only."), code="placeholder")
    return subject


def check_body(body: str) -> str:
    """Every placeholder of a body is known and well formed; raises ValidationError."""
    try:
        validate_placeholders(body)
    except PlaceholderError as exc:
        raise ValidationError([ValidationError(p, code="placeholder") for p in exc.problems]) from exc
    return body


def markdown_to_html(text: str) -> str:
    return nh3.clean(
        _markdown.render(text),
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer",
    )


class _Slots:
    """Unique alphanumeric markers that stand for placeholders while the body
    goes through Markdown, the sanitiser and the layout untouched."""

    UNSUBSCRIBE = "unsubscribe"

    def __init__(self):
        self.nonce = "zq" + secrets.token_hex(6)
        self.kinds: dict[str, Placeholder | str] = {}

    def marker(self, kind) -> str:
        key = f"{self.nonce}x{len(self.kinds)}x"
        self.kinds[key] = kind
        return key

    def replace_placeholders(self, text: str) -> str:
        def sub(match):
            try:
                return self.marker(parse_placeholder(match.group(1)))
            except PlaceholderError:
                return match.group(0)  # saved before validation existed: sent as written

        return PLACEHOLDER.sub(sub, text)

    def split(self, text: str, *, markup: bool) -> tuple:
        """Literal strings and (kind, in_attribute) slots, alternating."""
        if not self.kinds:
            return (text,)
        pattern = re.compile("|".join(re.escape(k) for k in self.kinds))
        parts, pos = [], 0
        for match in pattern.finditer(text):
            parts.append(text[pos : match.start()])
            before = text[: match.start()]
            in_attribute = markup and before.rfind("<") > before.rfind(">")
            parts.append((self.kinds[match.group(0)], in_attribute))
            pos = match.end()
        parts.append(text[pos:])
        return tuple(parts)


def _fill(parts: tuple, recipient: Recipient, *, markup: bool) -> str:
    out = []
    for i, part in enumerate(parts):
        if i % 2 == 0:
            out.append(part)
            continue
        kind, in_attribute = part
        value = recipient.unsubscribe_url if kind == _Slots.UNSUBSCRIBE else recipient.value(kind)
        if in_attribute and kind != _Slots.UNSUBSCRIBE:
            # A client's value in a link can never become a scheme such as javascript:.
            value = quote(value, safe="@ ")
        out.append(html.escape(value, quote=True) if markup else value)
    return "".join(out)


class CompiledMessage:
    """One message rendered once; `render(recipient)` gives its text and HTML."""

    def __init__(self, *, subject: str, body: str, body_format: str, sender_name: str = ""):
        self.subject = subject
        slots = _Slots()
        source = slots.replace_placeholders((body or "").replace("\r\n", "\n"))
        unsubscribe = slots.marker(_Slots.UNSUBSCRIBE)
        if body_format == BodyFormat.MARKDOWN:
            content = markdown_to_html(source)
        else:
            content = linebreaks_filter(source, autoescape=True)
        context = {
            "subject": subject,
            "sender_name": sender_name,
            "content": mark_safe(content),  # noqa: S308 - sanitised by nh3 or escaped by linebreaks
            "unsubscribe_url": unsubscribe,
        }
        page = render_to_string("mailings/email/layout.html", context)
        footer = render_to_string("mailings/email/footer.txt", context)
        text = source.strip() + "\n\n-- \n" + footer.strip() + "\n"
        self.html_parts = slots.split(page, markup=True)
        self.text_parts = slots.split(text, markup=False)

    def render(self, recipient: Recipient) -> tuple[str, str]:
        """(text, html) for one recipient."""
        return _fill(self.text_parts, recipient, markup=False), _fill(self.html_parts, recipient, markup=True)
