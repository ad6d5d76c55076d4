import re
from urllib.parse import urlsplit

from django.conf import settings

LINK_RE = re.compile(r"https?://\S+")


def body_of(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def links_in(message) -> list[str]:
    return LINK_RE.findall(body_of(message))


def link_in(message) -> str:
    """The one link of an email (it must point at SITE_URL), as a path for the test client."""
    links = links_in(message)
    assert len(links) == 1, links
    assert links[0].startswith(settings.SITE_URL + "/"), links[0]
    return urlsplit(links[0]).path


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]
