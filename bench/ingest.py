"""Ingestion benchmark: pages/s and chunks/s for corpus/ + ../shared/un-docs, the raw encoder
throughput on the same texts, and their ratio (how close ingestion gets to pure encoding).

    .venv/bin/python bench/ingest.py                 # everything (about 10 minutes here)
    .venv/bin/python bench/ingest.py --limit 20      # the first 20 files only (CI)
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

from _figures import print_figures

from sstc_assistant.documents import iter_corpus_files
from sstc_assistant.embeddings import get_embedder
from sstc_assistant.index import Index
from sstc_assistant.ingest import Ingestor
from sstc_assistant.settings import Settings

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "paths", nargs="*", type=Path, default=[ROOT / "corpus", ROOT.parent / "shared" / "un-docs"]
    )
    parser.add_argument("--limit", type=int, help="only the first N files")
    parser.add_argument("--embedder", default=Settings().embedder, choices=["minilm", "e5"])
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()

    files = iter_corpus_files([p for p in args.paths if p.exists()])
    if args.limit:
        files = files[: args.limit]
    if not files:
        print("no input files", file=sys.stderr)
        return 1
    work = Path(tempfile.mkdtemp(prefix="sstc-bench-"))
    try:
        staged = work / "docs"
        staged.mkdir()
        for f in files:
            (staged / f.name).symlink_to(f)
        settings = Settings(home=ROOT, indexes_dir=work / "indexes", index="bench", embedder=args.embedder)
        embedder = get_embedder(args.embedder)
        embedder.embed_passages(["warm-up"])  # model load is not ingestion

        t0 = time.perf_counter()
        report = Ingestor(settings, embedder).run([staged])
        ingest_s = time.perf_counter() - t0

        index = Index(settings)
        texts = [r["text"] for r in index.db.execute("SELECT text FROM vectors ORDER BY rowid")]
        t1 = time.perf_counter()
        embedder.embed_passages(texts)
        encode_s = time.perf_counter() - t1

        pages = report.pages_parsed
        chunks = report.chunks_added
        figures = {
            "files": len(files),
            "ingested": len(report.by_status("added")),
            "skipped": len(report.by_status("skipped")),
            "pages": pages,
            "chunks": chunks,
            "passages_embedded": len(texts),
            "ingest_seconds": round(ingest_s, 1),
            "pages_per_s": round(pages / ingest_s, 2),
            "chunks_per_s": round(chunks / ingest_s, 2),
            "raw_encoder_passages_per_s": round(len(texts) / encode_s, 2),
            "ingest_passages_per_s": round(len(texts) / ingest_s, 2),
            "ratio_ingest_to_raw_encoder": round(encode_s / ingest_s, 3),
            "embedder": args.embedder,
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print_figures(figures, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
