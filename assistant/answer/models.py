"""Answer records (internal; the API has its own pydantic models)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

STRENGTH_GROUPS = [
    ("shall", "应（必须）"),
    ("shall-not", "不应（禁止）"),
    ("should", "宜（建议）"),
    ("may", "可（可选）"),
    ("none", "其他（无规范性用语）"),
]


@dataclass
class Citation:
    doc_id: str
    doc_code: str
    doc_title: str
    label: str
    quote: str
    strength: str
    heading_path: str = ""

    @property
    def cite(self) -> str:
        """The bracketed reference a person pastes into a document."""
        return f"〔{self.doc_code or self.doc_title} {self.label}〕"

    def to_dict(self) -> dict:
        d = asdict(self)
        d["clause"] = self.label
        d["cite"] = self.cite
        return d


@dataclass
class Answer:
    question: str
    answer: str
    supported: bool
    citations: list[Citation] = field(default_factory=list)
    related: list[Citation] = field(default_factory=list)
    nearest_topics: list[str] = field(default_factory=list)
    mode: str = "extractive"  # extractive | llm | llm-fallback | abstain
    effective_question: str = ""  # after follow-up resolution
    roles: list[str] = field(default_factory=list)
    phases: list[str] = field(default_factory=list)
    doc_ids: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # e.g. sentences the LLM check removed

    def to_dict(self) -> dict:
        return {
            "question": self.question,
            "answer": self.answer,
            "supported": self.supported,
            "citations": [c.to_dict() for c in self.citations],
            "related": [c.to_dict() for c in self.related],
            "nearest_topics": self.nearest_topics,
            "mode": self.mode,
            "effective_question": self.effective_question or self.question,
            "roles": self.roles,
            "phases": self.phases,
            "doc_ids": self.doc_ids,
            "notes": self.notes,
        }
