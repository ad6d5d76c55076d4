"""Hard bounces: a permanent reply that says the mailbox does not exist.

One such reply counts once per run; on the second run the client is marked
bounced and suppressed like an unsubscribed one, until the owner clears it.
Temporary failures (4xx, a slow or broken server) never count."""

import re
from collections.abc import Iterable

from django.db.models import F, Q
from django.utils import timezone

from mailings.models import Client

BOUNCES_TO_SUPPRESS = 2
# RFC 3463 enhanced status codes for a bad address: 5.1.1 bad mailbox, 5.1.2 bad
# domain, 5.1.3 bad syntax, 5.1.6 mailbox moved, 5.1.10 null MX.
ENHANCED = re.compile(r"\b5\.1\.(?:0|1|2|3|6|10)\b")
WORDING = re.compile(
    r"user unknown|unknown user|no such (?:user|mailbox|recipient)|mailbox (?:not found|unavailable|does not exist)"
    r"|does not exist|recipient address rejected|invalid recipient",
    re.IGNORECASE,
)


def is_hard_bounce(code: int | None, reply: str) -> bool:
    """A 5xx reply that names the address as the problem."""
    if not code or not 500 <= code < 600:
        return False
    return bool(ENHANCED.search(reply) or (code in (550, 553) and WORDING.search(reply)))


def record_hard_bounces(run_id: int, bounces: Iterable[tuple[int, str]]) -> int:
    """Count (client_id, reply) hard bounces of a run; returns how many clients became bounced."""
    bounces = {client_id: reply for client_id, reply in bounces if client_id}
    if not bounces:
        return 0
    ids = list(bounces)
    Client.objects.filter(pk__in=ids).filter(~Q(last_bounce_run_id=run_id) | Q(last_bounce_run_id__isnull=True)).update(
        hard_bounces=F("hard_bounces") + 1, last_bounce_run_id=run_id
    )
    newly = list(
        Client.objects.filter(pk__in=ids, bounced_at__isnull=True, hard_bounces__gte=BOUNCES_TO_SUPPRESS).values_list(
            "pk", flat=True
        )
    )
    now = timezone.now()
    for client_id in newly:
        Client.objects.filter(pk=client_id, bounced_at__isnull=True).update(
            bounced_at=now, bounce_reply=bounces[client_id][:500]
        )
    return len(newly)
