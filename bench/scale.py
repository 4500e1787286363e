"""Scale benchmark: how the index's costs grow from about 10k to 100k passages.

Builds one index per size from a real base index (default `eval`: corpus/ + ../shared/un-docs,
built with `sstc ingest corpus ../shared/un-docs --index eval`) plus variations of its documents:
each variant copies a real document with words swapped and figures shifted (so BM25 and the
catalog see new text) and with its real vectors moved by a small random step (cosine ~0.9 to the
original, so the vector index gets new, realistically clustered points). Variants go through the
index's own write path: catalog transaction, Chroma upsert (HNSW), BM25 build.

Embedding is not repeated for variants: its cost is per passage and does not depend on the index's
size (bench/ingest.py measures it). What this prints per size is what does grow: store writes
(passages/s), BM25 build, then in a fresh process the answer latency p50/p95 (retrieve and total)
over the evaluation questions and the process's memory (RSS).

    .venv/bin/python bench/scale.py                          # 10k and 100k passages
    .venv/bin/python bench/scale.py --sizes 2000,10000 --questions 30   # CI's setting
"""

from __future__ import annotations

import argparse
import json
import random
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from sstc_assistant.dataset import load_dataset
from sstc_assistant.index import Index
from sstc_assistant.metrics import percentile
from sstc_assistant.settings import Settings
from sstc_assistant.types import Chunk, DocumentMeta, Page, ParsedDocument

ROOT = Path(__file__).resolve().parents[1]
_WORD = re.compile(r"[A-Za-z]{4,}")
_NUMBER = re.compile(r"\b\d+\b")


def vary(text: str, round_: int, rng: random.Random) -> str:
    """The same document retold: about a fifth of its longer words swapped, figures shifted."""
    words = _WORD.findall(text)
    swaps = {w: rng.choice(words) for w in rng.sample(words, k=len(words) // 5)} if words else {}
    text = _WORD.sub(lambda m: swaps.get(m.group(0), m.group(0)), text)
    return _NUMBER.sub(lambda m: str(int(m.group(0)) + round_), text)


def nudge(vecs: np.ndarray, rng: np.random.Generator, step: float = 0.025) -> np.ndarray:
    """Unit vectors moved a small random step (cosine about 0.9 to where they were)."""
    moved = vecs + rng.normal(0, step, vecs.shape).astype(np.float32)
    return moved / np.linalg.norm(moved, axis=1, keepdims=True)


def load_base(index: Index) -> list[dict]:
    """Every complete document of the base index with its pages, chunks and vectors."""
    docs = []
    for row in index.db.execute("SELECT * FROM documents WHERE status = 'complete' ORDER BY doc_id"):
        pages = [
            Page(number=r["number"], text=r["text"])
            for r in index.db.execute(
                "SELECT number, text FROM pages WHERE doc_id = ? ORDER BY number", (row["doc_id"],)
            )
        ]
        chunks = index.db.execute(
            "SELECT * FROM chunks WHERE doc_id = ? ORDER BY ordinal", (row["doc_id"],)
        ).fetchall()
        docs.append({"row": row, "pages": pages, "chunks": chunks})
    ids = sorted({c["vector_id"] for d in docs for c in d["chunks"]})
    vectors = index.vectors.get_embeddings(ids)
    for d in docs:
        d["chunks"] = [c for c in d["chunks"] if c["vector_id"] in vectors]
        d["vectors"] = np.vstack([vectors[c["vector_id"]] for c in d["chunks"]]) if d["chunks"] else None
    return [d for d in docs if d["chunks"]]


def write_variant(index: Index, doc: dict, round_: int, seed: int) -> int:
    """One (possibly varied) copy of a base document through the index's write path."""
    rng = random.Random(seed)
    row = doc["row"]
    meta = DocumentMeta.model_validate_json(row["meta"])
    suffix = f"~v{round_}" if round_ else ""
    # a variant is another document: its own id and symbol (a question naming A/RES/73/291 means one)
    meta = meta.model_copy(
        update={"doc_id": meta.doc_id + suffix, "symbol": meta.symbol + suffix if meta.symbol else ""}
    )
    pages = [
        Page(number=p.number, text=vary(p.text, round_, rng) if round_ else p.text) for p in doc["pages"]
    ]
    parsed = ParsedDocument(
        meta=meta, path=row["path"] + suffix, sha256=f"{row['sha256']}{suffix}", pages=pages
    )
    chunks, texts = [], []
    for c in doc["chunks"]:
        text = vary(c["text"], round_, rng) if round_ else c["text"]
        texts.append(text)
        chunks.append(
            Chunk(
                chunk_id=f"{c['chunk_id']}{suffix}",
                doc_id=meta.doc_id,
                ordinal=c["ordinal"],
                text=text,
                page_start=c["page_start"],
                page_end=c["page_end"],
                char_start=c["char_start"],
                char_end=c["char_end"],
                paragraph=c["paragraph"],
                part=c["part"],
                n_tokens=c["n_tokens"],
            )
        )
    vids = [f"{c['vector_id']}{suffix}" for c in doc["chunks"]]
    vecs = nudge(doc["vectors"], np.random.default_rng(seed)) if round_ else doc["vectors"]
    first = {vid: i for i, vid in reversed(list(enumerate(vids)))}  # a repeated passage is stored once
    fresh = {vid: texts[i] for vid, i in first.items()}
    index.begin_document(parsed)
    index.vectors.upsert(list(fresh), vecs[list(first.values())], list(fresh.values()))
    index.commit_document(parsed, chunks, vids, fresh)
    return len(chunks)


def build(base: list[dict], settings: Settings, size: int) -> dict:
    index = Index(settings, create=True)
    index.check_embedder(settings.embedder, claim=True)
    written, round_, t0 = 0, 0, time.perf_counter()
    while written < size:
        for n, doc in enumerate(base):
            if written >= size:
                break
            written += write_variant(index, doc, round_, seed=round_ * 100_000 + n)
        round_ += 1
    writes = time.perf_counter() - t0
    t1 = time.perf_counter()
    index.refresh_lexical(save=True)
    bm25 = time.perf_counter() - t1
    stats = index.stats()
    index.close()
    return {"passages": stats["vectors"], "documents": stats["documents"], "write_s": writes, "bm25_s": bm25}


def query(index_dir: Path, index_name: str, n: int) -> dict:
    """Runs in its own process, so memory is this index's alone."""
    from sstc_assistant.assistant import Assistant
    from sstc_assistant.embeddings import set_model_threads

    settings = Settings(indexes_dir=index_dir, index=index_name)
    set_model_threads(settings.serve_threads)  # as a server runs its models
    assistant = Assistant(settings)
    questions = [q.question for q in load_dataset(ROOT / "eval" / "questions.jsonl")]
    for q in questions[-5:]:  # load models and the index; not timed
        assistant.ask(q)
    retrieve, total = [], []
    for q in questions[:n]:
        a = assistant.ask(q)
        retrieve.append(a.timings_ms["retrieve"])
        total.append(a.timings_ms["total"])
    rss_now = int(Path("/proc/self/statm").read_text().split()[1]) * resource.getpagesize() / 1e6
    return {
        "retrieve_p50_ms": percentile(retrieve, 0.5),
        "retrieve_p95_ms": percentile(retrieve, 0.95),
        "total_p50_ms": percentile(total, 0.5),
        "total_p95_ms": percentile(total, 0.95),
        "rss_mb": round(rss_now),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3),
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--base", default="eval", help="the real index the sizes are grown from")
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--questions", type=int, default=100, help="timed questions per size")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--query-only", nargs=2, metavar=("INDEXES_DIR", "INDEX"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.query_only:
        print(json.dumps(query(Path(args.query_only[0]), args.query_only[1], args.questions)))
        return 0

    try:
        source = Index(Settings(index=args.base))
    except Exception as exc:
        raise SystemExit(f"{exc}\n(the scale benchmark grows its indexes from a real one)") from None
    base_embedder = source.embedder_name or "e5"
    t0 = time.perf_counter()
    base = load_base(source)
    print(
        f"base index '{args.base}': {len(base)} documents, {sum(len(d['chunks']) for d in base)} passages "
        f"({base_embedder}), read in {time.perf_counter() - t0:.1f} s",
        flush=True,
    )
    print(
        f"{'passages':>9} {'docs':>6} {'writes/s':>9} {'bm25 s':>7} {'ret p50':>8} {'ret p95':>8} "
        f"{'p50 ms':>7} {'p95 ms':>7} {'RSS MB':>7}",
        flush=True,
    )
    rows = []
    with tempfile.TemporaryDirectory(prefix="sstc-scale-") as tmp:
        for size in [int(s) for s in args.sizes.split(",")]:
            name = f"scale-{size}"
            settings = Settings(indexes_dir=Path(tmp), index=name, embedder=base_embedder)
            built = build(base, settings, size)
            out = subprocess.run(
                [sys.executable, __file__, "--questions", str(args.questions), "--query-only", tmp, name],
                capture_output=True,
                text=True,
                check=False,
            )
            if out.returncode:
                raise SystemExit(f"query run failed:\n{out.stderr[-3000:]}")
            row = {"size": size, **built, **json.loads(out.stdout.strip().splitlines()[-1])}
            rows.append(row)
            print(
                f"{row['passages']:>9} {row['documents']:>6} {row['passages'] / row['write_s']:>9.0f} "
                f"{row['bm25_s']:>7.1f} {row['retrieve_p50_ms']:>8.1f} {row['retrieve_p95_ms']:>8.1f} "
                f"{row['total_p50_ms']:>7.1f} {row['total_p95_ms']:>7.1f} {row['rss_mb']:>7}",
                flush=True,
            )
            shutil.rmtree(settings.index_path)  # the next size starts from an empty disk
    if len(rows) > 1:
        first, last = rows[0], rows[-1]
        print(
            f"growth {first['passages']} -> {last['passages']} passages: total p95 x"
            f"{last['total_p95_ms'] / first['total_p95_ms']:.2f}, retrieve p95 x"
            f"{last['retrieve_p95_ms'] / first['retrieve_p95_ms']:.2f} (goal: total p95 under x2)"
        )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"base": args.base, "sizes": rows}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
