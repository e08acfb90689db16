"""The service layer the CLI, the API and the UI share: open the index once, search."""

from __future__ import annotations

from assistant.corpus.store import Corpus, load_corpus
from assistant.index.embeddings import make_embedding
from assistant.index.store import ClauseIndex, build_index, load_index
from assistant.retrieval.retriever import HybridClauseRetriever
from assistant.settings import Settings


def open_corpus(settings: Settings) -> Corpus:
    return load_corpus(settings.corpus_dir)


def open_index(settings: Settings, rebuild: str = "auto", corpus: Corpus | None = None) -> ClauseIndex:
    from assistant.index.chroma import building

    corpus = corpus or open_corpus(settings)
    with building(settings):  # a rebuild against a Chroma server that is down: a Chinese error
        index = load_index(corpus, settings, make_embedding(settings), rebuild=rebuild)
    index.embed_model.get_query_embedding("预热")  # load model weights now, not on the first question
    return index


def complete_deferred_vectors(settings: Settings, embed=None) -> dict | None:
    """The vectors an add deferred, computed after it was answered (API, UI). A failure is
    logged, not raised: the index stays consistent with the vectors pending, and the next
    add, `brand-assistant index` or a restart retries. None when nothing was computed."""
    import logging

    from assistant.ingest.kb import KnowledgeBase

    log = logging.getLogger("assistant.kb")
    try:
        meta = KnowledgeBase(settings, embed=embed).complete_vectors()
    except Exception as exc:  # noqa: BLE001 - logged; the index stays consistent, the vectors pending
        log.error("deferred vectors not computed (the next add, `brand-assistant index` or a restart "
                  "retries): %s", exc)
        return None
    if meta is not None:
        log.info("deferred vectors computed: %s nodes in %s s", meta.get("embedded_now"), meta.get("seconds"))
    return meta


def finish_pending_vectors(settings: Settings, index: ClauseIndex) -> ClauseIndex:
    """The index with the passage vectors an earlier add deferred and did not get to compute
    (its process ended first): computed now, at start-up, through the knowledge base's
    transaction. The index itself when nothing is pending (or the vectors live on a server)."""
    if not index.vectors_pending or settings.chroma_host:
        return index
    from assistant.ingest.kb import KnowledgeBase

    KnowledgeBase(settings, embed=index.embed_model).complete_vectors()
    return load_index(open_corpus(settings), settings, index.embed_model, rebuild="never")


def rebuild_index(settings: Settings, progress=None, force: bool = False) -> dict:
    from assistant.index.chroma import building

    corpus = open_corpus(settings)
    with building(settings):
        return build_index(corpus, settings, make_embedding(settings), progress=progress, force=force)


def open_curated(settings: Settings, corpus: Corpus):
    """The curated question → units pairs (corpus/curated), checked against this corpus."""
    from assistant.curated import CuratedStore

    return CuratedStore(settings.curated_path, corpus)


def make_retriever(index: ClauseIndex, settings: Settings, **overrides) -> HybridClauseRetriever:
    """The product's retriever: settings' fusion, and the curated pairs (curated=None: without)."""
    kw = {"fusion": settings.fusion, "alpha": settings.fusion_alpha, "char_weight": settings.fusion_char,
          "top_k": settings.top_k,
          "query_cache_size": settings.query_cache_size,
          "curated_similar": settings.curated_similar, "curated_boost": settings.curated_boost}
    if "curated" not in overrides:
        kw["curated"] = open_curated(settings, index.corpus)
    kw.update(overrides)
    return HybridClauseRetriever(index, **kw)


def make_chat(settings: Settings, index: ClauseIndex | None = None):
    """The chat service on the shared index (sessions in settings.sessions_db)."""
    from assistant.chat.service import ChatService

    index = index or open_index(settings)
    return ChatService(index, make_retriever(index, settings), settings)
