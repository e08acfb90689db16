"""Citations: how a unit is cited, and the check that nothing unverified reaches the user.

A quote is what a person pastes into an official document, so it must be verbatim and
contiguous in the source file. A unit's own text is not always contiguous there: its
lines may be separated by a list marker ("- 通过网络…"), a page break, or a caption. Such a
quote is split into its contiguous parts, joined with "……" (`source_quote`).

A citation is valid when its label resolves to a real unit of that document, its doc
code/title match the manifest, every "……" part of its quote is in that unit (its own
text, its text with its items, or its title) and is contiguous in the source.
"""

from __future__ import annotations

from assistant.answer.models import Citation
from assistant.corpus.model import Clause
from assistant.corpus.store import Corpus, Document
from assistant.errors import AssistantError

ELLIPSIS = "……"


def _compact_with_map(text: str) -> tuple[str, list[int]]:
    """The text without whitespace, and for each kept character its index in `text`."""
    chars, where = [], []
    for i, ch in enumerate(text):
        if not ch.isspace():
            chars.append(ch)
            where.append(i)
    return "".join(chars), where


def source_quote(doc: Document, text: str) -> str:
    """`text` (a unit's text or a span of it) as contiguous parts of the source, joined
    with "……". Each part is the longest prefix of what remains that the source holds
    contiguously (whitespace aside)."""
    src = doc.compact_source
    flat, where = _compact_with_map(text)
    if not flat or flat in src:
        return text
    parts: list[str] = []
    start = 0
    while start < len(flat):
        lo, hi = 1, len(flat) - start  # the longest prefix of flat[start:] found in src
        if flat[start: start + lo] not in src:
            return text  # a character the source does not have: leave it to the validator
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if flat[start: start + mid] in src:
                lo = mid
            else:
                hi = mid - 1
        end = start + lo
        a = where[start]
        b = where[end - 1] + 1
        parts.append(text[a:b].strip())
        start = end
    return ELLIPSIS.join(p for p in parts if p)


def citation_for(corpus: Corpus, unit: Clause, quote: str | None = None) -> Citation:
    """The citation of a unit, quoting `quote` (a span of the unit) or its own text (or its
    title when it has no text), split into contiguous source parts where needed."""
    doc = corpus.doc(unit.doc_id)
    spec = doc.spec
    text = quote if quote is not None else (unit.text or unit.title or "")
    return Citation(doc_id=unit.doc_id, doc_code=spec.code, doc_title=spec.title, label=unit.label,
                    quote=source_quote(doc, text), strength=unit.strength, heading_path=unit.heading_path,
                    cite_name=spec.cite_name)


def quote_parts(quote: str) -> list[str]:
    return [p for p in quote.split(ELLIPSIS)]


def in_source(doc: Document, part: str) -> bool:
    from assistant.corpus.parse import compact

    p = compact(part)
    return bool(p) and p in doc.compact_source


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
    if c.doc_code != doc.spec.code or c.doc_title != doc.spec.title:
        return "文件编号或标题与清单不符"
    own = (unit.text, doc.full_text(unit), unit.title or "")
    for part in quote_parts(c.quote):
        if not part.strip() or not any(part in t for t in own):
            return f"引文不是 {c.label} 的原文"
        if not in_source(doc, part):
            return f"引文在原文件中不连续：{part[:20]}…"
    return None


def quote_in_source(corpus: Corpus, c: Citation) -> bool:
    """The quote is verbatim and contiguous in the source file (each "……" part is)."""
    try:
        doc = corpus.doc(c.doc_id)
    except AssistantError:
        return False
    return all(in_source(doc, p) for p in quote_parts(c.quote))


def validate_citations(corpus: Corpus, citations: list[Citation]) -> tuple[list[Citation], list[tuple[Citation, str]]]:
    ok, rejected = [], []
    for c in citations:
        reason = check_citation(corpus, c)
        if reason is None:
            ok.append(c)
        else:
            rejected.append((c, reason))
    return ok, rejected
