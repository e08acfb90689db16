"""Internal records → the API's response models. The routes return these models; the
UI's in-process backend dumps the same models, so both give the same JSON shapes."""

from __future__ import annotations

from assistant.answer import render
from assistant.answer.models import Answer
from assistant.api.schemas import AskResponse, ClauseDetail, ClauseOut, DocumentOut, SearchHit, VocabItem
from assistant.corpus.model import Clause
from assistant.corpus.store import Corpus, Document
from assistant.corpus.vocab import Vocab
from assistant.retrieval.retriever import Hit


def clause_out(c: Clause) -> ClauseOut:
    return ClauseOut(doc_id=c.doc_id, clause=c.label, kind=c.kind, title=c.title, text=c.text,
                     heading_path=c.heading_path, parent=c.parent, children=c.children, strength=c.strength,
                     roles=c.roles, phases=c.phases, line_start=c.line_start, line_end=c.line_end)


def clause_detail(doc: Document, unit: Clause) -> ClauseDetail:
    """The unit with its citation string, its full text and its children."""
    return ClauseDetail(**clause_out(unit).model_dump(), cite=doc.spec.cite(unit.label),
                        full_text=doc.full_text(unit), children_units=[clause_out(c) for c in doc.children(unit)])


def doc_fields(doc: Document, vocab: Vocab | None = None) -> dict:
    s = doc.spec
    force = vocab.force.get(s.nature) if vocab else None
    return dict(doc_id=s.doc_id, code=s.code, title=s.title, kind=s.kind, issuer=s.issuer,
                units=len(doc.units), published=s.published, effective=s.effective, nature=s.nature,
                status=s.status, force=f"{force.name}：{force.force}" if force else "",
                format=s.format or s.file.rsplit(".", 1)[-1], source=s.source, added=s.added)


def document_out(doc: Document, vocab: Vocab | None = None, pending: dict | None = None) -> DocumentOut:
    return DocumentOut(**doc_fields(doc, vocab), vectors_pending=doc.doc_id in (pending or {}))


def ask_response(answer: Answer, session_id: str, turn: int, stored: bool = True) -> AskResponse:
    """The /v1/ask contract from an answer record (fields are added, never renamed)."""
    return AskResponse(**answer.to_dict(), session_id=session_id, turn=turn, stored=stored,
                       markdown=render.to_markdown(answer))


def search_hit(h: Hit, corpus: Corpus) -> SearchHit:
    spec = corpus.doc(h.doc_id).spec
    return SearchHit(doc_id=h.doc_id, doc_code=spec.code, doc_title=spec.title, clause=h.label, title=h.title,
                     heading_path=h.heading_path, text=h.text, strength=h.strength, roles=h.roles,
                     phases=h.phases, score=round(h.score, 6), matched_items=h.matched_children)


def roles_out(vocab: Vocab) -> list[VocabItem]:
    return [VocabItem(id=r.id, description=r.description, synonyms=list(r.synonyms)) for r in vocab.roles]


def phases_out(vocab: Vocab) -> list[VocabItem]:
    return [VocabItem(id=p.id, synonyms=list(p.synonyms), scheme=p.scheme) for p in vocab.phases]
