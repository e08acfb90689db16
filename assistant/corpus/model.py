"""Records produced by the parser: one `Clause` per citable unit."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

# Kinds of unit. The parser only ever emits these.
KINDS = (
    "cover",  # 封面: the cover page of a standard (code, title, dates, issuer)
    "foreword",  # 前言
    "introduction",  # 引言 / 导语 of a notice
    "chapter",  # top-level numbered chapter, 附件N, 附录A, 一、 of a notice
    "clause",  # numbered clause (6.4.4) or （五） / 1. of a notice
    "item",  # lettered item a) or numbered sub-item 1)
    "note",  # 注 / 注1
    "term",  # a term of 术语和定义
    "figure",  # 图1 caption (the figure itself is not in the text)
    "table",  # a table of indicators
    "table-row",  # one row of a table or form
    "form",  # a form (表A.1, 申请表) or one checkbox field of a status form
    "reference",  # 参考文献 and its entries
    "fragment",  # text the received file starts with before any heading
    "signature",  # 落款: the issuing office under a notice
)

KIND_ZH = {"cover": "封面", "foreword": "前言", "introduction": "引言/导语", "chapter": "章", "clause": "条",
           "item": "列项", "note": "注", "term": "术语", "figure": "图", "table": "表", "table-row": "表格行",
           "form": "表单", "reference": "参考文献", "fragment": "首部文字", "signature": "落款"}
assert set(KIND_ZH) == set(KINDS)

# why a line of a source file is in no unit, as a user reads it
SKIP_ZH = {"cover": "封面", "toc": "目次", "page-break": "分页", "doc-title": "文件标题", "back-cover": "封底",
           "stray-dash": "孤立破折号"}
STRENGTHS = ("shall", "should", "may", "shall-not", "none")
NORMATIVE = tuple(s for s in STRENGTHS if s != "none")  # the strengths a modal (应/宜/可/不应) gives
STRENGTH_ZH = {"shall": "应", "should": "宜", "may": "可", "shall-not": "不应", "none": "无"}


@dataclass
class Clause:
    doc_id: str
    label: str
    kind: str
    parent: str | None = None
    title: str | None = None
    text: str = ""
    line_start: int = 0  # 1-based, inclusive; spans the unit's own lines
    line_end: int = 0
    lines: list[int] = field(default_factory=list)  # own source lines (1-based)
    heading_path: str = ""
    children: list[str] = field(default_factory=list)
    strength: str = "none"
    strength_inherited: bool = False  # True when taken from the lead-in clause
    modal: str = ""  # the modal word as written (应, 宜, 可, 不得, 要…), own or the lead-in's
    roles: list[str] = field(default_factory=list)
    owner_roles: list[str] = field(default_factory=list)
    phases: list[str] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    inferred: bool = False  # label inferred where the received text lost it
    order: int = 0

    @property
    def uid(self) -> str:
        return f"{self.doc_id}:{self.label}"

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class SkippedLine:
    """A non-blank source line that is deliberately not part of any unit."""

    line: int
    reason: str  # cover, toc, page-break, doc-title, back-cover, stray-dash
