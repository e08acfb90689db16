"""Index stage: clause units → llama-index nodes → chromadb (dense) + bm25s (sparse).

Persisted under index/:
  chroma/            chromadb PersistentClient store (one collection of clause nodes)
  bm25/              bm25s index over jieba tokens
  bm25-chars/        bm25s index over character bigrams (typos, segmentation mismatches)
  userdict.txt       the generated jieba dictionary
  nodes.json         node id → metadata and text (for results and the sparse side)
  meta.json          what built it (embedding id and dimension, dictionary hash,
                     corpus file hashes, package version) and the SHA-256 of every
                     other index file, checked at load: a garbled, swapped or missing
                     file is rebuilt (rebuild="auto") or refused with a Chinese message
                     that says what to run, never loaded; and `dense_pending`, the
                     documents whose passage vectors are still to be computed

A rebuild re-embeds only documents whose source changed (or everything when the
embedding model changed); the BM25 side is rebuilt whole (it takes milliseconds).
A corpus that did not load cleanly is never built from: a document whose file failed
would otherwise lose its vectors, on a shared Chroma server for every instance.

Deferred vectors (`defer_dense=True`, used when a document is added): a changed document
whose passages are not all in the embedding cache is indexed for the word-level sides
(BM25 over words and character bigrams) at once and left out of the dense side. The
collection's own corpus record leaves it out too, so the next ordinary build finds it
changed and embeds it; until then meta.json lists it under `dense_pending` with its
node count, the load checks expect that many vectors fewer, and dense search skips
its nodes. Adding a long document then takes seconds instead of a minute of e5.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import time
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any, Callable

import bm25s
import numpy as np
from llama_index.core.embeddings import BaseEmbedding
from llama_index.core.schema import NodeRelationship, RelatedNodeInfo, TextNode
from llama_index.vector_stores.chroma import ChromaVectorStore

from assistant.corpus.model import Clause
from assistant.corpus.store import Corpus, Document
from assistant.errors import CorpusIncompleteError, IndexMismatchError, IndexNotFoundError
from assistant.index.embeddings import EmbeddingCache, embed_queries, embedding_id
from assistant.index.glossary import GLOSSARY_FILE, Glossary, corpus_words
from assistant.index.glossary import load_stopwords as load_stopwords_en
from assistant.index.tokenizer import (
    ChineseTokenizer,
    domain_terms,
    load_stopwords,
    user_dict_hash,
    write_user_dict,
)
from assistant.settings import Settings

COLLECTION = "clauses"
INDEX_FORMAT = 6


def package_version() -> str:
    try:
        return version("brand-assistant")
    except Exception:  # pragma: no cover - running from a source tree
        return "0+unknown"


def node_text(doc: Document, unit: Clause) -> str:
    """What is indexed: heading path, label and title, then the unit's own text."""
    head = " > ".join(x for x in (unit.heading_path, f"{unit.label} {unit.title or ''}".strip()) if x)
    body = unit.text
    if unit.kind == "table-row":
        parent = doc.by_label.get(unit.parent or "")
        head = f"{head} {parent.title if parent and parent.title else ''}".strip()
    return f"{doc.spec.title}｜{head}\n{body}".strip()


def sparse_text(content: str) -> str:
    """What the word-level side indexes of a node: without the document title in front. A
    long title ("…总结报告、评价说明及评价申请书") repeated on every unit of its document
    would otherwise pull every question that uses one of its words (评价) to that document."""
    return content.split("｜", 1)[1] if "｜" in content.split("\n", 1)[0] else content


# English words (with a lower-case letter: document codes such as GXAS or GB/T stay)
_LATIN_RUN = re.compile(r"[A-Za-z]*[a-z][A-Za-z]*(?:[ \-'][A-Za-z]*[a-z][A-Za-z]*)*")


def embed_text(content: str) -> str:
    """What the dense model sees of a node: its text without English runs. The documents
    are Chinese; their few English lines (a cover's English title, the English names of
    terms) would otherwise draw every English question to the cover and the terms, since
    English matches English more closely than Chinese does across languages."""
    return re.sub(r"[ \t]{2,}", " ", _LATIN_RUN.sub(" ", content)).strip()


def unit_metadata(doc: Document, unit: Clause) -> dict[str, Any]:
    return {
        "doc_id": doc.doc_id,
        "label": unit.label,
        "parent": unit.parent or "",
        "kind": unit.kind,
        "strength": unit.strength,
        # chromadb 1.x stores string arrays and filters them with $contains
        "roles": unit.roles or ["无"],
        "owner_roles": unit.owner_roles or ["无"],
        "phases": unit.phases or ["无"],
        "heading_path": unit.heading_path,
        "title": unit.title or "",
    }


def build_nodes(corpus: Corpus) -> list[TextNode]:
    nodes = []
    for doc in corpus.documents.values():
        for unit in doc.units:
            if unit.kind == "signature" or (not unit.text and not unit.title):
                continue
            node = TextNode(
                id_=unit.uid,
                text=node_text(doc, unit),
                metadata=unit_metadata(doc, unit),
                excluded_embed_metadata_keys=list(unit_metadata(doc, unit)),
                excluded_llm_metadata_keys=list(unit_metadata(doc, unit)),
            )
            # ref_doc_id = doc_id: llama-index copies it into the `doc_id` metadata key
            node.relationships[NodeRelationship.SOURCE] = RelatedNodeInfo(node_id=doc.doc_id)
            nodes.append(node)
    return nodes


def chroma_client(settings: Settings):
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if settings.chroma_host:  # with the token and a timeout (assistant/index/chroma.py)
        from assistant.index.chroma import http_client

        return http_client(settings)
    path = settings.index_dir / "chroma"
    path.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(path), settings=chroma_settings)


HNSW_SEARCH_EF = 100
HNSW_CONSTRUCTION_EF = 200


def _collection(client, create: bool):
    # embedding_function=None: we always pass our own vectors, so chroma never
    # tries to download its default ONNX model. HNSW's search breadth: chroma's default (10)
    # missed the exact nearest unit for 3 of 40 gold questions on one build; the collection is
    # a few thousand vectors, so a wide search costs nothing measurable
    if create:
        return client.get_or_create_collection(COLLECTION, embedding_function=None,
                                               metadata={"hnsw:space": "cosine", "hnsw:search_ef": HNSW_SEARCH_EF,
                                                         "hnsw:construction_ef": HNSW_CONSTRUCTION_EF})
    return client.get_collection(COLLECTION, embedding_function=None)


def _vector_store(collection) -> ChromaVectorStore:
    store = ChromaVectorStore(chroma_collection=collection)
    # roles/phases are string arrays (chromadb 1.x metadata arrays, filtered with $contains);
    # the constructor ignores flat_metadata, so it is set here.
    store.flat_metadata = False
    return store


@dataclass
class ClauseIndex:
    """Everything retrieval needs, loaded once."""

    corpus: Corpus
    nodes: list[TextNode]
    node_pos: dict[str, int]
    bm25: bm25s.BM25
    tokenizer: ChineseTokenizer
    vector_store: ChromaVectorStore | None  # its .client: the collection (ResilientCollection on a server)
    embed_model: BaseEmbedding
    meta: dict[str, Any]
    # unit-normalised node vectors in node order, when dense search runs in memory
    vectors: np.ndarray | None = None
    bm25_chars: bm25s.BM25 | None = None  # character bigrams
    glossary: Glossary | None = None  # English words → corpus words (assistant/index/glossary.py)

    def node(self, node_id: str) -> TextNode:
        return self.nodes[self.node_pos[node_id]]

    @property
    def vectors_pending(self) -> dict[str, int]:
        """Documents whose passage vectors are still being computed (doc_id → nodes)."""
        return dense_pending(self.meta)


def _expected_meta(corpus: Corpus, embed: BaseEmbedding, dict_hash: str, dim: int | None) -> dict:
    return {
        "format": INDEX_FORMAT,
        "package_version": package_version(),
        "embedding": embedding_id(embed),
        "dimension": dim,
        "dictionary_sha256": dict_hash,
        "corpus": corpus.fingerprint(),
    }


def _read_meta(index_dir: Path) -> dict | None:
    path = index_dir / "meta.json"
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError:
        return None


def _index_files(index_dir: Path) -> list[Path]:
    """The index files a checksum is kept for: everything but meta.json and chroma's own
    store (chroma checks its own files; the collection is checked by count and metadata)."""
    files = [index_dir / "userdict.txt", index_dir / "nodes.json", index_dir / GLOSSARY_FILE]
    for name in ("bm25", "bm25-chars"):
        bm25 = index_dir / name
        if bm25.is_dir():
            files += sorted(p for p in bm25.rglob("*") if p.is_file())
    return files


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def file_checksums(index_dir: Path) -> dict[str, str]:
    return {p.relative_to(index_dir).as_posix(): _sha256(p) for p in _index_files(index_dir) if p.is_file()}


def check_files(index_dir: Path, meta: dict) -> list[str]:
    """Reasons the index files differ from what meta.json recorded (empty = intact)."""
    recorded = meta.get("files")
    if not isinstance(recorded, dict) or not recorded:
        return ["索引未记录文件校验和（由旧版本构建）"]
    reasons = []
    for rel, digest in sorted(recorded.items()):
        path = index_dir / rel
        if not path.is_file():
            reasons.append(f"索引文件 {rel} 缺失")
        elif _sha256(path) != digest:
            reasons.append(f"索引文件 {rel} 校验和不符（已损坏或被改动）")
    return reasons


def dictionary(corpus: Corpus, settings: Settings) -> tuple[list[str], str]:
    """The jieba user dictionary the current corpus and vocabularies call for, and its hash."""
    extra = [t for e in corpus.vocab.thesaurus for t in (*e.terms, *e.expand)]
    terms = domain_terms(corpus, extra)
    return terms, user_dict_hash(terms)


def build_index(corpus: Corpus, settings: Settings, embed: BaseEmbedding,
                progress: Callable[[int, int], None] | None = None, force: bool = False,
                defer_dense: bool = False) -> dict:
    """(Re)build the index; re-embeds only the documents whose source changed. Refuses
    (CorpusIncompleteError, nothing touched) when a corpus file failed to load.

    defer_dense: a changed document whose vectors the cache does not hold is not embedded
    now; it is searchable by its words and listed in meta["dense_pending"] (module doc)."""
    if corpus.errors:
        raise CorpusIncompleteError(corpus_problems(corpus))
    t0 = time.perf_counter()
    settings.index_dir.mkdir(parents=True, exist_ok=True)
    terms, dict_hash = dictionary(corpus, settings)
    dict_path = settings.index_dir / "userdict.txt"
    write_user_dict(terms, dict_path)
    nodes = build_nodes(corpus)
    # the glossary this index had, when the same model made it: its words need no embedding
    old_meta = _read_meta(settings.index_dir) or {}
    previous_glossary = None
    if old_meta.get("embedding") == embedding_id(embed) and not force:
        try:
            previous_glossary = Glossary.load(settings.index_dir / GLOSSARY_FILE)
        except (OSError, ValueError, KeyError):  # unreadable: every word is embedded again
            previous_glossary = None

    # What the vectors were built from is recorded on the chroma collection itself, so
    # several API instances sharing one Chroma server re-embed nothing the others did.
    client = chroma_client(settings)
    collection = _collection(client, create=True)
    cmeta = collection.metadata or {}
    same_model = (cmeta.get("embedding") == embedding_id(embed) and cmeta.get("format") == INDEX_FORMAT
                  and not force)
    if not same_model:
        client.delete_collection(COLLECTION)
        collection = _collection(client, create=True)
    store = _vector_store(collection)
    old_corpus = json.loads(cmeta.get("corpus", "{}")) if same_model else {}
    changed = [d for d, h in corpus.fingerprint().items() if old_corpus.get(d) != h]
    removed = [d for d in old_corpus if d not in corpus.documents]
    for doc_id in changed + removed:
        store.delete(ref_doc_id=doc_id)
    todo = [n for n in nodes if n.metadata["doc_id"] in changed]
    dim = cmeta.get("dimension") if same_model else None
    batch = 64
    cache = EmbeddingCache(settings.embed_cache_dir / "embeddings.sqlite3") if settings.embed_cache_dir else None
    model = embedding_id(embed)
    computed = 0
    pending: dict[str, int] = {}
    if defer_dense and same_model:  # a new model re-embeds everything now: nothing to search densely otherwise
        todo, pending = _cached_only(todo, cache, model)
    for i in range(0, len(todo), batch):
        chunk = todo[i: i + batch]
        texts = [embed_text(n.get_content()) for n in chunk]
        known = cache.get(model, texts) if cache else {}
        missing = [t for t in texts if t not in known]
        if missing:
            fresh = dict(zip(missing, embed.get_text_embedding_batch(missing)))
            computed += len(missing)
            if cache:
                cache.put(model, fresh)
            known.update(fresh)
        for n, t in zip(chunk, texts):
            n.embedding = known[t]
        dim = len(chunk[0].embedding)
        store.add(chunk)
        if progress:
            progress(min(i + batch, len(todo)), len(todo))
    if cache:
        cache.close()
    if dim is None:  # nothing embedded and no record: probe once
        dim = len(embed.get_query_embedding("维度"))
    embedded_corpus = {d: h for d, h in corpus.fingerprint().items() if d not in pending}
    collection.modify(metadata={"embedding": embedding_id(embed), "format": INDEX_FORMAT, "dimension": dim,
                                "corpus": json.dumps(embedded_corpus, sort_keys=True)})

    tokenizer = ChineseTokenizer(dict_path, load_stopwords(settings.vocab_dir / "stopwords.txt"))
    for name, split in (("bm25", tokenizer), ("bm25-chars", tokenizer.char_ngrams)):
        bm25 = bm25s.BM25()
        bm25.index([split(sparse_text(n.get_content())) or ["∅"] for n in nodes], show_progress=False)
        bm25_dir = settings.index_dir / name
        if bm25_dir.exists():
            shutil.rmtree(bm25_dir)
        bm25.save(str(bm25_dir), show_progress=False)
    _build_glossary(nodes, tokenizer, embed, settings, cache_model=model, previous=previous_glossary,
                    known_only=defer_dense)
    (settings.index_dir / "nodes.json").write_text(json.dumps(
        [{"id": n.id_, "text": n.get_content(), "metadata": n.metadata} for n in nodes],
        ensure_ascii=False), encoding="utf-8")
    meta = _expected_meta(corpus, embed, dict_hash, dim)
    meta.update({"nodes": len(nodes), "embedded_now": len(todo), "computed_by_model": computed,
                 "dense_pending": dict(sorted(pending.items())),
                 "reembedded_docs": changed, "build_seconds": round(time.perf_counter() - t0, 3),
                 "files": file_checksums(settings.index_dir)})
    (settings.index_dir / "meta.json").write_text(json.dumps(meta, ensure_ascii=False, indent=2),
                                                  encoding="utf-8")
    return meta


def _cached_only(todo: list[TextNode], cache: EmbeddingCache | None,
                 model: str) -> tuple[list[TextNode], dict[str, int]]:
    """The nodes to embed now when vectors are deferred: those of documents whose every
    passage vector the cache holds (free). The others' documents, with their node counts,
    are pending."""
    by_doc: dict[str, list[TextNode]] = {}
    for n in todo:
        by_doc.setdefault(n.metadata["doc_id"], []).append(n)
    now, pending = [], {}
    for doc_id, doc_nodes in by_doc.items():
        texts = [embed_text(n.get_content()) for n in doc_nodes]
        known = cache.get(model, texts) if cache else {}
        if all(t in known for t in texts):
            now += doc_nodes
        else:
            pending[doc_id] = len(doc_nodes)
    return now, pending


def _build_glossary(nodes: list[TextNode], tokenizer: ChineseTokenizer, embed: BaseEmbedding,
                    settings: Settings, cache_model: str, previous: Glossary | None = None,
                    known_only: bool = False) -> None:
    """The corpus words and their query vectors (assistant/index/glossary.py). A rebuild
    embeds only words neither the previous glossary (same model) nor the embedding cache
    holds: adding a document embeds its new words, not the whole vocabulary again.
    known_only (vectors deferred): new words wait for the next full build, which embeds them."""
    words = corpus_words([sparse_text(n.get_content()) for n in nodes], tokenizer)
    had = dict(zip(previous.words, previous.vectors.tolist())) if previous is not None else {}
    known = {w: had[w] for w in words if w in had}
    cache = EmbeddingCache(settings.embed_cache_dir / "embeddings.sqlite3") if settings.embed_cache_dir else None
    key = f"{cache_model}|query"
    if cache:
        known.update(cache.get(key, [w for w in words if w not in known]))
    if known_only:
        words = [w for w in words if w in known]
    missing = [w for w in words if w not in known]
    for i in range(0, len(missing), 256):
        chunk = missing[i: i + 256]
        fresh = dict(zip(chunk, embed_queries(embed, chunk)))
        if cache:
            cache.put(key, fresh)
        known.update(fresh)
    if cache:
        cache.close()
    vectors = np.asarray([known[w] for w in words], dtype=np.float32).reshape(len(words), -1)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True) if len(words) else 1.0
    Glossary(words, vectors / np.where(norms == 0, 1.0, norms)).save(settings.index_dir / GLOSSARY_FILE)


def check_meta(corpus: Corpus, settings: Settings, embed: BaseEmbedding) -> list[str]:
    """Reasons the persisted index does not match the current corpus/settings (empty = ok)."""
    meta = _read_meta(settings.index_dir)
    if meta is None:
        return ["尚未构建索引"]
    reasons = []
    if meta.get("format") != INDEX_FORMAT:
        reasons.append(f"索引格式 {meta.get('format')} ≠ {INDEX_FORMAT}")
    if meta.get("embedding") != embedding_id(embed):
        reasons.append(f"嵌入模型 {meta.get('embedding')} ≠ {embedding_id(embed)}")
    if meta.get("package_version") != package_version():
        reasons.append(f"程序版本 {meta.get('package_version')} ≠ {package_version()}")
    if meta.get("corpus") != corpus.fingerprint():
        changed = sorted(set(meta.get("corpus", {}).items()) ^ set(corpus.fingerprint().items()))
        reasons.append("语料已变化：" + "、".join(sorted({d for d, _ in changed})))
    if meta.get("dictionary_sha256") != dictionary(corpus, settings)[1]:
        reasons.append("分词词典已变化（词表或同义词表有改动）")
    return reasons + check_files(settings.index_dir, meta)


def _check_embedded_store(settings: Settings, meta: dict) -> tuple[list[str], Any]:
    """The embedded chroma collection exists and holds every node: (reasons, collection)."""
    try:
        collection = _collection(chroma_client(settings), create=False)
    except Exception as exc:  # noqa: BLE001 - a missing or unreadable store, whatever chroma raises
        return [f"向量库（{settings.index_dir / 'chroma'}）缺失或无法打开（{type(exc).__name__}）"], None
    pending = dense_pending(meta)
    expected = (meta.get("nodes") or 0) - sum(pending.values())
    count = collection.count()
    if count != expected:
        return [f"向量库有 {count} 条向量，应有 {expected} 条"], None
    cmeta = collection.metadata or {}
    embedded = {d: h for d, h in (meta.get("corpus") or {}).items() if d not in pending}
    if cmeta.get("embedding") != meta.get("embedding") or json.loads(cmeta.get("corpus") or "{}") != embedded:
        return ["向量库的模型或语料版本与索引记录不一致"], None
    return [], collection


def dense_pending(meta: dict | None) -> dict[str, int]:
    """Documents whose passage vectors are still to be computed (doc_id → nodes)."""
    pending = (meta or {}).get("dense_pending")
    return {str(d): int(n) for d, n in pending.items()} if isinstance(pending, dict) else {}


def corpus_problems(corpus: Corpus) -> list[dict]:
    """The corpus files that failed to load, as {file, reason, doc_id} (for /readyz)."""
    out = []
    for e in corpus.errors:
        try:
            name = str(Path(e.path).resolve().relative_to(Path(corpus.root).resolve().parent))
        except ValueError:
            name = e.path
        out.append({"file": name, "reason": getattr(e, "reason", e.message), "doc_id": getattr(e, "doc_id", None)})
    return out


def load_index(corpus: Corpus, settings: Settings, embed: BaseEmbedding, rebuild: str = "auto") -> ClauseIndex:
    """Open the persisted index. rebuild: 'auto' rebuilds on mismatch, 'never' raises.

    Every index file is checked against the checksum meta.json recorded, and the embedded
    chroma collection against the node count. With a Chroma server nothing is asked of
    the server here: the collection is connected on first use (assistant/index/chroma.py),
    so the API starts, not ready, while Chroma is down."""
    if corpus.errors:
        raise CorpusIncompleteError(corpus_problems(corpus))
    if settings.chroma_host and not settings.chroma_token:
        from assistant.index.chroma import http_client

        http_client(settings)  # raises the Chinese configuration error
    reasons = check_meta(corpus, settings, embed)
    collection = None
    if not reasons and not settings.chroma_host:
        reasons, collection = _check_embedded_store(settings, _read_meta(settings.index_dir) or {})
    if reasons:
        if rebuild == "never":
            if reasons == ["尚未构建索引"]:
                raise IndexNotFoundError("尚未构建索引。请运行 brand-assistant index 构建。",
                                         hint="Run: brand-assistant index")
            raise IndexMismatchError(
                "索引与当前语料或配置不一致：" + "；".join(reasons) + "。请运行 brand-assistant index 重建。",
                hint="Rebuild with: brand-assistant index",
            )
        build_index(corpus, settings, embed)
        if not settings.chroma_host:
            collection = _collection(chroma_client(settings), create=False)
    meta = _read_meta(settings.index_dir) or {}
    dict_path = settings.index_dir / "userdict.txt"
    records = json.loads((settings.index_dir / "nodes.json").read_text(encoding="utf-8"))
    nodes = [TextNode(id_=r["id"], text=r["text"], metadata=r["metadata"]) for r in records]
    bm25 = bm25s.BM25.load(str(settings.index_dir / "bm25"), show_progress=False)
    bm25_chars = bm25s.BM25.load(str(settings.index_dir / "bm25-chars"), show_progress=False)
    tokenizer = ChineseTokenizer(dict_path, load_stopwords(settings.vocab_dir / "stopwords.txt"))
    index = ClauseIndex(
        corpus=corpus, nodes=nodes, node_pos={n.id_: i for i, n in enumerate(nodes)},
        bm25=bm25, tokenizer=tokenizer, vector_store=None, embed_model=embed, meta=meta,
        bm25_chars=bm25_chars,
        glossary=Glossary.load(settings.index_dir / GLOSSARY_FILE,
                               load_stopwords_en(settings.vocab_dir / "stopwords_en.txt")))
    if settings.chroma_host:
        from assistant.index.chroma import ResilientCollection

        def on_connect(col) -> None:  # in-memory dense search: the vectors, once Chroma is reachable
            if settings.dense_in_memory and index.vectors is None:
                index.vectors = _read_vectors(col, nodes)

        collection = ResilientCollection(settings, COLLECTION, on_connect=on_connect,
                                         expect={"embedding": meta.get("embedding"), "corpus": meta.get("corpus")})
    elif settings.dense_in_memory:
        index.vectors = _read_vectors(collection, nodes, set(dense_pending(meta)), meta.get("dimension"))
    index.vector_store = _vector_store(collection)
    return index


READ_SLICE = 5000  # ids per chroma get


def _read_vectors(collection, nodes: list[TextNode], pending: set[str] = frozenset(),
                  dim: int | None = None) -> np.ndarray:
    """The stored vector of every node, in node order, normalised for cosine similarity.
    Chroma stays the store of record; this copy makes the query an exact dot product.
    Nodes of documents whose vectors are pending get NaN rows: dense search skips them."""
    ids = [n.id_ for n in nodes]
    by_id: dict = {}
    # in slices: one get of every id fails past SQLite's variable limit (measured at 83,700
    # nodes, benchmarks/README.md "Cost growth")
    for start in range(0, len(ids), READ_SLICE):
        got = collection.get(ids=ids[start:start + READ_SLICE], include=["embeddings"])
        by_id.update(zip(got["ids"], got["embeddings"]))
    missing = [n.id_ for n in nodes if n.id_ not in by_id and n.metadata["doc_id"] not in pending]
    if missing:
        raise IndexMismatchError(f"向量库缺少 {len(missing)} 个条款的向量。请运行 brand-assistant index 重建。",
                                 hint="Rebuild with: brand-assistant index")
    dim = len(next(iter(by_id.values()))) if by_id else (dim or 1)
    vectors = np.asarray([by_id[i] if i in by_id else [np.nan] * dim for i in ids], dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.where(norms == 0, 1.0, norms)


def bm25_scores(index: ClauseIndex, tokens: list[str], chars: bool = False) -> np.ndarray:
    """BM25 score of every node for the query tokens (0 where no token matches); chars:
    over the character-bigram index, for tokens from tokenizer.char_ngrams."""
    bm25 = index.bm25_chars if chars else index.bm25
    if not tokens or bm25 is None:
        return np.zeros(len(index.nodes), dtype=np.float32)
    return np.asarray(bm25.get_scores(tokens), dtype=np.float32)
