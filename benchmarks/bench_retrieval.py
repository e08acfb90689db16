"""Retrieval performance on this machine, per embedding backend.

Reports: full index build (fresh, every node embedded by the model: the embedding cache is
off), incremental rebuild (nothing changed), index load, and in-process search latency
(p50/p95 over the gold questions, after one warm-up pass), with the query-vector cache off
(every search embeds its question) and on. Run:
  .venv/bin/python benchmarks/bench_retrieval.py [--backend e5|use] [--threads N] [--json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from assistant.corpus.store import load_corpus
from assistant.evaluation import load_gold
from assistant.index.embeddings import make_embedding
from assistant.index.store import build_index, load_index
from assistant.retrieval.retriever import HybridClauseRetriever
from assistant.settings import ROOT, Settings


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--backend", choices=["e5", "use"], default="e5")
    ap.add_argument("--threads", type=int, default=0, help="embedding threads (0: the backend's default)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(index_dir=Path(tmp) / "index", embed_backend=args.backend, embed_cache_dir=None,
                            embed_threads=args.threads)
        t = time.perf_counter()
        corpus = load_corpus(settings.corpus_dir)
        parse_s = time.perf_counter() - t
        embed = make_embedding(settings)
        embed.get_query_embedding("预热")  # model load is not part of the build figure
        t = time.perf_counter()
        meta = build_index(corpus, settings, embed)
        build_s = time.perf_counter() - t
        t = time.perf_counter()
        build_index(corpus, settings, embed)
        incr_s = time.perf_counter() - t
        t = time.perf_counter()
        index = load_index(corpus, settings, embed, rebuild="never")
        load_s = time.perf_counter() - t
        questions = [q.query for q in load_gold(ROOT / "evals" / "gold")]

        def latencies(retriever: HybridClauseRetriever) -> list[float]:
            for q in questions:  # warm-up
                retriever.search(q)
            lat = []
            for _ in range(args.rounds):
                for q in questions:
                    t = time.perf_counter()
                    retriever.search(q)
                    lat.append((time.perf_counter() - t) * 1000)
            return sorted(lat)

        lat = latencies(HybridClauseRetriever(index, query_cache_size=0))  # every search embeds its query
        cached = latencies(HybridClauseRetriever(index))  # repeated questions: vectors from the cache
        res = {
            "backend": meta["embedding"],
            "nodes": meta["nodes"],
            "parse_corpus_s": round(parse_s, 3),
            "full_build_s": round(build_s, 2),
            "incremental_build_s": round(incr_s, 2),
            "index_load_s": round(load_s, 3),
            "search_queries": len(lat),
            "search_p50_ms": round(statistics.median(lat), 2),
            "search_p95_ms": round(lat[int(0.95 * len(lat)) - 1], 2),
            "search_max_ms": round(lat[-1], 2),
            "search_cached_p50_ms": round(statistics.median(cached), 2),
            "search_cached_p95_ms": round(cached[int(0.95 * len(cached)) - 1], 2),
        }
    if args.json:
        print(json.dumps(res, indent=2))
    else:
        for k, v in res.items():
            print(f"{k:22} {v}")


if __name__ == "__main__":
    main()
