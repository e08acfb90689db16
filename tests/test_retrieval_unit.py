"""Index + retriever on a tiny corpus with a fake embedder (no real model)."""

from __future__ import annotations

import pytest
from llama_index.core.embeddings import MockEmbedding

from tests.conftest import DOC

from assistant.corpus.store import load_corpus
from assistant.errors import IndexMismatchError, InvalidQueryError
from assistant.index.store import build_index, check_meta, load_index
from assistant.retrieval.retriever import HybridClauseRetriever, SearchFilters, chroma_where, matches

def test_bm25_finds_clause_and_groups_matching_items(tiny):
    corpus, settings, embed = tiny
    index = load_index(corpus, settings, embed, rebuild="never")
    r = HybridClauseRetriever(index, mode="bm25")
    hits = r.search("举报违法侵权行为和舆情分析")
    assert hits[0].label in ("2.1.1", "2.1.1 a)")
    labels = [h.label for h in hits]
    assert not ("2.1.1" in labels and "2.1.1 a)" in labels)  # clause and its item are one result
    top = hits[0]
    assert "2.1.1 a)" in top.labels


def test_thesaurus_and_role_understanding(tiny):
    corpus, settings, embed = tiny
    index = load_index(corpus, settings, embed, rebuild="never")
    r = HybridClauseRetriever(index, mode="bm25")
    assert r.search("品牌出海怎么做")[0].label == "3.1"  # 出海 → 国际化/海外
    plain = HybridClauseRetriever(index, mode="bm25", understanding=False)
    assert plain.search("出海") == []  # the standard never says 出海
    assert r.search("出海")[0].label == "3.1"
    qa = r.analyzer.analyze("我们是行业协会要做什么")
    assert qa.roles == ["行业社会组织"] and "行业社会组织" in qa.expansions


def test_filters_sparse_and_dense_agree(tiny):
    corpus, settings, embed = tiny
    index = load_index(corpus, settings, embed, rebuild="never")
    f = SearchFilters(roles=["品牌授权企业"])
    for mode in ("bm25", "dense", "hybrid"):
        hits = HybridClauseRetriever(index, mode=mode).search("诚信合规 管控体系", f)
        assert hits and all("品牌授权企业" in h.roles for h in hits), mode
    mf = SearchFilters(doc_ids=["tiny"], strengths=["shall"]).to_metadata_filters()
    assert chroma_where(mf) == {"$and": [{"doc_id": {"$in": ["tiny"]}}, {"strength": {"$in": ["shall"]}}]}
    assert matches({"doc_id": "tiny", "strength": "shall"}, mf)
    assert not matches({"doc_id": "tiny", "strength": "may"}, mf)


def test_bad_filters_and_empty_query_are_clear_errors(tiny):
    corpus, settings, embed = tiny
    index = load_index(corpus, settings, embed, rebuild="never")
    r = HybridClauseRetriever(index)
    with pytest.raises(InvalidQueryError, match="可选值"):
        r.search("品牌", SearchFilters(roles=["不存在的角色"]))
    with pytest.raises(InvalidQueryError, match="tiny"):
        r.search("品牌", SearchFilters(doc_ids=["nope"]))
    with pytest.raises(InvalidQueryError):
        r.search("   ")


def test_llama_index_retrieve_returns_nodes(tiny):
    corpus, settings, embed = tiny
    index = load_index(corpus, settings, embed, rebuild="never")
    nodes = HybridClauseRetriever(index, mode="bm25").retrieve("国际化战略")
    assert nodes[0].node.metadata["label"] == "3.1" and nodes[0].score > 0


def test_index_records_what_built_it_and_rebuilds_only_changed_docs(tiny, tmp_path):
    corpus, settings, embed = tiny
    meta = build_index(corpus, settings, embed)
    assert meta["embedded_now"] == 0  # nothing changed
    assert meta["embedding"].startswith("MockEmbedding") and meta["dimension"] == 8
    assert set(meta["corpus"]) == {"tiny"}
    # a changed source: mismatch is reported, 'never' refuses, 'auto' rebuilds that doc
    (settings.corpus_dir / "tiny.txt").write_text(DOC + "\n3.2 可开展海外推介。\n", encoding="utf-8")
    changed = load_corpus(settings.corpus_dir)
    assert any("语料已变化" in r for r in check_meta(changed, settings, embed))
    with pytest.raises(IndexMismatchError, match="brand-assistant index"):
        load_index(changed, settings, embed, rebuild="never")
    index = load_index(changed, settings, embed, rebuild="auto")
    assert index.meta["reembedded_docs"] == ["tiny"]
    assert "tiny:3.2" in index.node_pos
    # another embedding model: mismatch names both
    other = MockEmbedding(embed_dim=4)
    other.model_name = "other-model"
    assert any("嵌入模型" in r for r in check_meta(changed, settings, other))


def test_cli_search_batch_mode_reports_bad_lines_without_stopping(tiny, tmp_path, monkeypatch, capsys):
    import json

    import assistant.cli as cli

    corpus, settings, embed = tiny
    monkeypatch.setattr(cli, "get_settings", lambda: settings)
    monkeypatch.setattr("assistant.service.make_embedding", lambda s: embed)
    qfile = tmp_path / "q.jsonl"
    qfile.write_text('{"id": "a", "query": "国际化战略"}\nnot json\n'
                     '{"id": "c", "query": "品牌", "filters": {"roles": ["无此角色"]}}\n', encoding="utf-8")
    assert cli.main(["search", "--queries", str(qfile), "--json"]) == 0
    out = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert out[0]["id"] == "a" and out[0]["hits"][0]["clause"] == "3.1"
    assert "error" in out[1] and "error" in out[2] and "可选值" in out[2]["error"]


class CountingEmbedding(MockEmbedding):
    """MockEmbedding that counts model calls and the texts in them."""

    calls: list = []

    def _get_query_embedding(self, query):
        self.calls.append([query])
        return super()._get_query_embedding(query)


def test_dense_search_in_memory_matches_chroma(tiny):
    corpus, settings, embed = tiny
    memory = load_index(corpus, settings, embed, rebuild="never")
    assert settings.dense_in_memory and memory.vectors is not None
    assert memory.vectors.shape == (len(memory.nodes), 8)
    via_chroma = load_index(corpus, settings.model_copy(update={"dense_search": "chroma"}), embed, rebuild="never")
    assert via_chroma.vectors is None
    f = SearchFilters(roles=["品牌授权企业"])
    for filters in (None, f):
        a = HybridClauseRetriever(memory, mode="dense").search("品牌国际化战略", filters)
        b = HybridClauseRetriever(via_chroma, mode="dense").search("品牌国际化战略", filters)
        assert [h.label for h in a] == [h.label for h in b]
        assert [round(h.score, 5) for h in a] == [round(h.score, 5) for h in b]


def test_query_vectors_are_cached_and_only_misses_are_embedded(tiny):
    corpus, settings, _ = tiny
    embed = CountingEmbedding(embed_dim=8)
    embed.calls = []
    index = load_index(corpus, settings, embed, rebuild="never")
    r = HybridClauseRetriever(index, query_cache_size=2)
    vs = r.query_vectors(["甲", "乙", "甲"])
    assert len(vs) == 3 and vs[0] is vs[2]
    assert sum(len(c) for c in embed.calls) == 2  # 甲 once, 乙 once
    r.query_vectors(["甲"])
    assert sum(len(c) for c in embed.calls) == 2  # cached
    r.query_vectors(["丙"])  # evicts the least recently used (乙)
    r.query_vectors(["乙"])
    assert sum(len(c) for c in embed.calls) == 4
    off = HybridClauseRetriever(index, query_cache_size=0)
    off.query_vectors(["甲"]), off.query_vectors(["甲"])
    assert sum(len(c) for c in embed.calls) == 6
    # a vector handed in is used as is, and gives the same result as embedding inside
    q = "品牌国际化战略"
    assert [h.label for h in off.search(q, query_vector=off.query_vectors([off.dense_text(q)])[0])] == \
        [h.label for h in off.search(q)]


def test_batcher_embeds_concurrent_questions_together_and_results_match(tiny):
    import asyncio

    from assistant.api.batching import QueryVectorBatcher

    corpus, settings, embed = tiny
    index = load_index(corpus, settings, embed, rebuild="never")
    r = HybridClauseRetriever(index, query_cache_size=0)
    questions = ["品牌国际化战略", "举报违法侵权行为", "诚信合规管控体系", "行业自律公约"] * 4

    async def run():
        batcher = QueryVectorBatcher(r)
        vectors = await asyncio.gather(*(batcher.vector(q) for q in questions))
        return batcher, vectors

    batcher, vectors = asyncio.run(run())
    assert batcher.batches < len(questions)  # concurrent requests shared model calls
    for q, v in zip(questions, vectors):
        assert [h.label for h in r.search(q, query_vector=v)] == [h.label for h in r.search(q)]
    assert asyncio.run(QueryVectorBatcher(HybridClauseRetriever(index, mode="bm25")).vector("品牌")) is None


def test_batcher_hands_a_model_error_to_every_waiter(tiny):
    import asyncio

    from assistant.api.batching import QueryVectorBatcher

    corpus, settings, embed = tiny
    index = load_index(corpus, settings, embed, rebuild="never")
    r = HybridClauseRetriever(index, query_cache_size=0)

    def broken(texts):
        raise RuntimeError("model failed")

    r.query_vectors = broken

    async def run():
        batcher = QueryVectorBatcher(r)
        return await asyncio.gather(*(batcher.vector(q) for q in ("甲", "乙")), return_exceptions=True)

    results = asyncio.run(run())
    assert all(isinstance(x, RuntimeError) for x in results)


def test_vectors_are_read_from_chroma_in_slices(monkeypatch):
    """One get of every id fails past SQLite's variable limit (a 100x corpus did, see
    benchmarks/README.md); the load reads in slices and keeps node order."""
    from types import SimpleNamespace

    import numpy as np

    from assistant.index import store

    class Collection:
        def __init__(self, vectors):
            self.vectors, self.calls = vectors, []

        def get(self, ids, include):
            self.calls.append(len(ids))
            if len(ids) > 3:
                raise RuntimeError("too many SQL variables")
            found = [i for i in reversed(ids) if i in self.vectors]  # chroma's order is not ours
            return {"ids": found, "embeddings": [self.vectors[i] for i in found]}

    monkeypatch.setattr(store, "READ_SLICE", 3)
    nodes = [SimpleNamespace(id_=f"n{i}", metadata={"doc_id": "d"}) for i in range(8)]
    col = Collection({f"n{i}": [float(i + 1), 1.0] for i in range(8)})
    got = store._read_vectors(col, nodes)
    assert col.calls == [3, 3, 2]
    want = np.array([[i + 1, 1.0] for i in range(8)])
    assert np.allclose(got, want / np.linalg.norm(want, axis=1, keepdims=True))  # node order, normalised
    col.vectors.pop("n5")
    with pytest.raises(store.IndexMismatchError):
        store._read_vectors(col, nodes)


def test_glossary_gives_an_english_question_the_nearest_corpus_words():
    import numpy as np

    from assistant.index.glossary import Glossary

    # three corpus words on three axes; "complaint" lies near 投诉, "funding" near 资金
    words = ["投诉", "资金", "品牌"]
    g = Glossary(words, np.eye(3, dtype=np.float32), frozenset({"the", "for", "what"}))
    assert g.phrases("What is the funding for complaint?") == ["funding", "complaint", "funding complaint"]
    axis = {"funding": [0.1, 0.9, 0.0], "complaint": [0.95, 0.1, 0.0], "funding complaint": [0.5, 0.6, 0.1]}

    def embed(phrases):
        return [np.asarray(axis[p]) / np.linalg.norm(axis[p]) for p in phrases]

    assert g.translate("What is the funding for complaint?", embed) == ["资金", "投诉"]
    assert g.translate("什么是品牌", embed) == []  # no English content word: nothing to translate


def test_the_glossary_is_built_with_the_index_checksummed_and_used_for_english(tiny):
    corpus, settings, embed = tiny
    index = load_index(corpus, settings, embed, rebuild="never")
    assert index.glossary is not None and "国际化" in index.glossary.words
    assert "glossary.npz" in index.meta["files"]
    retriever = HybridClauseRetriever(index)
    _, qa = retriever.scored("internationalization strategy")
    assert qa.glossary and all(w in index.glossary.words for w in qa.glossary)
    _, qa_zh = retriever.scored("国际化战略")
    assert qa_zh.glossary == []  # a Chinese question is searched with its own words
    # a damaged glossary is a damaged index: refused, not silently searched without it
    (settings.index_dir / "glossary.npz").write_bytes(b"broken")
    assert any("glossary.npz" in r for r in check_meta(corpus, settings, embed))


def test_a_rebuild_embeds_only_the_glossary_words_it_did_not_have(tiny):
    """Adding a document embeds its new words for the glossary, not the whole vocabulary
    again, even without an embedding cache; the glossary is the one a full build makes."""
    from assistant.index.glossary import GLOSSARY_FILE, Glossary

    class Counting(MockEmbedding):
        def _get_query_embedding(self, query: str) -> list[float]:
            asked.append(query)
            return [float(ord(c)) for c in (query * 8)[:8]]  # depends on the word: reuse is visible

    asked: list[str] = []
    corpus, settings, _ = tiny
    settings = settings.model_copy(update={"embed_cache_dir": None})
    embed = Counting(embed_dim=8)
    build_index(corpus, settings, embed, force=True)
    first = Glossary.load(settings.index_dir / GLOSSARY_FILE)
    assert first.words and sorted(asked) == first.words  # a build from nothing embeds every word
    asked.clear()
    (settings.corpus_dir / "tiny.txt").write_text(DOC + "\n3.2 可开展跨境电商推介。\n3.3 宜培育跨境电商人才。\n",
                                                  encoding="utf-8")
    changed = load_corpus(settings.corpus_dir)
    build_index(changed, settings, embed)
    grown = Glossary.load(settings.index_dir / GLOSSARY_FILE)
    new_words = sorted(set(grown.words) - set(first.words))
    assert new_words and sorted(asked) == new_words
    asked.clear()
    build_index(changed, settings, embed, force=True)  # the same corpus from nothing
    full = Glossary.load(settings.index_dir / GLOSSARY_FILE)
    import numpy as np

    # the kept vectors were stored unit-normalised and are normalised again: equal to rounding
    assert full.words == grown.words and np.allclose(full.vectors, grown.vectors, rtol=0, atol=1e-6)
