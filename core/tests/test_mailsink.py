"""The development mail sink: every message it receives is a file the outbox shows."""

import smtplib

from core.mailsink import MaildirHandler
from core.testing.smtp import SMTPTestServer


def test_mail_sink_stores_each_message_as_a_file(tmp_path):
    with SMTPTestServer(handler=MaildirHandler(tmp_path)) as server, smtplib.SMTP(server.host, server.port) as smtp:
        smtp.sendmail("a@x.test", ["b@y.test"], b"Subject: hi\r\n\r\nbody\r\n")
    files = list(tmp_path.glob("*.eml"))
    assert len(files) == 1
    assert b"Subject: hi" in files[0].read_bytes()
