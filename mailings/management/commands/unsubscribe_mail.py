"""Read one email on standard input and apply the unsubscribe request it carries.

The mailto in List-Unsubscribe is unsubscribe@<sending domain> with the
recipient's signed token in the subject. Point that address at this command,
for example with a Postfix alias:

    unsubscribe: "|/srv/mailsite/.venv/bin/python /srv/mailsite/manage.py unsubscribe_mail"
"""

import re
import sys
from email import message_from_binary_file, policy

from django.core.management.base import BaseCommand

from mailings import subscriptions
from mailings.models import UnsubscribeSource

TOKEN = re.compile(r"\b(\d+\.\d+\.[\w-]+)")


class Command(BaseCommand):
    help = "Unsubscribe the recipient named by the token in an emailed unsubscribe request (stdin)."

    def handle(self, *args, **options):
        mail = message_from_binary_file(sys.stdin.buffer, policy=policy.default)
        match = TOKEN.search(str(mail.get("Subject", "")))
        if not match:
            self.stdout.write("no unsubscribe token in the subject")
            return
        try:
            scope = subscriptions.read_token(match.group(1))
        except subscriptions.BadTokenError:
            self.stdout.write("bad unsubscribe token")
            return
        client = None if scope.is_test else subscriptions.client_for_token(scope)
        if client is None:
            self.stdout.write("nobody to unsubscribe")
            return
        subscriptions.client_unsubscribe(client=client, source=UnsubscribeSource.EMAIL)
        self.stdout.write(f"unsubscribed client {client.pk}")
