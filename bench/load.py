"""Load benchmark: concurrent clients on POST /api/ask while documents are uploaded and ingested.

Starts its own `sstc serve` on a loopback port over a temporary index of corpus/ (or a copy of
an existing index with `--index`, or targets `--url`), runs each concurrency level for a bounded
time while a background client uploads (so ingests) a 150-paragraph document as the clients start
(`--ingest continuous`: one after another, all the time), and prints throughput, latency
percentiles and errors per level. The clients ask the questions of
eval/questions.jsonl in turn (every kind and language). Loopback only; it stops by itself, and
exits 1 on any failed request or a server-side error in the log.

    .venv/bin/python bench/load.py                        # 1, 4 and 16 clients, 30 s each
    .venv/bin/python bench/load.py --index eval           # the same on a copy of the evaluation index
    .venv/bin/python bench/load.py --levels 1,4,16 --seconds 5   # CI's setting
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

from sstc_assistant import launch
from sstc_assistant.launch import Child
from sstc_assistant.metrics import percentile

ROOT = Path(__file__).resolve().parents[1]
QUESTIONS = [
    json.loads(line)["question"]
    for line in (ROOT / "eval" / "questions.jsonl").read_text(encoding="utf-8").splitlines()
    if line.strip()
]
KEY = "bench-load-key"


def start_server(work: Path, index: str | None) -> Child:
    corpus = work / "corpus"
    corpus.mkdir()
    for f in (ROOT / "corpus").iterdir():
        if f.is_file():
            (corpus / f.name).write_bytes(f.read_bytes())
    if index:  # a copy, so the uploads and deletes of the run never touch the real one
        source = ROOT / "indexes" / index
        if not (source / "catalog.sqlite").is_file():
            raise SystemExit(
                f"no index '{index}' in indexes/ (build it with `sstc ingest ... --index {index}`)"
            )
        shutil.copytree(source, work / "indexes" / "load")
    # the caller's SSTC_* settings pass through: `SSTC_ANSWER_CONCURRENCY=3 bench/load.py` compares
    env = launch.server_env(
        ROOT, work, "load", corpus, isolated=False, api_key=KEY, rate_limit_per_minute="0"
    )
    if not index:
        cli = [sys.executable, "-m", "sstc_assistant.cli"]
        subprocess.run([*cli, "ingest", "--quiet"], env=env, check=True, capture_output=True)
    try:
        return launch.serve(env, work / "server.log")
    except launch.LaunchError as exc:
        raise SystemExit(f"server did not start: {exc}") from None


def upload_during(url: str, stop: threading.Event, results: dict[str, int], *, continuous: bool) -> None:
    """Upload (so ingest) a fresh 150-paragraph document as the clients start, delete it when they
    stop; with `continuous`, keep uploading and deleting one after another the whole time."""
    headers = {"Authorization": f"Bearer {KEY}"}
    cycle = 0
    with httpx.Client(base_url=url, timeout=600) as client:
        while not stop.is_set():
            cycle += 1
            body = "\n\n".join(
                f"{i}. The load benchmark notes that pilot city {i} of round {cycle} shares solar ferry "
                f"expertise with {i % 7 + 2} partner ports under programme {cycle}-{i}."
                for i in range(1, 151)
            )
            name = f"load-notes-{os.getpid()}-{time.monotonic_ns()}"
            t0 = time.perf_counter()
            r = client.post(
                "/api/documents",
                files={"file": (f"{name}.txt", body.encode(), "text/plain")},
                headers=headers,
            )
            results[f"upload {r.status_code}"] = results.get(f"upload {r.status_code}", 0) + 1
            results["ingest s"] = round(results.get("ingest s", 0) + time.perf_counter() - t0, 1)
            if not continuous:
                stop.wait()
            r = client.delete(f"/api/documents/{name}", headers=headers)
            results[f"delete {r.status_code}"] = results.get(f"delete {r.status_code}", 0) + 1


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
        "p50_ms": round(percentile(latencies, 0.5), 1),
        "p95_ms": round(percentile(latencies, 0.95), 1),
        "p99_ms": round(percentile(latencies, 0.99), 1),
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
    parser.add_argument("--index", help="serve a copy of indexes/NAME (default: a fresh index of corpus/)")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument(
        "--ingest",
        choices=["once", "continuous", "none"],
        default="once",
        help="a document ingested as each level starts (default), one after another all the time, or none",
    )
    args = parser.parse_args()
    if args.url and not args.url.startswith(("http://127.", "http://localhost", "http://[::1]")):
        raise SystemExit("load tests target loopback addresses only")
    with tempfile.TemporaryDirectory(prefix="sstc-load-") as tmp:
        server = None if args.url else start_server(Path(tmp), args.index)
        url = args.url or server.url
        rows, failed = [], False
        try:
            print(
                f"{'clients':>7} {'requests':>8} {'req/s':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'errors':>6}"
            )
            for level in [int(x) for x in args.levels.split(",")]:
                stop, notes = threading.Event(), {}
                uploader = (
                    threading.Thread(
                        target=upload_during,
                        args=(url, stop, notes),
                        kwargs={"continuous": args.ingest == "continuous"},
                    )
                    if not args.url and args.ingest != "none"
                    else None
                )
                if uploader:
                    uploader.start()
                row = run_level(url, level, args.seconds)
                stop.set()
                if uploader:
                    uploader.join()
                row["corpus_changes"] = notes
                rows.append(row)
                changes = ", ".join(
                    f"{k} {v}" if k == "ingest s" else f"{k} x{v}" for k, v in sorted(notes.items())
                )
                failed |= bool(row["errors"]) or any(
                    k != "ingest s" and not k.split()[-1].startswith("2") for k in notes
                )
                print(
                    f"{row['clients']:>7} {row['requests']:>8} {row['throughput_rps']:>7} {row['p50_ms']:>8} "
                    f"{row['p95_ms']:>8} {row['p99_ms']:>8} {row['errors']:>6}  {changes}"
                    + (f" {row['error_kinds']}" if row["errors"] else ""),
                    flush=True,
                )
        finally:
            if server:
                server.stop()
                log = server.log_text()
                if "Traceback" in log or " 500 " in log:
                    failed = True
                    print("server log shows errors:\n" + log[-3000:])
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"index": args.index or "corpus", "levels": rows}, indent=2))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
