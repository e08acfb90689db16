"""Citation validator: nothing unverified reaches the user.

A citation is valid when its label resolves to a real unit of that document and
its quote is verbatim in that unit (its own text, or its text with its items).
"""

from __future__ import annotations

from assistant.answer.models import Citation
from assistant.corpus.model import Clause
from assistant.corpus.store import Corpus
from assistant.errors import AssistantError


def citation_for(corpus: Corpus, unit: Clause) -> Citation:
    """The citation of a unit, quoting its own text (or its title when it has no text)."""
    spec = corpus.doc(unit.doc_id).spec
    return Citation(doc_id=unit.doc_id, doc_code=spec.code, doc_title=spec.title, label=unit.label,
                    quote=unit.text or unit.title or "", strength=unit.strength, heading_path=unit.heading_path)


def check_citation(corpus: Corpus, c: Citation) -> str | None:
    """None when valid, else the reason."""
    try:
        doc = corpus.doc(c.doc_id)
    except AssistantError:
        return f"未知文件 {c.doc_id}"
    unit = doc.by_label.get(c.label)
    if unit is None:
        return f"{c.doc_id} 中没有条款 {c.label}"
    if not c.quote or not c.quote.strip():
        return "引文为空"
    if c.quote not in unit.text and c.quote not in doc.full_text(unit) and c.quote != (unit.title or ""):
        return f"引文不是 {c.label} 的原文"
    if c.doc_code != doc.spec.code or c.doc_title != doc.spec.title:
        return "文件编号或标题与清单不符"
    return None


def validate_citations(corpus: Corpus, citations: list[Citation]) -> tuple[list[Citation], list[tuple[Citation, str]]]:
    ok, rejected = [], []
    for c in citations:
        reason = check_citation(corpus, c)
        if reason is None:
            ok.append(c)
        else:
            rejected.append((c, reason))
    return ok, rejected
