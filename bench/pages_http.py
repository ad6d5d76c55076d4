"""Pages over HTTP, as production serves them: gunicorn (2 sync workers, DEBUG
off, whitenoise, collected static files) on a database with the demo content,
driven by wrk (Debian's `wrk`; a Python load generator if it is missing) at 8
connections: the home page, an article, the blog index and a bare Django view
(`/bench/trivial/`, served only by the bench's URLconf) in the same run, with
the database cache and with Redis.

Reports requests per second (median and min-max of the repeats), p50 and p99
latency, the ratio to the bare view (each repeat's page over the same repeat's
bare view; median and min-max), and what one warm request costs (SQL
queries, cache calls, counted by bench/pages_http_settings.py). Prints a table
and writes bench/results/pages_http[-<label>].json.

    .venv/bin/python bench/pages_http.py [--repeats 10] [--duration 4] [--root OTHER_CHECKOUT] [--label before]

PostgreSQL (DATABASE_URL, default a fresh mailsite_bench_pages) and Redis
(BENCH_REDIS_URL, default redis://127.0.0.1:6379/14, flushed) must be running.
"""

import argparse
import json
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
PG = "postgres://postgres@127.0.0.1:5432"
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def site_env(root: Path, tmp: Path, database_url: str, redis_url: str) -> dict:
    env = {
        **os.environ,
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(64),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "STATIC_ROOT": str(tmp / "static"),
        "MEDIA_ROOT": str(tmp / "media"),
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": f"{root}{os.pathsep}{BENCH}",
        "DJANGO_SETTINGS_MODULE": "pages_http_settings",
    }
    env.pop("EMAIL_URL", None)
    return env


def manage(root: Path, env: dict, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=root, env=env, capture_output=True, text=True, check=False
    )
    if result.returncode:
        raise SystemExit(f"manage.py {' '.join(args)} failed:\n{result.stderr[-3000:]}")
    return result.stdout


def prepare(root: Path, tmp: Path, database_url: str) -> str:
    """Migrations, cache table, demo content and static files; returns an article's URL."""
    env = site_env(root, tmp, database_url, "")
    for args in (["migrate", "--noinput", "-v0"], ["createcachetable"], ["load_demo"]):
        manage(root, env, *args)
    manage(root, env, "collectstatic", "--noinput", "-v0")
    code = (
        "from blog.models import BlogPage; "
        "print(BlogPage.objects.live().filter(locale__language_code='en').order_by('id').first().url)"
    )
    return manage(root, env, "shell", "-c", code).strip().splitlines()[-1]


class Site:
    def __init__(self, root: Path, env: dict, log: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        cmd = [
            str(Path(sys.executable).parent / "gunicorn"),
            "mailsite.wsgi",
            "--workers=2",
            f"--bind=127.0.0.1:{self.port}",
        ]
        self.log = log
        with log.open("wb") as out:
            self.proc = subprocess.Popen(
                cmd, cwd=root, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        deadline = time.monotonic() + 60
        while True:
            try:
                self.get("/bench/trivial/")
                return
            except OSError:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    self.stop()
                    raise SystemExit(log.read_text()[-3000:]) from None
                time.sleep(0.3)

    def get(self, path: str, headers: dict | None = None):
        request = urllib.request.Request(self.url + path, headers=headers or {})
        with urllib.request.urlopen(request, timeout=10) as response:
            response.read()
            return response

    def stop(self):
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1, "s": 1000, "m": 60000}[unit]


def run_wrk(url: str, connections: int, duration: int) -> dict:
    out = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--latency", url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    latency = dict(re.findall(r"^\s+(50|99)%\s+(\S+)", out, re.MULTILINE))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p50_ms": _ms(latency["50"]),
        "p99_ms": _ms(latency["99"]),
        "errors": int(errors.group(1)) if errors else 0,
    }


def run_python(url: str, connections: int, duration: int) -> dict:
    """A fallback load generator: `connections` threads, each with one keep-alive connection."""
    import http.client
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    latencies: list[float] = []
    errors = [0]
    stop_at = time.perf_counter() + duration

    def worker():
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        while time.perf_counter() < stop_at:
            started = time.perf_counter()
            conn.request("GET", parts.path)
            response = conn.getresponse()
            response.read()
            latencies.append(1000 * (time.perf_counter() - started))
            if response.status >= 400:
                errors[0] += 1

    threads = [threading.Thread(target=worker) for _ in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    latencies.sort()
    return {
        "rps": round(len(latencies) / duration, 2),
        "p50_ms": round(latencies[len(latencies) // 2], 2),
        "p99_ms": round(latencies[int(len(latencies) * 0.99)], 2),
        "errors": errors[0],
    }


def warm_costs(site: Site, pages: dict) -> dict:
    """What one warm request costs: after requests in parallel, so that both
    workers hold the page (sequential ones may all go to one worker)."""
    costs = {}
    for name, path in pages.items():
        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(lambda _i, path=path: site.get(path), range(40)))
        response = site.get(path, {"X-Bench-Count": "1"})
        costs[name] = {
            "queries": int(response.headers["X-Bench-Queries"]),
            "cache_calls": int(response.headers["X-Bench-Cache-Calls"]),
            "cache_detail": response.headers["X-Bench-Cache-Detail"],
            "sql_detail": response.headers["X-Bench-Sql-Detail"],
        }
    return costs


def summary(values: list[float]) -> dict:
    return {"median": round(statistics.median(values), 2), "min": min(values), "max": max(values)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    # Many short repeats: a shared machine's slow spells last seconds to minutes.
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--duration", type=int, default=4)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--root", default=str(ROOT), help="the checkout whose code is served")
    parser.add_argument("--label", default="")
    parser.add_argument("--caches", default="database,redis")
    args = parser.parse_args()
    root = Path(args.root).resolve()
    tmp = Path(tempfile.mkdtemp(prefix="mailsite-pages-http-"))
    database_url = os.environ.get("DATABASE_URL", "")
    if not database_url:
        subprocess.run(
            ["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", "mailsite_bench_pages"], check=True
        )
        subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", "mailsite_bench_pages"], check=True)
        database_url = f"{PG}/mailsite_bench_pages"
    load_generator = run_wrk if shutil.which("wrk") else run_python
    article = prepare(root, tmp, database_url)
    pages = {"trivial view": "/bench/trivial/", "home page": "/en/", "article": article, "blog index": "/en/blog/"}
    report = {
        "root": str(root),
        "database": database_url.split("://")[0],
        "connections": args.connections,
        "duration_s": args.duration,
        "repeats": args.repeats,
        "load_generator": load_generator.__name__,
        "load": [os.getloadavg()],
        "caches": {},
    }
    for cache_name in args.caches.split(","):
        redis_url = REDIS_URL if cache_name == "redis" else ""
        if redis_url:
            subprocess.run(["redis-cli", "-u", redis_url, "flushdb"], check=True, capture_output=True)
        site = Site(root, site_env(root, tmp, database_url, redis_url), tmp / f"gunicorn-{cache_name}.log")
        try:
            costs = warm_costs(site, pages)
            runs: dict[str, list[dict]] = {name: [] for name in pages}
            for _ in range(args.repeats):
                for name, path in pages.items():  # interleaved: every page once per repeat
                    runs[name].append(load_generator(site.url + path, args.connections, args.duration))
                    report["load"].append(os.getloadavg())
        finally:
            site.stop()
        trivial = [r["rps"] for r in runs["trivial view"]]
        report["caches"][cache_name] = {
            name: {
                "path": pages[name],
                "rps": summary([r["rps"] for r in rows]),
                "p50_ms": summary([r["p50_ms"] for r in rows]),
                "p99_ms": summary([r["p99_ms"] for r in rows]),
                # Paired: each repeat's page against the same repeat's trivial view, so
                # that the machine's slow and fast spells cancel out; median and range.
                "ratio_to_trivial": summary([round(r["rps"] / t, 2) for r, t in zip(rows, trivial, strict=True)]),
                "ratio_of_medians": round(statistics.median(r["rps"] for r in rows) / statistics.median(trivial), 2),
                "errors": sum(r["errors"] for r in rows),
                **costs[name],
                "runs": rows,
            }
            for name, rows in runs.items()
        }

    load = report["load"]
    print(f"\n{root}: gunicorn 2 workers, {args.connections} connections, {args.duration} s x {args.repeats} repeats")
    print(f"load average at start {load[0]}, end {load[-1]}; {load_generator.__name__}\n")
    header = (
        f"{'cache':<9} {'page':<13} {'req/s median (min-max)':>26} {'p50 ms':>7} {'p99 ms':>7} "
        f"{'x trivial (min-max)':>19} {'SQL':>4} {'cache calls':>11}"
    )
    print(header)
    print("-" * len(header))
    for cache_name, by_page in report["caches"].items():
        for name, row in by_page.items():
            rps = f"{row['rps']['median']} ({row['rps']['min']}-{row['rps']['max']})"
            ratio = row["ratio_to_trivial"]
            ratio = f"{ratio['median']} ({ratio['min']}-{ratio['max']})"
            print(
                f"{cache_name:<9} {name:<13} {rps:>26} {row['p50_ms']['median']:>7} {row['p99_ms']['median']:>7} "
                f"{ratio:>19} {row['queries']:>4} {row['cache_calls']:>11}"
            )
    out = BENCH / "results" / f"pages_http{'-' + args.label if args.label else ''}.json"
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nwritten to {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
