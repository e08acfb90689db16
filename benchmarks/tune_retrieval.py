#!/usr/bin/env python3
"""Fusion tuning: retrieval R@1/R@5/MRR@10 per embedding backend and fusion weights, on the
sets one may tune on (evals/gold, evals/calibration) and, reported only, the external sample.
The blind set is never run here.

  .venv/bin/python benchmarks/tune_retrieval.py [--backends e5,use] [--sets gold,calibration,external]
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.corpus.store import load_corpus  # noqa: E402
from assistant.evaluation.retrieval import retriever_ranker, score_ranking  # noqa: E402
from assistant.evaluation.sets import load_eval_set  # noqa: E402
from assistant.index.embeddings import make_embedding  # noqa: E402
from assistant.index.store import build_index, load_index  # noqa: E402
from assistant.retrieval.retriever import HybridClauseRetriever  # noqa: E402
from assistant.settings import Settings  # noqa: E402

SETS = {"gold": ROOT / "evals" / "gold", "calibration": ROOT / "evals" / "calibration",
        "external": ROOT.parent / "shared" / "evals" / "external-sample"}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--backends", default="e5,use")
    ap.add_argument("--sets", default="gold,calibration,external")
    ap.add_argument("--alphas", default="0.3,0.4,0.5,0.6,0.7")
    ap.add_argument("--chars", default="0,0.15,0.3")
    ap.add_argument("--work", default="/tmp/tune-index")
    args = ap.parse_args()
    corpus = load_corpus(ROOT / "corpus")
    sets = {n: [q for q in load_eval_set(SETS[n], corpus, strict=False).questions if q.gold]
            for n in args.sets.split(",")}
    print("backend  config                 " + "  ".join(f"{n:>24}" for n in sets))
    for backend in args.backends.split(","):
        settings = Settings(corpus_dir=ROOT / "corpus", index_dir=Path(args.work) / backend,
                            embed_backend=backend)
        embed = make_embedding(settings)
        t0 = time.perf_counter()
        build_index(corpus, settings, embed)
        index = load_index(corpus, settings, embed, rebuild="never")
        print(f"# {backend}: index ready in {time.perf_counter() - t0:.1f} s")
        configs = [("dense", dict(mode="dense")), ("bm25", dict(mode="bm25"))]
        for a, c in itertools.product([float(x) for x in args.alphas.split(",")],
                                      [float(x) for x in args.chars.split(",")]):
            configs.append((f"hybrid a={a} c={c}", dict(mode="hybrid", alpha=a, char_weight=c)))
        for name, kw in configs:
            rank = retriever_ranker(HybridClauseRetriever(index, query_cache_size=4096, **kw))
            cells = []
            for qs in sets.values():
                ms = [score_ranking(corpus, rank(q), q.gold) for q in qs]
                r1 = sum(m["recall@1"] for m in ms) / len(ms)
                r5 = sum(m["recall@5"] > 0 for m in ms) / len(ms)
                mrr = sum(m["mrr@10"] for m in ms) / len(ms)
                cells.append(f"{r1:.3f}/{r5:.3f}/{mrr:.3f}")
            print(f"{backend:8} {name:22} " + "  ".join(f"{c:>24}" for c in cells), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
