"""Answer records (internal; the API has its own pydantic models).

An answer is data — a direct answer, points with their citations, related provisions — and
render.py turns it into text, Markdown or SSE events; nobody parses rendered text.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

COVERAGES = ("answered", "partial", "none")


@dataclass
class Citation:
    doc_id: str
    doc_code: str
    doc_title: str
    label: str
    quote: str
    strength: str
    heading_path: str = ""
    cite_name: str = ""  # how the document is named in the bracket: its code, else its title

    @property
    def cite(self) -> str:
        """The bracketed reference a person pastes into a document."""
        return f"〔{self.cite_name or self.doc_code or self.doc_title} {self.label}〕"

    @property
    def uid(self) -> str:
        return f"{self.doc_id}:{self.label}"

    def to_dict(self) -> dict:
        d = asdict(self)
        d["clause"] = self.label
        d["cite"] = self.cite
        return d


@dataclass
class Point:
    """One cited provision of an answer; a list clause carries its cited items."""

    citation: Citation
    items: list["Point"] = field(default_factory=list)
    context: str = ""  # the heading the provision sits under (not a quote)
    note: str = ""  # e.g. 常设职责: shown after the citation, never between quote and citation

    def citations(self) -> list[Citation]:
        out = [self.citation]
        for it in self.items:
            out.extend(it.citations())
        return out

    def to_dict(self) -> dict:
        return {"citation": self.citation.to_dict(), "items": [i.to_dict() for i in self.items],
                "context": self.context, "note": self.note}


@dataclass
class Answer:
    question: str
    answer: str  # the plain-text rendering (render.to_text)
    supported: bool  # true only when coverage is "answered"
    citations: list[Citation] = field(default_factory=list)  # every cited unit, in the order shown
    related: list[Citation] = field(default_factory=list)  # other documents' related provisions
    nearest_topics: list[str] = field(default_factory=list)
    mode: str = "extractive"  # extractive | llm | llm-fallback | abstain
    effective_question: str = ""  # after follow-up resolution
    roles: list[str] = field(default_factory=list)
    phases: list[str] = field(default_factory=list)
    doc_ids: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # e.g. sentences the LLM check removed
    coverage: str = "answered"  # answered | partial | none
    missing: list[str] = field(default_factory=list)  # what was asked and is not stated
    direct: str = ""  # the one-paragraph direct answer on top
    points: list[Point] = field(default_factory=list)
    other_items: list[Citation] = field(default_factory=list)  # 同条其他要求 (shown collapsed)
    strength: str | None = None  # the strength claimed for the asked unit ("is this mandatory?")
    force: str = ""  # the legal force of the cited document, when strength is asked
    confidence: float | None = None  # the evidence decision's probability

    def to_dict(self) -> dict:
        return {
            "question": self.question,
            "answer": self.answer,
            "supported": self.supported,
            "coverage": self.coverage,
            "missing": self.missing,
            "direct": self.direct,
            "points": [p.to_dict() for p in self.points],
            "citations": [c.to_dict() for c in self.citations],
            "related": [c.to_dict() for c in self.related],
            "other_items": [c.to_dict() for c in self.other_items],
            "nearest_topics": self.nearest_topics,
            "strength": self.strength,
            "force": self.force,
            "mode": self.mode,
            "effective_question": self.effective_question or self.question,
            "roles": self.roles,
            "phases": self.phases,
            "doc_ids": self.doc_ids,
            "notes": self.notes,
            "confidence": None if self.confidence is None else round(self.confidence, 3),
        }
