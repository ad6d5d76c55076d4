"""How fast Mailsite sends, against this machine's limit and against a peer.

    python bench/send_throughput.py [--clients 10000] [--repeats 5] [--db sqlite|postgres|both]
                                    [--sync on|off|both] [--sink smtp-sink|aiosmtpd] [--quick]

(needs `pip install -r bench/requirements.txt` for the peer; `make bench-send` does it.)

Every contender sends to one sink in its own process (Postfix's smtp-sink when
installed, so the sink never limits the measurement; aiosmtpd otherwise):

  (a)   a bare smtplib loop over one reused connection: the machine's limit,
        messages of the size of the engine's email; (a2) the same over two
        connections in two processes (faster than (a) when the sink is not the limit);
  (b)   a fair naive Django loop: one connection opened once, an EmailMultiAlternatives
        (the engine's text and HTML) per client, one Attempt saved by the ORM per client;
  (c1/c2) Mailsite's engine (send_run_inline, the public API the workers run) in
        1 and 2 worker processes, on a plain-text message, with its default
        MAILINGS_SMTP_CONNECTIONS (4); (c1s) 1 worker with 1 SMTP connection;
  (peer1/peer2) django-post-office 3.12: the same text and HTML queued with send_many
        (its queueing rate reported apart), sent by its send_queued_mail loop with
        1 and 2 processes (its default 5 threads each, BATCH_SIZE 1000);
  (a') and (d1/d2): a personalised Markdown message (placeholders, HTML and
        text parts) against a bare loop of the same size.

Each database mode (SQLite; PostgreSQL with synchronous_commit on, then off,
set on the database for every contender alike, the engine's
MAILINGS_ASYNC_COMMIT following it) gets a fresh database and runs the
contenders interleaved, --repeats rounds of a, a2, b, c1, c2, c1s, peer1, peer2,
a', d1, d2, with the load average before and after each round. Prints the
median and min–max per contender, ratios to the median of (a), engine/peer
ratios, and writes every sample to bench/results/send_throughput.json.
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
sys.path.insert(0, str(BASE_DIR / "bench"))

from sendbench import report, runtime, sink  # noqa: E402
from sendbench.rounds import CONTENDERS  # noqa: E402

RESULTS = BASE_DIR / "bench" / "results" / "send_throughput.json"
DEFAULT_PG = "postgres://postgres@127.0.0.1:5432/mailsite_bench"


def postgres_url():
    url = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("DATABASE_URL", "")
    return url if url.startswith(("postgres://", "postgresql://")) else DEFAULT_PG


def fresh_postgres(url):
    """Drops and creates the bench's own database (only one named *bench*)."""
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if "bench" not in name:
        raise SystemExit(f"refusing to recreate {name!r}: the bench's database name must contain 'bench'")
    admin = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def fresh_sqlite(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return f"sqlite:///{path}"


def modes(args):
    if args.db in ("sqlite", "both"):
        yield "SQLite", fresh_sqlite(args.sqlite_path), None, "n/a"
    if args.db in ("postgres", "both"):
        url = postgres_url()
        for sync in ("on", "off") if args.sync == "both" else (args.sync,):
            fresh_postgres(url)
            yield f"PostgreSQL, synchronous_commit {sync}", url, sync == "off", sync


def run_mode(args, mode, port, sink_pid):
    name, url, async_commit, sync = mode
    print(f"\n{name}: {args.repeats} rounds of {', '.join(args.contenders)}", file=sys.stderr, flush=True)
    env = {**os.environ, **runtime.bench_env(port, url, async_commit)}
    command = [
        sys.executable,
        __file__,
        "--role=mode",
        f"--port={port}",
        f"--sink-pid={sink_pid}",
        f"--mode-name={name}",
        f"--sync-mode={sync}",
        f"--clients={args.clients}",
        f"--repeats={args.repeats}",
        f"--naive-limit={args.naive_limit}",
        f"--contenders={','.join(args.contenders)}",
    ]
    out = subprocess.run(command, env=env, stdout=subprocess.PIPE, text=True, check=True).stdout
    return report.summarise(json.loads(out.strip().splitlines()[-1]))


def machine():
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"nproc": os.cpu_count(), "cpu": model, "python": platform.python_version(), "system": platform.platform()}


def main(args):
    started = time.time()
    results = {
        "date": datetime.now(tz=UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "load_at_start": os.getloadavg(),
        "sink": args.sink,
        "clients": args.clients,
        "repeats": args.repeats,
        "command": " ".join(sys.argv),
        "modes": [],
    }
    the_sink = sink.Sink(args.sink)
    try:
        for mode in modes(args):
            results["modes"].append(run_mode(args, mode, the_sink.port, the_sink.proc.pid))
    finally:
        received = the_sink.stop()
    sent = sum(s["sent"] for mode in results["modes"] for samples in mode["samples"].values() for s in samples)
    results.update(
        sink_received=received, sent_total=sent, load_at_end=os.getloadavg(), seconds=round(time.time() - started)
    )
    m = results["machine"]
    print(f"\n{results['date']}, {m['nproc']} CPUs ({m['cpu']}), sink {args.sink}, `{results['command']}`")
    for mode in results["modes"]:
        print()
        print(report.table(mode))
    print(f"\nthe sink received {received:,} of {sent:,} messages sent; {results['seconds']} s in all")
    out = args.out or (RESULTS.with_name("send_throughput_quick.json") if args.quick else RESULTS)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"written to {out}")
    if received != sent:
        raise SystemExit("the sink's count differs from the messages sent")


def parse(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int)
    parser.add_argument("--repeats", type=int)
    parser.add_argument("--naive-limit", type=int, default=2000, help="clients for (b) (default 2000)")
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--sync", choices=("on", "off", "both"), default="both", help="PostgreSQL synchronous_commit")
    parser.add_argument("--sink", choices=("smtp-sink", "aiosmtpd"), default=sink.default_kind())
    parser.add_argument("--quick", action="store_true", help="1,000 clients, 2 rounds: a short check")
    parser.add_argument("--contenders", default=",".join(key for key, _l, _b in CONTENDERS))
    parser.add_argument("--sqlite-path", type=Path, default=BASE_DIR / "var" / "bench-send.sqlite3")
    parser.add_argument("--out", type=Path, help="the JSON file (default bench/results/send_throughput.json)")
    # The bench's own processes.
    hidden = argparse.SUPPRESS
    parser.add_argument("--role", choices=("worker", "peer", "mode"), help=hidden)
    parser.add_argument("--port", type=int, help=hidden)
    parser.add_argument("--run", type=int, help=hidden)
    parser.add_argument("--sink-pid", type=int, help=hidden)
    parser.add_argument("--processes", type=int, help=hidden)
    parser.add_argument("--lockfile", help=hidden)
    parser.add_argument("--mode-name", help=hidden)
    parser.add_argument("--sync-mode", help=hidden)
    args = parser.parse_args(argv)
    args.clients = args.clients or (1000 if args.quick else 10000)
    args.repeats = args.repeats or (2 if args.quick else 5)
    args.contenders = [key.strip() for key in args.contenders.split(",") if key.strip()]
    unknown = set(args.contenders) - {key for key, _l, _b in CONTENDERS}
    if unknown:
        parser.error(f"unknown contenders: {', '.join(sorted(unknown))}")
    return args


if __name__ == "__main__":
    ARGS = parse()
    if ARGS.role == "worker":
        runtime.setup_django()
        runtime.engine_worker(ARGS.run)
    elif ARGS.role == "peer":
        runtime.setup_django()
        runtime.peer_sender(ARGS.processes, ARGS.lockfile)
    elif ARGS.role == "mode":
        runtime.setup_django()
        from sendbench import rounds

        rounds.main(ARGS, ARGS.port, dict(os.environ))
    else:
        main(ARGS)
