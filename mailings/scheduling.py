"""When mailings are due. Filled in by the sending-engine issue.

Contract used by the services: `mailing_changed(mailing)` is called (after the
transaction commits) whenever a mailing is created, edited, enabled or
disabled; it recomputes `next_run_at` and status and starts a run at once if
the mailing is due now.
"""


def mailing_changed(mailing) -> None:
    """Recompute the schedule of one mailing (see the sending-engine issue)."""
