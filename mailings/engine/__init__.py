"""The sending engine: the one public API that tasks, views, services,
management commands and account emails call. Nothing outside this package
imports its modules.

Modules, each one concern; dependencies run one way, down this list:
  backoff, slots, transport, message, journal (+ journal_pg), wakeup, stopping   (leaves; message builds the
             multipart email with mailings.rendering, dkim_signing signs it)
  suppression, bounces   who is left out of a run and why (models only)
  sample     a test message to the owner (uses message, transport)
  schedule   next_run_at, status, django-q2 wake-ups (uses slots)
  fleet      live workers of every cluster, chunk tasks a run keeps in flight (uses wakeup)
  claims     which chunk may send which delivery; heartbeats keep a live process's claims
  runs       start, stop, defer, finish, retry a run (uses schedule, backoff, suppression)
  chunks     send a claimed chunk in rounds over SMTP connections (uses runs, claims, journal, transport, message,
             bounces, limits, pauses)
  turns      a chunk task's turn: claim after claim over the same connections (uses chunks, claims, runs)
  relay      a chunk task: take a turn, then enqueue the next (uses turns, claims, fleet)
  sweeper    stale claims, idle workers, deferred and stalled runs (uses runs, claims, fleet)
  limits     site-wide rate limits and daily quotas shared by every worker (Redis or the database)
  pauses     pause and resume runs; quota pauses that come due (uses runs, claims)
  control    the owner's pause, resume and cancel (uses pauses, runs, schedule)
  dispatch   the minute dispatcher and re-planning after a change (uses runs, schedule, sweeper, pauses)
"""

from mailings.engine.backoff import backoff
from mailings.engine.chunks import ChunkResult
from mailings.engine.claims import claim, claimable
from mailings.engine.claims import drop as drop_claim
from mailings.engine.claims import keep as keep_claim
from mailings.engine.claims import refresh as refresh_claims
from mailings.engine.control import cancel_mailing, pause_mailing, resume_mailing
from mailings.engine.dispatch import dispatch_due, dispatch_mailing, replan_mailing, replan_owner_mailings
from mailings.engine.limits import (
    QUOTA,
    RATE,
    DatabaseLimiter,
    Limit,
    RedisLimiter,
    get_limiter,
    purge_expired,
    quota_limit,
    quota_usage,
    site_limits,
)
from mailings.engine.limits import take as take_limits
from mailings.engine.message import MailBuilder, site_domain
from mailings.engine.pauses import pause_runs, resume_due_pauses, resume_run
from mailings.engine.relay import send_chunk
from mailings.engine.runs import (
    retry_failed,
    snapshot_recipients,
    start_due_run,
    stop_reason_for,
    stop_runs_if_not_runnable,
)
from mailings.engine.sample import send_sample
from mailings.engine.schedule import (
    DISPATCH_SCHEDULE,
    due_mailings,
    ensure_dispatch_schedule,
    is_runnable,
    mailing_deleted,
    reschedule,
    wakeup_name,
)
from mailings.engine.slots import latest_slot, next_slot_after, slot
from mailings.engine.stopping import GracefulSentinel, stop_requested, task_finished, task_starting, worker_started
from mailings.engine.sweeper import resume_deferred, settle_stale_claims, sweep
from mailings.engine.transport import (
    NETWORK_ERRORS,
    Fault,
    Outcome,
    SMTPTransport,
    classify_reply,
    get_transport,
    send_one,
)
from mailings.engine.turns import send_run_inline
from mailings.engine.wakeup import BROKER_ERRORS, enqueue

__all__ = [
    "BROKER_ERRORS",
    "DISPATCH_SCHEDULE",
    "NETWORK_ERRORS",
    "QUOTA",
    "RATE",
    "ChunkResult",
    "DatabaseLimiter",
    "Fault",
    "GracefulSentinel",
    "Limit",
    "MailBuilder",
    "Outcome",
    "RedisLimiter",
    "SMTPTransport",
    "backoff",
    "cancel_mailing",
    "claim",
    "claimable",
    "classify_reply",
    "dispatch_due",
    "dispatch_mailing",
    "drop_claim",
    "due_mailings",
    "enqueue",
    "ensure_dispatch_schedule",
    "get_limiter",
    "get_transport",
    "is_runnable",
    "keep_claim",
    "latest_slot",
    "mailing_deleted",
    "next_slot_after",
    "pause_mailing",
    "pause_runs",
    "purge_expired",
    "quota_limit",
    "quota_usage",
    "refresh_claims",
    "replan_mailing",
    "replan_owner_mailings",
    "reschedule",
    "resume_deferred",
    "resume_due_pauses",
    "resume_mailing",
    "resume_run",
    "retry_failed",
    "send_chunk",
    "send_one",
    "send_run_inline",
    "send_sample",
    "settle_stale_claims",
    "site_domain",
    "site_limits",
    "slot",
    "snapshot_recipients",
    "start_due_run",
    "stop_reason_for",
    "stop_requested",
    "stop_runs_if_not_runnable",
    "sweep",
    "take_limits",
    "task_finished",
    "task_starting",
    "wakeup_name",
    "worker_started",
]
