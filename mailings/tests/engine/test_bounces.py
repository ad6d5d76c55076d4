"""Which permanent replies are hard bounces (engine/bounces.py)."""

import pytest

from mailings.engine.bounces import is_hard_bounce


@pytest.mark.parametrize(
    ("code", "reply", "hard"),
    [
        (550, "RCPT: 550 5.1.1 No such user here", True),
        (550, "RCPT: 550 5.1.10 Recipient address rejected: null MX", True),
        (553, "RCPT: 553 5.1.3 Bad recipient address syntax", True),
        (550, "RCPT: 550 User unknown in virtual mailbox table", True),
        (554, "DATA: 554 5.7.1 Message rejected as spam", False),
        (552, "DATA: 552 5.2.2 Mailbox full", False),
        (550, "RCPT: 550 5.7.1 Relaying denied", False),
        (451, "RCPT: 451 4.1.1 Mailbox temporarily unavailable", False),
        (None, "connect: refused", False),
    ],
)
def test_only_a_permanent_no_such_mailbox_is_a_hard_bounce(code, reply, hard):
    assert is_hard_bounce(code, reply) is hard
