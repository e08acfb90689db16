"""Retrieval eval on the gold set (evals/gold/*.jsonl), several configurations in one run.

Metrics per configuration, overall and per tag: Recall@1/5/10, MRR@10, nDCG@10.
A retrieved result credits a gold reference [doc_id, label] when it is that unit,
when the gold unit is one of the result's matched items, or when the result lies
inside the gold unit (an item of the gold clause). Results above the gold (its
chapter) get no credit.

The naive baseline: llama-index SentenceSplitter fixed chunks of the raw files,
embedded with the same model in a VectorStoreIndex; each chunk is credited with
the clauses whose source lines it overlaps, in rank order.
"""

from __future__ import annotations

import math
import time
import tomllib
from collections import defaultdict
from pathlib import Path
from typing import Callable

from assistant.corpus.store import Corpus
from assistant.evaluation.sets import EvalQuestion, load_eval_set
from assistant.index.store import ClauseIndex
from assistant.retrieval.retriever import HybridClauseRetriever

KS = (1, 5, 10)


def load_gold(gold_dir: Path, corpus: Corpus | None = None) -> list[EvalQuestion]:
    """The questions of a set in either format (see sets.py); labels must resolve."""
    return load_eval_set(gold_dir, corpus).questions


def _credited(corpus: Corpus, result_labels: list[str], doc_id: str, gold: tuple[str, str]) -> bool:
    g_doc, g_label = gold
    if doc_id != g_doc:
        return False
    if g_label in result_labels:
        return True
    doc = corpus.doc(doc_id)
    head = doc.by_label.get(result_labels[0])
    # the result lies inside the gold unit
    p = head
    while p is not None and p.parent:
        if p.parent == g_label:
            return True
        p = doc.by_label.get(p.parent)
    return False


def score_ranking(corpus: Corpus, ranking: list[tuple[str, list[str]]], gold: list[tuple[str, str]]) -> dict:
    """ranking: [(doc_id, [label, matched item labels…]), …] best first."""
    found_at: dict[tuple[str, str], int] = {}
    for rank, (doc_id, labels) in enumerate(ranking[:10], 1):
        for g in gold:
            if g not in found_at and _credited(corpus, labels, doc_id, g):
                found_at[g] = rank
    m: dict[str, float] = {}
    for k in KS:
        m[f"recall@{k}"] = sum(1 for r in found_at.values() if r <= k) / len(gold)
    first = min(found_at.values(), default=None)
    m["mrr@10"] = 1.0 / first if first else 0.0
    dcg = sum(1.0 / math.log2(r + 1) for r in found_at.values())
    idcg = sum(1.0 / math.log2(i + 2) for i in range(min(len(gold), 10)))
    m["ndcg@10"] = dcg / idcg if idcg else 0.0
    return m


def _mean(rows: list[dict]) -> dict:
    if not rows:
        return {}
    return {k: round(sum(r[k] for r in rows) / len(rows), 4) for k in rows[0]}


Ranker = Callable[[EvalQuestion], list[tuple[str, list[str]]]]


def retriever_ranker(retriever: HybridClauseRetriever) -> Ranker:
    from assistant.retrieval.retriever import SearchFilters

    def rank(q: EvalQuestion):
        hits = retriever.search(q.query, SearchFilters(**q.filters) if q.filters else None, top_k=10)
        return [(h.doc_id, h.labels) for h in hits]

    return rank


def naive_ranker(index: ClauseIndex, chunk_size: int = 256, chunk_overlap: int = 32) -> Ranker:
    """SentenceSplitter chunks of the raw documents in a VectorStoreIndex (same embedding)."""
    from llama_index.core import Document as LIDocument
    from llama_index.core import VectorStoreIndex
    from llama_index.core.node_parser import SentenceSplitter

    corpus = index.corpus
    splitter = SentenceSplitter(chunk_size=chunk_size, chunk_overlap=chunk_overlap)
    docs = [LIDocument(text="\n".join(d.source_lines), id_=d.doc_id, metadata={"doc_id": d.doc_id})
            for d in corpus.documents.values()]
    nodes = splitter.get_nodes_from_documents(docs)
    vindex = VectorStoreIndex(nodes, embed_model=index.embed_model, show_progress=False)
    retriever = vindex.as_retriever(similarity_top_k=10)
    # char offset → line number, per document
    line_starts: dict[str, list[int]] = {}
    for d in corpus.documents.values():
        pos, starts = 0, []
        for line in d.source_lines:
            starts.append(pos)
            pos += len(line) + 1
        line_starts[d.doc_id] = starts

    def lines_of(doc_id: str, start: int, end: int) -> set[int]:
        import bisect

        starts = line_starts[doc_id]
        a = bisect.bisect_right(starts, start)
        b = bisect.bisect_right(starts, max(start, end - 1))
        return set(range(a, b + 1))

    def rank(q: EvalQuestion):
        out: list[tuple[str, list[str]]] = []
        seen: set[tuple[str, str]] = set()
        for nws in retriever.retrieve(q.query):
            doc_id = nws.node.metadata["doc_id"]
            start, end = nws.node.start_char_idx or 0, nws.node.end_char_idx or 0
            covered = lines_of(doc_id, start, end)
            for u in corpus.doc(doc_id).units:
                if (doc_id, u.label) not in seen and covered & set(u.lines):
                    seen.add((doc_id, u.label))
                    out.append((doc_id, [u.label]))
        return out

    return rank


def ablated_index(index: ClauseIndex, *, user_dict: bool = True, headings: bool = True) -> ClauseIndex:
    """The same index with its BM25 side rebuilt in memory without the domain
    dictionary and/or without heading paths and titles in the indexed text."""
    import dataclasses

    import bm25s

    from assistant.index.tokenizer import ChineseTokenizer

    # a fresh jieba without the generated domain dictionary, same stopwords
    tok = index.tokenizer if user_dict else ChineseTokenizer(None, index.tokenizer.stopwords)

    def text(n) -> str:
        if headings:
            return n.get_content()
        return index.corpus.clause(n.metadata["doc_id"], n.metadata["label"]).text

    bm25 = bm25s.BM25()
    bm25.index([tok(text(n)) or ["∅"] for n in index.nodes], show_progress=False)
    return dataclasses.replace(index, bm25=bm25, tokenizer=tok)


def configurations(index: ClauseIndex) -> dict[str, Callable[[], Ranker]]:
    """Name → factory. Built lazily so a run can pick a subset."""
    def mk(**kw) -> Callable[[], Ranker]:
        return lambda: retriever_ranker(HybridClauseRetriever(index, **kw))

    return {
        "hybrid": mk(mode="hybrid", fusion="weighted"),
        "hybrid-no-chars": mk(mode="hybrid", fusion="weighted", char_weight=0.0),
        "hybrid-rrf": mk(mode="hybrid", fusion="rrf"),
        "hybrid-no-understanding": mk(mode="hybrid", fusion="weighted", understanding=False),
        "bm25": mk(mode="bm25"),
        "bm25-no-understanding": mk(mode="bm25", understanding=False),
        "bm25-no-dictionary": lambda: retriever_ranker(
            HybridClauseRetriever(ablated_index(index, user_dict=False), mode="bm25")),
        "bm25-no-headings": lambda: retriever_ranker(
            HybridClauseRetriever(ablated_index(index, headings=False), mode="bm25")),
        "dense": mk(mode="dense", understanding=False),
        "naive-baseline": lambda: naive_ranker(index),
    }


def run_eval(index: ClauseIndex, gold: list[EvalQuestion], names: list[str] | None = None) -> dict:
    answerable = [q for q in gold if q.gold]
    configs = configurations(index)
    names = names or list(configs)
    report: dict = {"questions": len(answerable), "unanswerable": len(gold) - len(answerable),
                    "configs": {}}
    for name in names:
        t0 = time.perf_counter()
        ranker = configs[name]()
        per_q, by_tag = [], defaultdict(list)
        for q in answerable:
            m = score_ranking(index.corpus, ranker(q), q.gold)
            per_q.append({"id": q.id, **m})
            for t in q.tags:
                by_tag[t].append(m)
        report["configs"][name] = {
            "overall": _mean([{k: v for k, v in r.items() if k != "id"} for r in per_q]),
            "by_tag": {t: {**_mean(rows), "n": len(rows)} for t, rows in sorted(by_tag.items())},
            "misses_at_5": [r["id"] for r in per_q if r["recall@5"] == 0],
            "seconds": round(time.perf_counter() - t0, 2),
        }
    return report


def check_regressions(report: dict, path: Path) -> list[str]:
    """Compare with evals/regressions.toml: a configuration below its floor fails."""
    if not path.is_file():
        return []
    floors = tomllib.loads(path.read_text(encoding="utf-8"))
    failures = []
    for name, metrics in floors.items():
        if name == "answers":
            continue
        got = report["configs"].get(name, {}).get("overall")
        if got is None:
            continue
        for metric, floor in metrics.items():
            if got.get(metric, 0.0) + 1e-9 < floor:
                failures.append(f"{name} {metric} = {got.get(metric):.4f} < {floor}")
    return failures


def format_table(report: dict) -> str:
    cols = ["recall@1", "recall@5", "recall@10", "mrr@10", "ndcg@10"]
    lines = [f"{'configuration':26}" + "".join(f"{c:>11}" for c in cols) + f"{'seconds':>9}"]
    for name, r in report["configs"].items():
        o = r["overall"]
        lines.append(f"{name:26}" + "".join(f"{o[c]:>11.3f}" for c in cols) + f"{r['seconds']:>9.1f}")
    return "\n".join(lines)
