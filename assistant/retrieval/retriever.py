"""Retrieval stage: BM25 (jieba) + dense (chromadb) fused, with role/phase understanding.

`HybridClauseRetriever` is a llama-index BaseRetriever: `retrieve(query)` returns
NodeWithScore for clause-level results. `search()` returns `Hit`s, where a clause
and its matching items are one result (the clause, with the items that matched).
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from llama_index.core.base.base_retriever import BaseRetriever
from llama_index.core.schema import NodeWithScore, QueryBundle
from llama_index.core.vector_stores.types import (
    FilterCondition,
    FilterOperator,
    MetadataFilter,
    MetadataFilters,
)

from assistant.corpus.model import STRENGTHS
from assistant.errors import InvalidQueryError
from assistant.index.embeddings import embed_queries
from assistant.index.store import ClauseIndex, bm25_scores
from assistant.retrieval.query import QueryAnalysis, QueryAnalyzer

Mode = Literal["hybrid", "bm25", "dense"]
LIST_KEYS = ("roles", "phases")


@dataclass
class SearchFilters:
    doc_ids: list[str] = field(default_factory=list)
    roles: list[str] = field(default_factory=list)
    phases: list[str] = field(default_factory=list)
    strengths: list[str] = field(default_factory=list)

    def validate(self, index: ClauseIndex) -> None:
        """Unknown values are a clear error that lists the valid ones."""
        vocab = index.corpus.vocab
        checks = [("doc_ids", self.doc_ids, list(index.corpus.documents), "文件编号"),
                  ("roles", self.roles, vocab.role_ids, "角色"),
                  ("phases", self.phases, vocab.phase_ids, "阶段"),
                  ("strengths", self.strengths, list(STRENGTHS), "强度")]
        for name, given, valid, zh in checks:
            bad = [v for v in given if v not in valid]
            if bad:
                raise InvalidQueryError(
                    f"未知的{zh}：{'、'.join(bad)}。可选值：{'、'.join(valid)}",
                    hint=f"filters.{name}: unknown {bad}; valid: {valid}",
                )

    def to_metadata_filters(self) -> MetadataFilters | None:
        parts: list[MetadataFilter | MetadataFilters] = []
        if self.doc_ids:
            parts.append(MetadataFilter(key="doc_id", value=self.doc_ids, operator=FilterOperator.IN))
        if self.strengths:
            parts.append(MetadataFilter(key="strength", value=self.strengths, operator=FilterOperator.IN))
        for key, values in (("roles", self.roles), ("phases", self.phases)):
            if values:
                parts.append(MetadataFilters(
                    filters=[MetadataFilter(key=key, value=v, operator=FilterOperator.CONTAINS) for v in values],
                    condition=FilterCondition.OR,
                ))
        return MetadataFilters(filters=parts, condition=FilterCondition.AND) if parts else None


_CHROMA_OPS = {FilterOperator.EQ: "$eq", FilterOperator.NE: "$ne", FilterOperator.IN: "$in",
               FilterOperator.NIN: "$nin", FilterOperator.CONTAINS: "$contains"}


def chroma_where(filters: MetadataFilters) -> dict:
    """MetadataFilters → a chroma `where`, including $contains on string arrays
    (roles, phases), which llama-index's Chroma adapter does not translate."""
    parts = []
    for f in filters.filters:
        if isinstance(f, MetadataFilters):
            parts.append(chroma_where(f))
        else:
            parts.append({f.key: {_CHROMA_OPS[f.operator]: f.value}})
    if len(parts) == 1:
        return parts[0]
    return {"$or" if filters.condition == FilterCondition.OR else "$and": parts}


def matches(metadata: dict[str, Any], filters: MetadataFilters | None) -> bool:
    """Evaluate the same filters in Python (the sparse side filters with this)."""
    if filters is None:
        return True
    results = []
    for f in filters.filters:
        if isinstance(f, MetadataFilters):
            results.append(matches(metadata, f))
            continue
        value = metadata.get(f.key)
        if f.operator == FilterOperator.IN:
            results.append(value in f.value)
        elif f.operator == FilterOperator.NIN:
            results.append(value not in f.value)
        elif f.operator == FilterOperator.CONTAINS:
            results.append(isinstance(value, list) and f.value in value)
        elif f.operator == FilterOperator.NE:
            results.append(value != f.value)
        else:
            results.append(value == f.value)
    return any(results) if filters.condition == FilterCondition.OR else all(results)


class VectorCache:
    """A small thread-safe LRU of query vectors (size 0 = off)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._data: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> np.ndarray | None:
        with self._lock:
            v = self._data.get(key)
            if v is not None:
                self._data.move_to_end(key)
            return v

    def put(self, key: str, value: np.ndarray) -> None:
        if self.size <= 0:
            return
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self.size:
                self._data.popitem(last=False)


@dataclass
class Context:
    """Where a conversation is: the documents and units ("doc_id:label") of the section its
    previous answer was about. A follow-up that names no document of its own prefers them,
    a little (HybridClauseRetriever.context_share)."""

    docs: set[str] = field(default_factory=set)
    units: set[str] = field(default_factory=set)


@dataclass
class Retrieval:
    """One question's retrieval, as the answer stage receives it."""

    qa: QueryAnalysis
    ranked: list[tuple[int, float]]  # (node position, fused score), best first
    hits: list["Hit"]
    channels: dict = field(default_factory=dict)  # per-node scores of each side: word, char, dense, factor


@dataclass
class Hit:
    doc_id: str
    label: str
    score: float
    text: str
    title: str
    heading_path: str
    kind: str
    strength: str
    roles: list[str]
    phases: list[str]
    matched_children: list[str] = field(default_factory=list)

    @property
    def labels(self) -> list[str]:
        """The clause and the items of it that matched."""
        return [self.label, *self.matched_children]


class HybridClauseRetriever(BaseRetriever):
    """BM25 over jieba tokens + dense vectors in chromadb, fused, role/phase aware."""

    def __init__(self, index: ClauseIndex, *, mode: Mode = "hybrid",
                 fusion: Literal["rrf", "weighted"] = "weighted", alpha: float = 0.4, char_weight: float = 0.3,
                 top_k: int = 10, candidates: int = 50, understanding: bool = True,
                 role_boost: float = 0.25, owner_boost: float = 0.6, phase_boost: float = 0.35,
                 doc_boost: float = 0.5, term_boost: float = 0.5, metadata_boost: float = 1.0,
                 cover_factor: float = 0.5, filters: SearchFilters | None = None, rrf_k: int = 60,
                 query_cache_size: int = 1024, hint_share: float = 0.5, context_share: float = 0.5,
                 curated=None, curated_similar: float = 0.93, curated_boost: float = 0.5) -> None:
        super().__init__()
        self.index = index
        self.mode = mode
        self.fusion = fusion
        self.alpha = alpha  # weight of the word BM25 (jieba) in the weighted mix; dense gets 1 - alpha
        self.char_weight = char_weight  # weight of the character-bigram BM25, added to the mix
        self.top_k = top_k
        self.candidates = candidates
        self.understanding = understanding
        self.role_boost, self.owner_boost = role_boost, owner_boost
        self.phase_boost, self.doc_boost, self.term_boost = phase_boost, doc_boost, term_boost
        self.metadata_boost = metadata_boost
        # a cover holds a document's code, dates and titles: for a question that asks for none
        # of them its score is multiplied by this (its English title and "GB/T" match words)
        self.cover_factor = cover_factor
        self.filters = filters or SearchFilters()
        self.rrf_k = rrf_k
        self.hint_share = hint_share  # a filter's role/phase boosts this share of a named one's
        # a follow-up that names no document: the document the conversation is about gets this
        # share of the boost a document named in the question gets
        self.context_share = context_share
        # curated question → units pairs (assistant/curated.py): the same question is answered
        # with the pair's units, a similar one gets them lifted
        self.curated = curated
        self.curated_similar, self.curated_boost = curated_similar, curated_boost
        self._curated_vectors: tuple[int, list, np.ndarray | None] = (-1, [], None)
        # the same question text always gets the same vector: portals and follow-ups repeat
        # questions, and embedding is most of the CPU of a search
        self._vectors = VectorCache(query_cache_size)
        self._pending: dict[int, np.ndarray] = {}  # node vectors embedded at query time (dense_pending)
        corpus = index.corpus
        body = "\n".join(u.text for u in corpus.units() if u.kind not in ("cover", "foreword", "reference"))
        self.analyzer = QueryAnalyzer(corpus.vocab, [d.spec for d in corpus.documents.values()], body)

    # -- llama-index entry point ------------------------------------------------
    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        hits = self.search(query_bundle.query_str)
        out = []
        for h in hits:
            node = self.index.node(f"{h.doc_id}:{h.label}")
            node_copy = node.model_copy()
            node_copy.metadata = {**node.metadata, "matched_children": h.matched_children}
            out.append(NodeWithScore(node=node_copy, score=h.score))
        return out

    # -- scoring ----------------------------------------------------------------
    def dense_text(self, question: str) -> str:
        """The text whose vector the dense side matches (the analysed question)."""
        return self.analyzer.analyze(question).text

    def cached_vector(self, text: str) -> np.ndarray | None:
        return self._vectors.get(text)

    def query_vectors(self, texts: list[str]) -> list[np.ndarray]:
        """Unit-normalised vectors for dense texts; the uncached ones in one model call."""
        found = {t: self._vectors.get(t) for t in texts}
        missing = [t for t, v in found.items() if v is None]
        if missing:
            for t, v in zip(missing, embed_queries(self.index.embed_model, missing)):
                q = np.asarray(v, dtype=np.float32)
                q = q / (np.linalg.norm(q) or 1.0)
                q.flags.writeable = False
                self._vectors.put(t, q)
                found[t] = q
        return [found[t] for t in texts]

    def _dense(self, question: str, mask: np.ndarray | None, mf: MetadataFilters | None,
               k: int, query_vector: np.ndarray | None = None) -> dict[int, float]:
        """Cosine similarity of the top-k nodes.

        In memory (the default with embedded chroma): an exact dot product against the
        vectors read from chroma at start-up. Otherwise the chroma collection behind the
        llama-index ChromaVectorStore is asked for ids and distances only: rebuilding
        full nodes from stored metadata would triple the latency and we hold the nodes."""
        q = query_vector if query_vector is not None else self.query_vectors([question])[0]
        vectors = self.index.vectors
        if vectors is not None:
            sims = vectors @ q
            if self.index.vectors_pending:  # their rows are NaN: not in the dense ranking yet
                sims = np.where(np.isnan(sims), -np.inf, sims)
            if mask is not None:
                sims = np.where(mask, sims, -np.inf)
            k = min(k, int(np.isfinite(sims).sum()))
            if k <= 0:
                return {}
            top = np.argpartition(-sims, k - 1)[:k]
            return {int(i): float(sims[i]) for i in top}
        res = self.index.vector_store.client.query(
            query_embeddings=[q.tolist()], n_results=k, where=chroma_where(mf) if mf else None,
            include=["distances"])
        out: dict[int, float] = {}
        for node_id, dist in zip(res["ids"][0], res["distances"][0]):
            pos = self.index.node_pos.get(node_id)
            if pos is not None:
                out[pos] = 1.0 - float(dist)
        return out

    def similarities(self, text: str, positions: list[int]) -> list[float]:
        """Cosine of the dense text's vector with these nodes' vectors (from memory, or read
        from chroma when dense search runs there)."""
        if not positions:
            return []
        q = self.query_vectors([text])[0]
        if self.index.vectors is not None:
            out = [float(self.index.vectors[p] @ q) for p in positions]
            if any(np.isnan(x) for x in out):  # a document whose vectors are pending: embed these few
                vec = self._pending_vectors([p for p, x in zip(positions, out) if np.isnan(x)])
                out = [float(vec[p] @ q) if np.isnan(x) else x for p, x in zip(positions, out)]
            return out
        ids = [self.index.nodes[p].id_ for p in positions]
        got = self.index.vector_store.client.get(ids=ids, include=["embeddings"])
        by_id = {i: np.asarray(v, dtype=np.float32) for i, v in zip(got["ids"], got["embeddings"])}
        out = []
        for i in ids:
            v = by_id.get(i)
            out.append(float(v @ q / (np.linalg.norm(v) or 1.0)) if v is not None else 0.0)
        return out

    def _pending_vectors(self, positions: list[int]) -> dict[int, np.ndarray]:
        """Unit vectors of nodes whose document's vectors are still being computed, embedded
        here (a handful per answer), kept until the index is reloaded."""
        from assistant.index.store import embed_text

        todo = [p for p in positions if p not in self._pending]
        if todo:
            texts = [embed_text(self.index.nodes[p].get_content()) for p in todo]
            for p, v in zip(todo, self.index.embed_model.get_text_embedding_batch(texts)):
                v = np.asarray(v, dtype=np.float32)
                self._pending[p] = v / (np.linalg.norm(v) or 1.0)
        return {p: self._pending[p] for p in positions}

    def _sparse(self, qa: QueryAnalysis, mask: np.ndarray | None, k: int, chars: bool = False) -> dict[int, float]:
        text = qa.sparse_text if self.understanding else qa.text
        tokens = self.index.tokenizer.char_ngrams(text) if chars else self.index.tokenizer(text)
        scores = bm25_scores(self.index, tokens, chars=chars)
        if mask is not None:
            scores = np.where(mask, scores, 0.0)
        top = np.argsort(-scores)[:k]
        return {int(i): float(scores[i]) for i in top if scores[i] > 0}

    def scored(self, question: str, filters: SearchFilters | None = None,
               query_vector: np.ndarray | None = None,
               prefer_docs: list[str] | None = None, hint_roles: list[str] | None = None,
               hint_phases: list[str] | None = None,
               lift_similar: bool = True, context: "Context | None" = None,
               ) -> tuple[list[tuple[int, float]], QueryAnalysis]:
        """All candidate nodes with fused (and boosted) scores, best first. query_vector:
        the vector of dense_text(question), when the caller embedded it already. hint_roles,
        hint_phases: set by the user as filters; they lift units of that role or phase a
        little (hint_share of the boost a role named in the question gets)."""
        ranked, qa, _ = self._score(question, filters, query_vector, prefer_docs, hint_roles, hint_phases,
                                    lift_similar, context)
        return ranked, qa

    def _score(self, question: str, filters: SearchFilters | None, query_vector: np.ndarray | None,
               prefer_docs: list[str] | None, hint_roles: list[str] | None = None,
               hint_phases: list[str] | None = None,
               lift_similar: bool = True,
               context: "Context | None" = None) -> tuple[list[tuple[int, float]], QueryAnalysis, dict]:
        filters = filters or self.filters
        filters.validate(self.index)
        mf = filters.to_metadata_filters()
        qa = self.analyzer.analyze(question)
        if self.understanding and qa.cjk < 0.5 and self.index.glossary is not None and self.mode == "hybrid":
            # an English question: the corpus words nearest its words join the expansions
            qa.glossary = [w for w in self.index.glossary.translate(qa.text, self.query_vectors)
                           if w not in qa.expansions]
        # the conversation's documents count only for a question that names none itself
        context = context if context is not None and not qa.doc_hint else Context()
        qa.doc_hint.extend(d for d in prefer_docs or [] if d not in qa.doc_hint)
        qa.hint_roles = [r for r in hint_roles or [] if r not in qa.roles]
        qa.hint_phases = [p for p in hint_phases or [] if p not in qa.phases]
        mask = None
        if mf is not None:
            mask = np.array([matches(n.metadata, mf) for n in self.index.nodes])
        sparse = self._sparse(qa, mask, self.candidates) if self.mode != "dense" else {}
        chars = (self._sparse(qa, mask, self.candidates, chars=True)
                 if self.mode == "hybrid" and self.char_weight > 0 else {})
        dense = self._dense(qa.text, mask, mf, self.candidates, query_vector) if self.mode != "bm25" else {}
        fused: dict[int, float] = {}
        if self.mode == "bm25":
            fused = dict(sparse)
        elif self.mode == "dense":
            fused = dict(dense)
        elif self.fusion == "rrf":
            for ranking in (sparse, dense):
                for rank, pos in enumerate(sorted(ranking, key=ranking.get, reverse=True)):
                    fused[pos] = fused.get(pos, 0.0) + 1.0 / (self.rrf_k + rank + 1)
        else:
            smax = max(sparse.values(), default=0.0) or 1.0
            cmax = max(chars.values(), default=0.0) or 1.0
            dvals = list(dense.values())
            dmin, dmax = (min(dvals), max(dvals)) if dvals else (0.0, 1.0)
            span = (dmax - dmin) or 1.0
            # an English question matches little of the Chinese text word for word: the
            # sparse views count in proportion to how much of the question is Chinese
            w_word, w_char = self.alpha * qa.sparse_cjk, self.char_weight * qa.sparse_cjk
            for pos in set(sparse) | set(dense) | set(chars):
                s = sparse.get(pos, 0.0) / smax
                c = chars.get(pos, 0.0) / cmax
                d = (dense[pos] - dmin) / span if pos in dense else 0.0
                fused[pos] = w_word * s + w_char * c + (1 - self.alpha) * d
        factors: dict[int, float] = {}
        if self.understanding:
            for pos in fused:
                md = self.index.nodes[pos].metadata
                factor = 1.0
                if qa.roles and set(qa.roles) & set(md["owner_roles"]):
                    factor += self.owner_boost
                elif qa.roles and set(qa.roles) & set(md["roles"]):
                    factor += self.role_boost
                if qa.phases and set(qa.phases) & set(md["phases"]):
                    factor += self.phase_boost
                if qa.hint_roles and not qa.roles and set(qa.hint_roles) & set(md["roles"]):
                    factor += self.hint_share * self.role_boost
                if qa.hint_phases and not qa.phases and set(qa.hint_phases) & set(md["phases"]):
                    factor += self.hint_share * self.phase_boost
                if qa.doc_hint and md["doc_id"] in qa.doc_hint:
                    factor += self.doc_boost
                elif md["doc_id"] in context.docs:
                    factor += self.context_share * self.doc_boost
                    if f'{md["doc_id"]}:{md["label"]}' in context.units:
                        factor += self.context_share * self.doc_boost
                if qa.definition and md["kind"] == "term":
                    factor += self.term_boost
                if qa.metadata:
                    # about a document itself: its cover and foreword; a named document's own
                    named = not qa.doc_hint or md["doc_id"] in qa.doc_hint
                    if md["kind"] in ("cover", "foreword") and named:
                        factor += self.metadata_boost
                    elif not named:
                        factor *= 0.5
                elif md["kind"] == "cover":
                    factor *= self.cover_factor
                fused[pos] *= factor
                factors[pos] = factor
        if self.curated is not None:
            qa.curated = self.curated_matches(question, qa, query_vector)
            self._lift(fused, [m for m in qa.curated if m.exact or lift_similar], mask)
        ranked = sorted(fused.items(), key=lambda kv: (-kv[1], kv[0]))
        return ranked, qa, {"word": sparse, "char": chars, "dense": dense, "factor": factors}

    # -- curated pairs ----------------------------------------------------------
    def curated_matches(self, question: str, qa: QueryAnalysis, query_vector: np.ndarray | None = None) -> list:
        """The curated pairs this question matches: the same question (after normalisation),
        else pairs whose question is densely similar (>= curated_similar), closest first."""
        from assistant.curated import CuratedMatch

        store = self.curated
        store.reload_if_changed()
        if not store.pairs:
            return []
        same = store.exact(question)
        if same is not None:
            return [CuratedMatch(same, 1.0, True)]
        if self.mode == "bm25":
            return []
        version, pairs, vecs = self._curated_vectors
        if version != store.version:
            pairs = list(store.pairs)
            vecs = np.stack(self.query_vectors([self.dense_text(p.question) for p in pairs]))
            self._curated_vectors = (store.version, pairs, vecs)
        q = query_vector if query_vector is not None else self.query_vectors([qa.text])[0]
        sims = vecs @ q
        order = np.argsort(-sims)[:2]
        return [CuratedMatch(pairs[i], float(sims[i]), False) for i in order if sims[i] >= self.curated_similar]

    def _lift(self, fused: dict[int, float], matches: list, mask: np.ndarray | None) -> None:
        """The same question: the pair's units first, in the pair's order. A similar one:
        its units gain curated_boost × top score × how far the similarity is above the bar,
        up to just below the top score: a similar question surfaces the curated units next
        to its own best match, it never pushes that match down (the dense model calls many
        different questions about one topic "similar", see evals/README.md)."""
        if not matches:
            return
        top = max(fused.values(), default=0.0) or 1.0
        for m in matches:
            positions = [self.index.node_pos.get(f"{d}:{lab}") for d, lab in m.pair.units]
            positions = [p for p in positions if p is not None and (mask is None or mask[p])]
            if m.exact:
                for rank, pos in enumerate(positions):
                    fused[pos] = top * (1.0 + max(self.curated_boost, 0.2)) * (1.0 - 0.01 * rank)
            else:
                w = (m.similarity - self.curated_similar) / ((1.0 - self.curated_similar) or 1.0)
                for pos in positions:
                    current = fused.get(pos, 0.0)
                    if current < top:
                        fused[pos] = min(top * 0.999, current + self.curated_boost * w * top)

    # -- results ----------------------------------------------------------------
    def search(self, question: str, filters: SearchFilters | None = None, top_k: int | None = None,
               query_vector: np.ndarray | None = None) -> list[Hit]:
        return self.retrieve_all(question, filters, top_k, query_vector).hits

    def retrieve_all(self, question: str, filters: SearchFilters | None = None, top_k: int | None = None,
                     query_vector: np.ndarray | None = None, prefer_docs: list[str] | None = None,
                     hint_roles: list[str] | None = None, hint_phases: list[str] | None = None,
                     lift_similar: bool = True, context: "Context | None" = None) -> "Retrieval":
        """Hits (a clause with the items of it that matched), and what the answer stage also
        needs: the analysed question and every candidate node's fused score."""
        if not question or not question.strip():
            raise InvalidQueryError("问题不能为空。")
        top_k = top_k or self.top_k
        ranked, qa, channels = self._score(question, filters, query_vector, prefer_docs, hint_roles,
                                           hint_phases, lift_similar, context)
        return Retrieval(qa=qa, ranked=ranked, hits=self._group(ranked, top_k), channels=channels)

    def _group(self, ranked: list[tuple[int, float]], top_k: int) -> list[Hit]:
        nodes = self.index.nodes
        in_play = {nodes[pos].id_ for pos, _ in ranked}
        hits: dict[str, Hit] = {}
        order: list[str] = []
        for pos, score in ranked:
            md = nodes[pos].metadata
            # an item joins its clause (or its lettered item) when that is a candidate too
            cur = md
            while cur["kind"] == "item" and cur.get("parent") and f"{md['doc_id']}:{cur['parent']}" in in_play:
                cur = nodes[self.index.node_pos[f"{md['doc_id']}:{cur['parent']}"]].metadata
            head_label = cur["label"]
            key = f"{md['doc_id']}:{head_label}"
            if key not in hits:
                if len(order) >= top_k:
                    # ranked is best-first, so the first top_k heads are the result; what
                    # follows can only add matched items to them
                    continue
                head = nodes[self.index.node_pos[key]]
                hm = head.metadata
                unit = self.index.corpus.clause(hm["doc_id"], hm["label"])
                hits[key] = Hit(doc_id=hm["doc_id"], label=hm["label"], score=score, text=unit.text,
                                title=hm["title"], heading_path=hm["heading_path"], kind=hm["kind"],
                                strength=hm["strength"], roles=unit.roles, phases=unit.phases)
                order.append(key)
            hit = hits[key]
            hit.score = max(hit.score, score)
            if md["label"] != hit.label and md["label"] not in hit.matched_children:
                hit.matched_children.append(md["label"])
        return sorted((hits[k] for k in order), key=lambda h: -h.score)
