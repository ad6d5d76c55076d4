"""Scale-out: 1, 2 and 3 clusters (one worker each) share one run.

    python bench/scale_out.py [--clients 20000] [--clusters 1 2 3] [--no-kill]

Real `manage.py qcluster` processes on PostgreSQL and Redis (DATABASE_URL and
REDIS_URL; by default mailsite_bench_scale and Redis db 13) send a run of N clients to
an aiosmtpd sink in its own process, which counts every recipient. Each
scenario starts once all its clusters are up and their pushers wait on Redis.

Reports, per scenario: msgs/s (first to last attempt), the share each cluster
sent, duplicates (messages the sink got more than once: 0 without kills).
Then a kill: two clusters, one dies (SIGSTOP, then SIGKILL) mid-run holding
claims; the time from its death to the survivor's first message to one of the
recipients it held, and the duplicates (at most one, its one worker). On a
2-core machine the speed-up is capped by the CPU; the shares and the recovery
are the point. Writes bench/results/scale_out.json.
"""

import argparse
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

from sendbench.sink import Sink  # bench/, this script's folder

BASE_DIR = Path(__file__).resolve().parent.parent
RESULTS = BASE_DIR / "bench" / "results" / "scale_out.json"
LOGS = BASE_DIR / "var" / "scale_out"
sys.path.insert(0, str(BASE_DIR))

# --- Django and the clusters --------------------------------------------------------------------


def setup_django():
    if "DATABASE_URL" not in os.environ:
        # The bench's own database, made on first use.
        name = "mailsite_bench_scale"
        found = subprocess.run(
            ["psql", "-h", "127.0.0.1", "-U", "postgres", "-tAc", f"SELECT 1 FROM pg_database WHERE datname='{name}'"],
            capture_output=True,
            text=True,
            check=True,
        )
        if found.stdout.strip() != "1":
            subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", name], check=True)
        os.environ["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{name}"
    os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/13")
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "mailsite.settings",
            "LOG_LEVEL": "WARNING",
            "AXES_ENABLED": "false",
            "DJANGO_DEBUG": "false",
        }
    )
    os.environ.setdefault("DJANGO_SECRET_KEY", secrets.token_urlsafe(64))
    os.environ.pop("EMAIL_URL", None)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)


def start_cluster(name, sink_port):
    env = {
        **os.environ,
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(sink_port),
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "Q_WORKERS": "1",
        "MAILINGS_NODE_NAME": name,
    }
    LOGS.mkdir(parents=True, exist_ok=True)
    with (LOGS / f"{name}.log").open("wb") as log:
        return subprocess.Popen(
            [sys.executable, "manage.py", "qcluster"],
            cwd=BASE_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def wait_ready(procs, timeout=120):
    """Each cluster's stat (by its main pid) idle with its worker, and a pusher per cluster waiting on Redis."""
    from django_q.brokers import get_broker
    from django_q.conf import Conf
    from django_q.status import Stat

    broker = get_broker()
    db = broker.connection.connection_pool.connection_kwargs.get("db", 0)
    deadline = time.monotonic() + timeout
    while True:
        stats = {s.pid: s for s in Stat.get_all(broker=broker)}
        up = all(p.pid in stats and stats[p.pid].status == Conf.IDLE and stats[p.pid].workers for p in procs)
        pushers = sum(1 for c in broker.connection.client_list() if c.get("cmd") == "blpop" and int(c["db"]) == db)
        if up and pushers >= len(procs):
            return
        for p in procs:
            assert p.poll() is None, f"a cluster exited, see {LOGS}"
        assert time.monotonic() < deadline, f"clusters not ready, see {LOGS}"
        time.sleep(0.1)


def stop_clusters(procs):
    for p in procs:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGTERM)
    for p in procs:
        try:
            p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait(timeout=10)


def make_mailing(n, label):
    from django.utils import timezone

    from accounts.models import User
    from mailings.models import Client, Mailing, Message

    owner = User.objects.create_user(email=f"scale-{label}-{secrets.token_hex(4)}@example.org", password="x" * 20)
    Client.objects.bulk_create((Client(owner=owner, email=f"c{i:06d}@example.org") for i in range(n)), batch_size=5000)
    message = Message.objects.create(owner=owner, subject="Scale-out", body="Hello from the scale-out benchmark.\n")
    start = timezone.now() - timedelta(minutes=1)
    mailing = Mailing.objects.create(owner=owner, message=message, start_at=start, end_at=start + timedelta(days=1))
    mailing.clients.set(Client.objects.filter(owner=owner))
    return mailing


def wait_finished(mailing, timeout=900):
    from mailings.models import Run, RunStatus

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = Run.objects.filter(mailing=mailing).first()
        if run is not None and run.status == RunStatus.FINISHED:
            return run
        time.sleep(0.5)
    raise SystemExit(f"the run did not finish in {timeout}s, see {LOGS}")


def shares_of(run):
    from django.db.models import Count, Max, Min

    from mailings.models import Attempt

    attempts = Attempt.objects.filter(run=run, status="success")
    span = attempts.aggregate(first=Min("attempted_at"), last=Max("attempted_at"))
    per_node = Counter()
    for sent_by, n in attempts.values_list("sent_by").annotate(n=Count("pk")).order_by():
        per_node[sent_by.split(":")[0]] += n
    seconds = (span["last"] - span["first"]).total_seconds()
    return per_node, seconds


def scenario(n_clusters, clients):
    from django_q.brokers import get_broker

    from mailings import engine

    get_broker().purge_queue()
    mailing = make_mailing(clients, f"{n_clusters}")
    sink = Sink("aiosmtpd")
    names = [f"c{i + 1}" for i in range(n_clusters)]
    procs = [start_cluster(name, sink.port) for name in names]
    try:
        wait_ready(procs)
        engine.replan_mailing(mailing)
        run = wait_finished(mailing)
    finally:
        stop_clusters(procs)
        received = {"messages": sink.stop(), "recipients": sink.recipients}
    per_node, seconds = shares_of(run)
    total = sum(per_node.values())
    return {
        "clusters": n_clusters,
        "messages": total,
        "seconds": round(seconds, 2),
        "msgs_per_s": round(total / seconds, 1),
        "shares": {name: round(per_node[name] / total, 3) for name in names},
        "duplicates": received["messages"] - received["recipients"],
        "lost": clients - received["recipients"],
    }


def kill_scenario(clients):
    """Two clusters; c1 dies mid-run while it holds claims (SIGSTOP: its death as the others see it, then SIGKILL)."""
    from django.utils import timezone
    from django_q.brokers import get_broker

    from mailings import engine
    from mailings.models import Attempt, Delivery, DeliveryState, Run

    get_broker().purge_queue()
    mailing = make_mailing(clients, "kill")
    sink = Sink("aiosmtpd")
    procs = [start_cluster(name, sink.port) for name in ("c1", "c2")]
    try:
        wait_ready(procs)
        engine.replan_mailing(mailing)
        while Attempt.objects.filter(mailing=mailing).count() < clients // 4:
            time.sleep(0.1)
        for _try in range(20):
            died = timezone.now()
            os.killpg(procs[0].pid, signal.SIGSTOP)
            time.sleep(3)  # the survivor refreshes its own claims every second
            held = list(
                Delivery.objects.filter(
                    run__mailing=mailing, state=DeliveryState.SENDING, claimed_at__lt=died
                ).values_list("client_id", flat=True)
            )
            if held:
                break
            os.killpg(procs[0].pid, signal.SIGCONT)
            time.sleep(0.3)
        os.killpg(procs[0].pid, signal.SIGKILL)
        procs[0].wait(timeout=10)
        run = wait_finished(mailing)
    finally:
        stop_clusters(procs)
        received = {"messages": sink.stop(), "recipients": sink.recipients}
    run = Run.objects.get(pk=run.pk)
    taken_up = (
        Attempt.objects.filter(run=run, client_id__in=held, sent_by__startswith="c2:")
        .order_by("attempted_at")
        .values_list("attempted_at", flat=True)
        .first()
    )
    per_node, _seconds = shares_of(run)
    return {
        "clusters": 2,
        "killed": "c1",
        "held_claims": len(held),
        "recovery_s": round((taken_up - died).total_seconds(), 1) if taken_up else None,
        "messages": sum(per_node.values()),
        "shares": {name: round(per_node[name] / sum(per_node.values()), 3) for name in ("c1", "c2")},
        "duplicates": received["messages"] - received["recipients"],
        "lost": clients - received["recipients"],
        "sent_count": run.sent_count,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=20000)
    parser.add_argument("--clusters", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--no-kill", action="store_true")
    args = parser.parse_args()
    setup_django()
    load = os.getloadavg()
    results = [scenario(k, args.clients) for k in args.clusters]
    kill = None if args.no_kill else kill_scenario(args.clients)
    print(f"\nScale-out: {args.clients} messages, one worker per cluster (load before: {load[0]:.2f})")
    print(f"{'clusters':>8} {'msgs/s':>8} {'seconds':>8} {'duplicates':>10}  shares")
    for r in results:
        shares = "  ".join(f"{k} {v:.0%}" for k, v in r["shares"].items())
        print(f"{r['clusters']:>8} {r['msgs_per_s']:>8} {r['seconds']:>8} {r['duplicates']:>10}  {shares}")
    if kill:
        print(
            f"kill -9 of c1 of 2 mid-run: survivor took its {kill['held_claims']} claimed recipients up after "
            f"{kill['recovery_s']} s; duplicates {kill['duplicates']}, lost {kill['lost']}, "
            f"shares {kill['shares']}"
        )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "date": time.strftime("%Y-%m-%d %H:%M"),
                "load_before": [round(x, 2) for x in load],
                "load_after": [round(x, 2) for x in os.getloadavg()],
                "cpus": os.cpu_count(),
                "clients": args.clients,
                "scenarios": results,
                "kill": kill,
            },
            indent=2,
        )
        + "\n"
    )
    print(f"wrote {RESULTS.relative_to(BASE_DIR)}")


if __name__ == "__main__":
    main()
