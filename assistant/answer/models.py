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

    @classmethod
    def from_dict(cls, d: dict) -> "Citation":
        """From to_dict() or the API's CitationOut (which carries `cite` but not `cite_name`)."""
        label = d.get("label") or d["clause"]
        name = d.get("cite_name") or ""
        cite = d.get("cite") or ""
        if not name and cite.startswith("〔") and cite.endswith(f" {label}〕"):
            name = cite[1:-len(label) - 2]
        return cls(doc_id=d["doc_id"], doc_code=d.get("doc_code", ""), doc_title=d.get("doc_title", ""), label=label,
                   quote=d.get("quote", ""), strength=d.get("strength", "none"), heading_path=d.get("heading_path", ""),
                   cite_name=name)


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

    @classmethod
    def from_dict(cls, d: dict) -> "Point":
        return cls(Citation.from_dict(d["citation"]), [cls.from_dict(i) for i in d.get("items") or []],
                   d.get("context", ""), d.get("note", ""))


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
    curated: str = ""  # the id of the curated pair (an admin's correction) this answer follows
    # when the request's filters (documents, role, phase) left little: the answer without them
    unfiltered: "Unfiltered | None" = None

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
            "curated": self.curated,
            "unfiltered": self.unfiltered.to_dict() if self.unfiltered else None,
        }

    @classmethod
    def from_dict(cls, d: dict) -> "Answer":
        """An answer from to_dict() or from the API's /v1/ask JSON, for rendering (render.py):
        the UI renders the structure it receives, it never re-parses the text."""
        cites = [Citation.from_dict(c) for c in d.get("citations") or []]
        return cls(question=d.get("question", ""), answer=d.get("answer", ""), supported=bool(d.get("supported")),
                   citations=cites, related=[Citation.from_dict(c) for c in d.get("related") or []],
                   nearest_topics=list(d.get("nearest_topics") or []), mode=d.get("mode", "extractive"),
                   effective_question=d.get("effective_question", ""), roles=list(d.get("roles") or []),
                   phases=list(d.get("phases") or []), doc_ids=list(d.get("doc_ids") or []),
                   notes=list(d.get("notes") or []), coverage=d.get("coverage") or ("answered" if d.get("supported")
                                                                                     else "none"),
                   missing=list(d.get("missing") or []), direct=d.get("direct", ""),
                   points=[Point.from_dict(p) for p in d.get("points") or []],
                   other_items=[Citation.from_dict(c) for c in d.get("other_items") or []],
                   strength=d.get("strength"), force=d.get("force", ""), confidence=d.get("confidence"),
                   curated=d.get("curated") or "",
                   unfiltered=Unfiltered.from_dict(d["unfiltered"]) if d.get("unfiltered") else None)


@dataclass
class Unfiltered:
    """The same question without the request's filters, offered when the filters left no
    answer or a weaker one than the documents give ("在所选文件中未找到；在全部文件中有…")."""

    message: str  # what the filters did, in Chinese
    coverage: str
    direct: str
    citations: list[Citation] = field(default_factory=list)  # the main citations of its points
    filters: dict = field(default_factory=dict)  # the filters that were set: doc_ids, role, phase

    def to_dict(self) -> dict:
        return {"message": self.message, "coverage": self.coverage, "direct": self.direct,
                "citations": [c.to_dict() for c in self.citations], "filters": self.filters}

    @classmethod
    def from_dict(cls, d: dict) -> "Unfiltered":
        return cls(d.get("message", ""), d.get("coverage", "none"), d.get("direct", ""),
                   [Citation.from_dict(c) for c in d.get("citations") or []], dict(d.get("filters") or {}))
