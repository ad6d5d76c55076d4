"""One database mode (role `mode`): a fresh database, the data, then the
contenders interleaved round after round; prints its samples as JSON."""

import json
import os
import sys
import time

from sendbench import contenders as c
from sendbench.sink import cpu_seconds

# (key, label, baseline key): the order of one round.
CONTENDERS = (
    ("a", "(a) bare smtplib, 1 connection", "a"),
    ("a2", "(a2) bare smtplib, 2 connections", "a"),
    ("b", "(b) naive Django loop + Attempt", "a"),
    ("c1", "(c1) engine, 1 worker", "a"),
    ("c2", "(c2) engine, 2 workers", "a"),
    ("c1s", "(c1s) engine, 1 worker, 1 SMTP connection", "a"),
    ("peer1", "(peer1) post_office, 1 process", "a"),
    ("peer2", "(peer2) post_office, 2 processes", "a"),
    ("a_p", "(a') bare smtplib, personalised size", "a_p"),
    ("d1", "(d1) engine, 1 worker, personalised", "a_p"),
    ("d2", "(d2) engine, 2 workers, personalised", "a_p"),
)


def log(text):
    print(text, file=sys.stderr, flush=True)


def prepare_database(sync):
    from django.core.management import call_command
    from django.db import connection

    # The cache table first: nothing in migrate may find it missing on a fresh database.
    call_command("createcachetable", verbosity=0)
    call_command("migrate", verbosity=0)
    if connection.vendor != "postgresql":
        return None
    # For every session of every contender alike (new connections pick it up).
    name = connection.settings_dict["NAME"]
    with connection.cursor() as cursor:
        cursor.execute(f'ALTER DATABASE "{name}" SET synchronous_commit TO {sync}')
    connection.close()
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        return cursor.fetchone()[0]


def run_mode(args, port, env):
    from django.conf import settings

    started = time.time()
    sync_commit = prepare_database(args.sync_mode)
    n = args.clients
    owner, plain, personal = c.make_data(n)
    content = {"plain": c.Content(owner, plain), "personal": c.Content(owner, personal)}
    emails = [f"client{i:07d}@example.org" for i in range(n)]
    naive_n = min(args.naive_limit, n)
    wanted = [key for key, _label, _base in CONTENDERS if key in args.contenders]
    samples = {key: [] for key in wanted}
    rounds = []
    run_sample = {
        "a": lambda: c.bare(port, emails, content["plain"].size),
        "a2": lambda: c.bare(port, emails, content["plain"].size, connections=2),
        "b": lambda: c.naive(owner, plain, content["plain"], naive_n),
        "c1": lambda: c.engine(owner, plain, 1, env),
        "c2": lambda: c.engine(owner, plain, 2, env),
        # MAILINGS_SMTP_CONNECTIONS=1: at most one message a worker (not a connection) repeats after a crash.
        "c1s": lambda: c.engine(owner, plain, 1, {**env, "MAILINGS_SMTP_CONNECTIONS": "1"}),
        "peer1": lambda: c.peer(content["plain"], emails, 1, env),
        "peer2": lambda: c.peer(content["plain"], emails, 2, env),
        "a_p": lambda: c.bare(port, emails, content["personal"].size),
        "d1": lambda: c.engine(owner, personal, 1, env),
        "d2": lambda: c.engine(owner, personal, 2, env),
    }
    for number in range(1, args.repeats + 1):
        load_before = os.getloadavg()
        line = []
        for key in wanted:
            sink_cpu = cpu_seconds(args.sink_pid)
            sample = run_sample[key]()
            if sink_cpu is not None:
                # The sink's share of a core while this contender ran: far below 1, it was not the limit.
                sample["sink_cpu_share"] = round((cpu_seconds(args.sink_pid) - sink_cpu) / sample["seconds"], 3)
            sample["round"] = number
            sample["msgs_per_s"] = sample["sent"] / sample["seconds"]
            samples[key].append(sample)
            line.append(f"{key} {sample['msgs_per_s']:.0f}")
        load_after = os.getloadavg()
        rounds.append({"round": number, "load_before": load_before, "load_after": load_after})
        log(f"  round {number}/{args.repeats}: {', '.join(line)}  (load {load_before[0]:.2f} -> {load_after[0]:.2f})")
    sizes = {
        "engine_plain": content["plain"].size,
        "engine_personalised": content["personal"].size,
        "naive": c.naive_size(content["plain"]),
    }
    if "post_office" in settings.INSTALLED_APPS and {"peer1", "peer2"} & set(wanted):
        sizes["peer"] = c.peer_size()
    return {
        "mode": args.mode_name,
        "database": settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1],
        "synchronous_commit": sync_commit,
        "mailings_async_commit": settings.MAILINGS_ASYNC_COMMIT,
        "cache": settings.CACHES["default"]["BACKEND"],
        "clients": n,
        "naive_clients": naive_n,
        "bytes": sizes,
        "render_us_per_message": {kind: round(item.render_us, 1) for kind, item in content.items()},
        "rounds": rounds,
        "samples": samples,
        "seconds_total": round(time.time() - started, 1),
    }


def main(args, port, env):
    result = run_mode(args, port, env)
    print(json.dumps(result), flush=True)
