"""Load benchmark: concurrent clients on POST /api/ask while a document is being uploaded and ingested.

Starts its own `sstc serve` on a loopback port over a temporary index of corpus/ (or targets
`--url`), runs each concurrency level for a bounded time, and prints throughput, latency
percentiles and errors per level. Loopback only; it stops by itself.

    .venv/bin/python bench/load.py                        # 1, 4 and 16 clients, 30 s each
    .venv/bin/python bench/load.py --levels 1,4 --seconds 5   # CI's setting
"""

from __future__ import annotations

import argparse
import math
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

from sstc_assistant import launch
from sstc_assistant.launch import Child

ROOT = Path(__file__).resolve().parents[1]
QUESTIONS = [
    "In what year did UNOSSC initiate the Cities Project?",
    "Which pilot project proposals will be prioritized?",
    "Which services does the Cities Project provide?",
    "What did BAPA+40 ask of sub-national governments?",
    "How many valid responses did the 2024 surveys receive?",
    "What is a good recipe for chocolate chip cookies?",
]
KEY = "bench-load-key"


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, max(0, math.ceil(p * len(s)) - 1))]


def start_server(work: Path) -> Child:
    corpus = work / "corpus"
    corpus.mkdir()
    for f in (ROOT / "corpus").iterdir():
        if f.is_file():
            (corpus / f.name).write_bytes(f.read_bytes())
    env = dict(
        os.environ,
        SSTC_HOME=str(ROOT),
        SSTC_INDEXES_DIR=str(work / "indexes"),
        SSTC_INDEX="load",
        SSTC_CORPUS_DIR=str(corpus),
        SSTC_API_KEY=KEY,
        SSTC_RATE_LIMIT_PER_MINUTE="0",
        SSTC_FEEDBACK_PATH=str(work / "feedback.jsonl"),
    )
    cli = [sys.executable, "-m", "sstc_assistant.cli"]
    subprocess.run([*cli, "ingest", "--quiet"], env=env, check=True, capture_output=True)
    try:
        return launch.serve(env, work / "server.log")
    except launch.LaunchError as exc:
        raise SystemExit(f"server did not start: {exc}") from None


def upload_during(url: str, stop: threading.Event, results: list[str]) -> None:
    """Upload (and so ingest) a text document while the clients ask; then delete it."""
    body = "\n\n".join(
        f"{i}. The load benchmark notes that pilot city {i} shares solar ferry expertise."
        for i in range(1, 60)
    )
    headers = {"Authorization": f"Bearer {KEY}"}
    with httpx.Client(base_url=url, timeout=300) as client:
        r = client.post(
            "/api/documents", files={"file": ("load-notes.txt", body.encode(), "text/plain")}, headers=headers
        )
        results.append(f"upload {r.status_code}")
        stop.wait(1)
        r = client.delete("/api/documents/load-notes", headers=headers)
        results.append(f"delete {r.status_code}")


def run_level(url: str, clients: int, seconds: float) -> dict:
    latencies: list[float] = []
    errors: dict[str, int] = {}
    lock = threading.Lock()
    end = time.monotonic() + seconds

    def worker(n: int) -> None:
        with httpx.Client(base_url=url, timeout=60) as client:
            i = n
            while time.monotonic() < end:
                q = QUESTIONS[i % len(QUESTIONS)]
                i += 1
                t0 = time.perf_counter()
                try:
                    r = client.post("/api/ask", json={"question": q})
                    ok = r.status_code == 200
                    key = None if ok else str(r.status_code)
                except httpx.HTTPError as exc:
                    key = type(exc).__name__
                dt = (time.perf_counter() - t0) * 1000
                with lock:
                    if key:
                        errors[key] = errors.get(key, 0) + 1
                    else:
                        latencies.append(dt)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(clients)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    return {
        "clients": clients,
        "requests": len(latencies),
        "throughput_rps": round(len(latencies) / wall, 2),
        "p50_ms": round(pct(latencies, 0.5), 1),
        "p95_ms": round(pct(latencies, 0.95), 1),
        "p99_ms": round(pct(latencies, 0.99), 1),
        "errors": sum(errors.values()),
        "error_kinds": errors,
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", help="an already running server (loopback); default: start one")
    parser.add_argument("--levels", default="1,4,16")
    parser.add_argument("--seconds", type=float, default=30.0)
    args = parser.parse_args()
    if args.url and not args.url.startswith(("http://127.", "http://localhost", "http://[::1]")):
        raise SystemExit("load tests target loopback addresses only")
    with tempfile.TemporaryDirectory(prefix="sstc-load-") as tmp:
        server = None if args.url else start_server(Path(tmp))
        url = args.url or server.url
        try:
            print(
                f"{'clients':>7} {'requests':>8} {'req/s':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'errors':>6}"
            )
            for level in [int(x) for x in args.levels.split(",")]:
                stop, notes = threading.Event(), []
                uploader = (
                    threading.Thread(target=upload_during, args=(url, stop, notes)) if not args.url else None
                )
                if uploader:
                    uploader.start()
                row = run_level(url, level, args.seconds)
                stop.set()
                if uploader:
                    uploader.join()
                print(
                    f"{row['clients']:>7} {row['requests']:>8} {row['throughput_rps']:>7} {row['p50_ms']:>8} "
                    f"{row['p95_ms']:>8} {row['p99_ms']:>8} {row['errors']:>6}  {' '.join(notes)}"
                    + (f" {row['error_kinds']}" if row["errors"] else "")
                )
        finally:
            if server:
                server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
