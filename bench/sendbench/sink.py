"""The SMTP sink every contender sends to, in its own process: Postfix's
smtp-sink (C, event driven: never the bottleneck) or an aiosmtpd one."""

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SMTP_SINK = shutil.which("smtp-sink") or shutil.which("smtp-sink", path="/usr/sbin:/usr/lib/postfix/sbin")


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def default_kind():
    return "smtp-sink" if SMTP_SINK else "aiosmtpd"


def run_aiosmtpd(port):
    """The aiosmtpd sink's process (`python sink.py PORT`): offers PIPELINING, as
    Postfix does; prints `ready`, then on SIGTERM the messages and the distinct
    recipients it received, as JSON."""
    from collections import Counter

    from aiosmtpd.controller import Controller

    received = Counter()

    class Counting:
        async def handle_EHLO(self, server, session, envelope, hostname, responses):  # noqa: N802 - aiosmtpd hook
            session.host_name = hostname
            return [responses[0], "250-PIPELINING", *responses[1:]]

        async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd hook
            received.update(envelope.rcpt_tos)
            return "250 OK"

    stop = {signal.SIGTERM, signal.SIGINT}
    signal.pthread_sigmask(signal.SIG_BLOCK, stop)  # sigwait needs them blocked (also in the server thread)
    controller = Controller(Counting(), hostname="127.0.0.1", port=port)
    controller.start()
    print("ready", flush=True)
    signal.sigwait(stop)
    controller.stop()
    print(json.dumps({"messages": sum(received.values()), "recipients": len(received)}), flush=True)


def cpu_seconds(pid):
    """CPU time (user + system) a process has used so far, from /proc/<pid>/stat."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, ValueError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Sink:
    def __init__(self, kind):
        self.kind = kind
        self.port = free_port()
        self.recipients = None  # distinct recipients received (aiosmtpd only), after stop()
        if kind == "smtp-sink":
            if not SMTP_SINK:
                raise SystemExit("smtp-sink not found: apt-get install postfix, or --sink aiosmtpd")
            # -c: a running count of messages on stdout, into a file (a pipe nobody
            # reads would fill and stall the sink); 1024: the listen backlog.
            self.log = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 - closed in stop()
            self.proc = subprocess.Popen(
                [SMTP_SINK, "-u", "nobody", "-c", f"127.0.0.1:{self.port}", "1024"],
                stdout=self.log,
                stderr=subprocess.STDOUT,
                text=True,
            )
            self._wait_listening()
        else:
            self.proc = subprocess.Popen(
                [sys.executable, __file__, str(self.port)],
                stdout=subprocess.PIPE,
                text=True,
            )
            assert self.proc.stdout.readline().strip() == "ready"

    def _wait_listening(self):
        for _ in range(100):
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), timeout=1):
                return
            time.sleep(0.05)
        raise SystemExit("smtp-sink did not start")

    def stop(self) -> int:
        """Stops the sink; the number of messages it received."""
        self.proc.send_signal(signal.SIGTERM)
        out, _ = self.proc.communicate(timeout=30)
        if self.kind == "smtp-sink":
            self.log.seek(0)
            out = self.log.read()
            self.log.close()
            counts = re.findall(r"mesg=(\d+)", out)
            return int(counts[-1]) if counts else 0
        received = json.loads(out.strip().splitlines()[-1])
        self.recipients = received["recipients"]
        return received["messages"]


if __name__ == "__main__":
    run_aiosmtpd(int(sys.argv[1]))
