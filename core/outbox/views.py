"""The development outbox: the mail the local sink received, newest first.

Mounted only when DEBUG is on (see mailsite/urls.py), and served only to
requests from this machine: it shows every verification and reset link."""

import ipaddress
import re
from email import policy
from email.parser import BytesParser
from functools import wraps
from pathlib import Path

from django.conf import settings
from django.http import Http404
from django.shortcuts import render
from django.utils.html import escape, format_html
from django.utils.safestring import mark_safe

NAME_RE = re.compile(r"^[\w.-]+\.eml$")
URL_RE = re.compile(r"(https?://[^\s<>\"']+)")


def loopback_only(view):
    """404 for any request not from the loopback address."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            local = ipaddress.ip_address(request.META.get("REMOTE_ADDR", "")).is_loopback
        except ValueError:
            local = False
        if not local:
            raise Http404("No such page")
        return view(request, *args, **kwargs)

    return wrapper


def _read(path: Path):
    with path.open("rb") as fh:
        return BytesParser(policy=policy.default).parse(fh)


def outbox_messages(limit=200):
    directory = Path(settings.MAIL_SINK_DIR)
    if not directory.exists():
        return []
    paths = sorted(directory.glob("*.eml"), reverse=True)[:limit]
    items = []
    for path in paths:
        msg = _read(path)
        items.append({"name": path.name, "to": msg["To"], "subject": msg["Subject"], "date": msg["Date"]})
    return items


def _linkify(text: str):
    parts = URL_RE.split(text)
    html = [format_html('<a href="{0}">{0}</a>', part) if i % 2 else escape(part) for i, part in enumerate(parts)]
    return mark_safe("".join(html))  # noqa: S308 - every part is escaped above


@loopback_only
def outbox_list(request):
    return render(request, "outbox/list.html", {"messages_in_sink": outbox_messages()})


@loopback_only
def outbox_detail(request, name):
    path = Path(settings.MAIL_SINK_DIR) / name
    if not NAME_RE.match(name) or not path.is_file():
        raise Http404("No such message")
    msg = _read(path)
    part = msg.get_body(preferencelist=("plain", "html"))
    body = part.get_content() if part is not None else ""
    return render(
        request,
        "outbox/detail.html",
        {"name": name, "headers": list(msg.items()), "body": _linkify(body)},
    )
