"""bench/send_throughput.py end to end, tiny: a fresh SQLite database, an
aiosmtpd sink, one round of the bare loop, the naive loop, the engine and the
peer with two processes each; the JSON holds every sample and the sink got
every message. No timing is asserted."""

import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "bench" / "send_throughput.py"
CONTENDERS = {"a", "b", "c2", "peer2"}


def test_quick_bench_on_sqlite_runs_every_contender(tmp_path):
    out = tmp_path / "send.json"
    command = [
        sys.executable,
        str(BENCH),
        "--quick",
        "--clients=12",
        "--repeats=1",
        "--naive-limit=5",
        "--db=sqlite",
        "--sink=aiosmtpd",
        f"--sqlite-path={tmp_path / 'bench.sqlite3'}",
        f"--out={out}",
        f"--contenders={','.join(sorted(CONTENDERS))}",
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-3000:]

    results = json.loads(out.read_text())
    assert results["sink_received"] == results["sent_total"] > 0
    assert results["machine"]["nproc"] >= 1
    (mode,) = results["modes"]
    assert mode["database"] == "sqlite3"
    assert set(mode["samples"]) == CONTENDERS
    for key, samples in mode["samples"].items():
        assert len(samples) == 1, key
        assert samples[0]["sent"] == (5 if key == "b" else 12), key
    assert mode["samples"]["peer2"][0]["not_sent"] == 0
    assert mode["samples"]["c2"][0]["status"] == "finished"
    assert set(mode["ratios"]) >= {"c2/peer2", "c2/a"}
    assert mode["summary"]["a"]["x_baseline"] == 1.0
    assert len(mode["rounds"]) == 1
    assert "| (c2) engine, 2 workers |" in done.stdout
