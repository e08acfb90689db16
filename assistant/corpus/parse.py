"""Parse a received standard or notice into citable clause units.

The received files are messy (see corpus/README.md). This module turns each
into a flat list of `Clause` records with labels as a person cites them, and
accounts for every non-blank line: each belongs to exactly one unit or is
skipped for a named reason (table of contents, page break, a repeated document
title, the back cover, a stray dash). The cover page before the table of contents is
one unit, `封面`.

Two numbering schemes are understood:
- standards (GB/T 1.1): chapters `6`, clauses `6.4.4`, items `a)`, sub-items
  `1)`, notes `注：`/`注1：`, terms, figures `图1`, 附录A with 表A.1, 参考文献;
- notices (MIIT): `一、`, `（五）`, `1.`, attachments `附件N` with their
  named sections, a checkbox status form and an indicator table.

Tagging (strength, roles, phases, references) is a separate stage: tag.py.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from assistant.corpus.manifest import DocumentSpec
from assistant.corpus.model import Clause, SkippedLine

CN_NUM = "一二三四五六七八九十"
CN_VALUE = {c: i for i, c in enumerate(CN_NUM, 1)}

TERMINAL_PUNCT = "。！？；;：:）)"
SENTENCE_PUNCT = "。，；：,;:！？"

# --- line classification patterns (applied to cleaned text) ---------------
RE_TOC_HEAD = re.compile(r"^目\s*次$")
RE_TOC_ENTRY = re.compile(r"(\.{3,}|…{2,})|(\s(\d{1,3}|[IVX]+)$)|错误！未定义书签。$")
RE_FOREWORD = re.compile(r"^前\s*言$")
RE_INTRO = re.compile(r"^引\s*言$")
RE_REFS = re.compile(r"^参\s*考\s*文\s*献$")
RE_REF_ENTRY = re.compile(r"^\[(\d+)\]\s*(.+)$")
RE_APPENDIX = re.compile(r"^附\s*录\s*([A-Z])$")
RE_TABLE = re.compile(r"^表\s*([A-Z]\.\d+|\d+)\s*(.*)$")
RE_FIGURE = re.compile(r"^图\s*(\d+(?:\.\d+)?)\s+(.+)$")
RE_CHAPTER = re.compile(r"^(\d{1,2})\s+(\S.*)$")
RE_CLAUSE = re.compile(r"^(\d{1,2}(?:\.\d{1,2})+)(?:\s+(.*))?$")
RE_ITEM = re.compile(r"^([a-z])[)）]\s*(.*)$")
RE_SUBITEM = re.compile(r"^(\d{1,2})[)）]\s*(.*)$")
RE_NOTE = re.compile(r"^注\s*(\d*)\s*[：:]\s*(.*)$")
RE_CN1 = re.compile(rf"^([{CN_NUM}]{{1,3}})、\s*(.*)$")
RE_CN2 = re.compile(rf"^（([{CN_NUM}]{{1,3}})）\s*(.*)$")
RE_NUM3 = re.compile(r"^(\d{1,2})[.．](?!\d)\s*(.*)$")
RE_ATTACHMENT = re.compile(r"^附件\s*(\d+)$")
RE_PART = re.compile(rf"^(第[{CN_NUM}]+部分)\s*(.*)$")
RE_FIELD_LINE = re.compile(r"^\S{1,12}[：:]")
RE_CHECKBOX = re.compile(r"^□")


@dataclass
class Line:
    no: int  # 1-based line number in the source
    raw: str
    text: str  # markup and list markers removed, whitespace normalized
    bullet: bool = False  # had an unlabeled list marker (`- ` or `——`)
    tabbed: bool = False  # a cell of a tab-laid form/table
    after_break: bool = False  # a page break (`---`) stands right before it


@dataclass
class ParseResult:
    units: list[Clause]
    skipped: list[SkippedLine]
    warnings: list[str] = field(default_factory=list)


def normalize_ws(s: str) -> str:
    return re.sub(r"\s+", " ", s.replace("\u3000", " ")).strip()


def compact(s: str) -> str:
    """Whitespace-free form used to compare text with its source."""
    return re.sub(r"\s+", "", s.replace("\u3000", ""))


def strip_markup(raw: str, markdown: bool) -> tuple[str, bool]:
    """Remove Markdown heading/bold markup and list markers; return (text, bullet)."""
    s = raw.strip()
    if markdown:
        s = re.sub(r"^#{1,6}\s*", "", s)
        s = s.replace("**", "")
    bullet = False
    m = re.match(r"^[-–]\s+(.*)$", s)
    if m:
        s = m.group(1).strip()
        bullet = True
    elif s.startswith("——"):
        s = s[2:].strip()
        bullet = True
    return normalize_ws(s), bullet


def _short_title(rest: str, limit: int = 30) -> bool:
    return bool(rest) and len(rest) <= limit and not any(p in rest for p in SENTENCE_PUNCT)


def _lead_title(rest: str) -> str | None:
    """`基本条件。区域主导产业…` -> `基本条件` (a run-in title of a notice item)."""
    m = re.match(r"^([^，,；;。：:]{2,40})。", rest)
    return m.group(1) if m else None


def _cn_value(s: str) -> int:
    if s == "十":
        return 10
    if s.startswith("十"):
        return 10 + CN_VALUE[s[1]]
    if s.endswith("十"):
        return CN_VALUE[s[0]] * 10
    if "十" in s:
        a, b = s.split("十")
        return CN_VALUE[a] * 10 + CN_VALUE[b]
    return CN_VALUE[s]


def _cn_of(n: int) -> str:
    if n <= 10:
        return "十" if n == 10 else CN_NUM[n - 1]
    tens, ones = divmod(n, 10)
    return ("" if tens == 1 else CN_NUM[tens - 1]) + "十" + (CN_NUM[ones - 1] if ones else "")


class _Builder:
    """Accumulates units, keeps labels unique and tracks the open units."""

    def __init__(self, spec: DocumentSpec) -> None:
        self.spec = spec
        self.units: list[Clause] = []
        self.by_label: dict[str, Clause] = {}
        self.skipped: list[SkippedLine] = []
        self.warnings: list[str] = []
        self.cur: Clause | None = None  # receives continuation lines
        self.block: Clause | None = None  # clause-level unit (items/notes attach here)
        self.item: Clause | None = None  # lettered item (sub-items attach here)

    def new(self, label: str, kind: str, parent: Clause | None, line: Line,
            title: str | None = None, text: str = "", inferred: bool = False) -> Clause:
        if label in self.by_label:
            n = 2
            while f"{label}（{n}）" in self.by_label:
                n += 1
            self.warnings.append(
                f"{self.spec.file}:{line.no}: duplicate label {label!r}, kept as {label}（{n}）"
            )
            label = f"{label}（{n}）"
        unit = Clause(
            doc_id=self.spec.doc_id, label=label, kind=kind,
            parent=parent.label if parent else None, title=title or None,
            text=text, inferred=inferred, order=len(self.units),
        )
        if line.no:
            unit.lines.append(line.no)
        if parent is not None:
            parent.children.append(label)
        self.units.append(unit)
        self.by_label[label] = unit
        self.cur = unit
        return unit

    def append(self, unit: Clause, line: Line, text: str | None = None) -> None:
        """Add a continuation line to `unit`, joining a sentence broken by a page break."""
        t = line.text if text is None else text
        unit.lines.append(line.no)
        if not unit.text:
            unit.text = t
        else:
            prev = unit.text[-1]
            # Mid-sentence break: previous line ends without terminal punctuation and
            # this line is plain text (not a list bullet or a table cell).
            joined = (not line.bullet and not line.tabbed and prev not in TERMINAL_PUNCT
                      and not RE_CHECKBOX.match(t) and not RE_FIELD_LINE.match(t))
            unit.text += ("" if joined else "\n") + t
        self.cur = unit

    def skip(self, line: Line, reason: str) -> None:
        self.skipped.append(SkippedLine(line.no, reason))


def _prepare_lines(raw_text: str, markdown: bool) -> list[Line | None]:
    """Clean every line; None for blank lines, page breaks are flagged on the next line."""
    out: list[Line | None] = []
    for i, raw in enumerate(raw_text.splitlines(), 1):
        if not raw.strip():
            out.append(None)
            continue
        text, bullet = strip_markup(raw, markdown)
        out.append(Line(i, raw, text, bullet=bullet, tabbed=raw.startswith("\t")))
    return out


def parse_document(spec: DocumentSpec, raw_text: str) -> ParseResult:
    markdown = spec.file.endswith(".md")
    lines = _prepare_lines(raw_text, markdown)
    b = _Builder(spec)
    body = _strip_front_and_back(spec, lines, b)
    if spec.is_standard:
        _parse_standard(spec, body, b)
    else:
        _parse_notice(spec, body, b)
    _finish(b)
    return ParseResult(b.units, sorted(b.skipped, key=lambda s: s.line), b.warnings)


# --- regions ----------------------------------------------------------------

def _is_doc_title(spec: DocumentSpec, text: str) -> bool:
    t = compact(text)
    return t in {compact(spec.title), compact(spec.code)} if spec.code else t == compact(spec.title)


def _strip_front_and_back(spec: DocumentSpec, lines: list[Line | None], b: _Builder) -> list[Line]:
    """Drop cover page, table of contents, page breaks, repeated titles and back cover."""
    present = [ln for ln in lines if ln is not None]
    toc_at = next((i for i, ln in enumerate(present) if RE_TOC_HEAD.match(ln.text)), None)
    body: list[Line] = []
    start = 0
    if toc_at is not None:
        cover = [ln for ln in present[:toc_at] if ln.raw.strip() != "---"]
        for ln in present[:toc_at]:
            if ln.raw.strip() == "---":
                b.skip(ln, "page-break")
        if cover:
            # the cover page is citable (〔T/GXAS 1220—2026 封面〕): code, title, dates, issuer
            unit = b.new("封面", "cover", None, cover[0], title="封面",
                         text="\n".join(ln.text for ln in cover))
            unit.lines = [ln.no for ln in cover]
            b.cur = None
        b.skip(present[toc_at], "toc")
        start = toc_at + 1
        while start < len(present):
            ln = present[start]
            if ln.text == "---" or RE_TOC_ENTRY.search(ln.text):
                b.skip(ln, "toc")
                start += 1
            else:
                break
    pending_break = False
    for ln in present[start:]:
        if ln.text == "---" and ln.raw.strip() == "---":
            b.skip(ln, "page-break")
            pending_break = True
            continue
        if ln.text in {"-", "—"} or (ln.raw.strip() == "-"):
            b.skip(ln, "stray-dash")
            continue
        if _is_doc_title(spec, ln.text):
            b.skip(ln, "doc-title")
            continue
        if (re.match(r"^中华人民共和国\S*标准$", ln.text) or ln.text.endswith("统一印制")
                or compact(ln.text) == "版权专有侵权必究"):
            b.skip(ln, "back-cover")
            continue
        ln.after_break = pending_break
        pending_break = False
        body.append(ln)
    return body


# --- standards --------------------------------------------------------------

def _parse_standard(spec: DocumentSpec, body: list[Line], b: _Builder) -> None:
    chapter = 0
    section = ""  # foreword | intro | body | refs | appendix | table
    term_chapter: str | None = None
    pending_title_for: Clause | None = None  # bare "3.1" waits for its term line
    table: Clause | None = None
    table_rows = 0
    category: str | None = None
    appendix: Clause | None = None
    appendix_wants_title = False

    def clause_parent(label: str) -> Clause | None:
        parts = label.split(".")
        while len(parts) > 1:
            parts = parts[:-1]
            cand = ".".join(parts)
            if cand in b.by_label:
                return b.by_label[cand]
            if cand == "0":
                return b.by_label.get("引言")
        return None

    for ln in body:
        t = ln.text
        if pending_title_for is not None:
            pending_title_for.title = t
            pending_title_for.lines.append(ln.no)
            pending_title_for = None
            continue
        if RE_FOREWORD.match(t):
            section = "foreword"
            b.block = b.new("前言", "foreword", None, ln, title="前言")
            continue
        if RE_INTRO.match(t):
            section = "intro"
            b.block = b.new("引言", "introduction", None, ln, title="引言")
            continue
        if RE_REFS.match(t):
            section = "refs"
            b.block = b.new("参考文献", "reference", None, ln, title="参考文献")
            table = None
            continue
        m = RE_APPENDIX.match(t)
        if m:
            section = "appendix"
            appendix = b.new(f"附录{m.group(1)}", "chapter", None, ln)
            b.block = appendix
            appendix_wants_title = True
            continue
        if section == "refs":
            m = RE_REF_ENTRY.match(t)
            if m:
                b.new(f"参考文献 [{m.group(1)}]", "reference", b.block, ln, text=m.group(2))
            else:
                b.append(b.cur, ln)
            continue
        if section == "appendix":
            m = RE_TABLE.match(t)
            if m:
                label = "表" + m.group(1)
                table = b.new(label, "form", appendix, ln, title=m.group(2) or None)
                table_rows = 0
                section = "table"
                continue
            if appendix_wants_title and not t.startswith(("(", "（")) and _short_title(t):
                appendix.title = t
                appendix.lines.append(ln.no)
                appendix_wants_title = False
                continue
            b.append(appendix, ln)
            continue
        if section == "table":
            # a tab-laid form row; a first cell names the category of the rows under it
            table_rows += 1
            cells = [c.strip() for c in ln.raw.split("\t")]
            filled = [c for c in cells if c]
            if cells[0] and len(filled) >= 2:
                category = cells[0]
            elif cells[0]:
                category = None
            b.new(f"{table.label} 第{table_rows}行", "table-row", table, ln,
                  title=category if not cells[0] else None, text=normalize_ws(ln.raw))
            continue

        m = RE_CHAPTER.match(t)
        if m and int(m.group(1)) == chapter + 1 and _short_title(m.group(2)):
            chapter += 1
            section = "body"
            unit = b.new(m.group(1), "chapter", None, ln, title=m.group(2))
            b.block, b.item = unit, None
            term_chapter = m.group(1) if "术语" in m.group(2) else None
            continue
        m = RE_CLAUSE.match(t)
        if m and (m.group(1).split(".")[0] == str(chapter)
                  or (section == "intro" and m.group(1).startswith("0."))):
            label, rest = m.group(1), (m.group(2) or "").strip()
            parent = clause_parent(label)
            if term_chapter and label.startswith(term_chapter + ".") and not rest:
                unit = b.new(label, "term", parent, ln)
                pending_title_for = unit
            elif _short_title(rest):
                unit = b.new(label, "clause", parent, ln, title=rest)
            else:
                unit = b.new(label, "clause", parent, ln, text=rest)
            b.block, b.item = unit, None
            continue
        m = RE_ITEM.match(t)
        if m and b.block is not None:
            unit = b.new(f"{b.block.label} {m.group(1)})", "item", b.block, ln, text=m.group(2))
            b.item = unit
            continue
        m = RE_SUBITEM.match(t)
        if m and b.item is not None:
            b.new(f"{b.item.label} {m.group(1)})", "item", b.item, ln, text=m.group(2))
            continue
        m = RE_NOTE.match(t)
        if m and b.block is not None:
            b.new(f"{b.block.label} 注{m.group(1)}", "note", b.block, ln, text=t)
            continue
        m = RE_FIGURE.match(t)
        if m and b.block is not None:
            b.new(f"图{m.group(1)}", "figure", b.block, ln, title=m.group(2))
            b.cur = b.block
            continue
        if b.cur is None:
            b.block = b.new("卷首", "fragment", None, ln, text=t)
            continue
        target = b.cur
        if target.kind == "figure":
            target = b.block
        b.append(target, ln)


# --- notices ----------------------------------------------------------------

def _parse_notice(spec: DocumentSpec, body: list[Line], b: _Builder) -> None:
    attachment: Clause | None = None
    prefix = ""
    lvl1: Clause | None = None
    lvl2: Clause | None = None
    section: Clause | None = None  # named section / 第X部分 inside an attachment
    wants_title: Clause | None = None  # 附件N collects its title lines
    # status form state (附件1 第一部分)
    form_group: Clause | None = None
    form_field: Clause | None = None
    table: Clause | None = None
    table_header: set[str] = set()
    status_form = False

    def container() -> Clause | None:
        return section or attachment

    for idx, ln in enumerate(body):
        t = ln.text
        nxt = body[idx + 1] if idx + 1 < len(body) else None

        m = RE_ATTACHMENT.match(t)
        if m:
            attachment = b.new(f"附件{m.group(1)}", "chapter", None, ln)
            prefix = f"附件{m.group(1)} "
            lvl1 = lvl2 = section = form_group = form_field = table = None
            status_form = False
            b.block = attachment
            wants_title = attachment
            continue
        if wants_title is not None:
            if _short_title(t) and not RE_CN1.match(t) and not ln.tabbed:
                wants_title.title = (wants_title.title or "") + t
                wants_title.lines.append(ln.no)
                continue
            wants_title = None

        m = RE_PART.match(t)
        if m and attachment is not None:
            section = b.new(prefix + m.group(1), "chapter", attachment, ln,
                            title=m.group(2) or None)
            lvl1 = lvl2 = form_group = form_field = table = None
            status_form = False
            b.block = section
            continue

        # tab-laid forms and tables inside an attachment
        if attachment is not None and (ln.tabbed or RE_CHECKBOX.match(t)) and section is not None:
            if RE_CHECKBOX.match(t):
                status_form = True
                target = form_field or section
                b.append(target, ln, text=t)
                continue
            if not status_form and nxt is not None and RE_CHECKBOX.match(nxt.text):
                status_form = True
            if status_form:
                if table is not None:
                    if t in table_header:
                        b.append(table, ln, text=t)
                    else:
                        b.new(f"{section.label} {t}", "table-row", table, ln, text=t)
                    continue
                nxt_is_box = nxt is not None and bool(RE_CHECKBOX.match(nxt.text))
                nxt_adjacent = nxt is not None and nxt.tabbed and nxt.no == ln.no + 1
                if nxt_is_box:
                    form_field = b.new(f"{section.label} {t}", "form",
                                       form_group or section, ln, title=t)
                elif nxt_adjacent:
                    nxt2 = body[idx + 2] if idx + 2 < len(body) else None
                    if nxt2 is not None and RE_CHECKBOX.match(nxt2.text):
                        # a heading over checkbox fields
                        form_group = b.new(f"{section.label} {t}", "form", section, ln, title=t)
                        form_field = None
                    else:
                        # a heading over plain cells: the indicator table; cells that
                        # repeat (指标名称/申报时/上一年) are its column headers
                        table = b.new(f"{section.label} {t}", "table", section, ln, title=t)
                        cells = []
                        for x in body[idx + 1:]:
                            if not x.tabbed:
                                break
                            cells.append(x.text)
                        table_header = {c for c in cells if cells.count(c) > 1}
                        form_field = None
                else:
                    # a field whose value cells are empty (试点以来品牌培训人次)
                    form_field = b.new(f"{section.label} {t}", "form",
                                       form_group or section, ln, title=t)
                continue
            # a plain form (申请表): every cell is text of the form
            b.append(section, ln, text=t)
            continue

        m = RE_CN1.match(t)
        if m:
            rest = m.group(2).strip()
            lvl1 = b.new(f"{prefix}{m.group(1)}、", "chapter" if not attachment else "clause",
                         container(), ln, title=rest if _short_title(rest) else _lead_title(rest),
                         text="" if _short_title(rest) else rest)
            lvl2 = None
            b.block, b.item = lvl1, None
            continue
        m = RE_CN2.match(t)
        if m:
            rest = m.group(2).strip()
            if lvl1 is None:
                lvl1 = _infer_missing_level1(b, body, idx, prefix, container(), ln)
            lvl2 = b.new(f"{lvl1.label}（{m.group(1)}）", "clause", lvl1, ln,
                         title=rest if _short_title(rest) else _lead_title(rest),
                         text="" if _short_title(rest) else rest)
            b.block, b.item = lvl2, None
            continue
        m = RE_NUM3.match(t)
        if m and (lvl2 or lvl1 or section) is not None:
            parent = lvl2 or lvl1 or section
            rest = m.group(2).strip()
            label = f"{parent.label}{m.group(1)}." if parent.label.endswith(("、", "）")) \
                else f"{parent.label} {m.group(1)}."
            unit = b.new(label, "item", parent, ln, title=_lead_title(rest), text=rest)
            b.item = unit
            continue
        if attachment is not None and len(compact(t)) >= 3 and _short_title(t) and not ln.tabbed:
            # a named section of an attachment: 承诺书, …申请表, …编制要求
            name = re.sub(r"^产业集群区域品牌建设(试点评价|试点)?", "", t) or t
            section = b.new(f"{prefix}{name}", "chapter", attachment, ln, title=t)
            lvl1 = lvl2 = form_group = form_field = table = None
            status_form = False
            b.block = section
            continue
        if (RE_FIELD_LINE.match(t) and container() is not None and len(t) <= 16
                and b.cur is not None and b.cur.kind == "item"):
            # a signature/date field line belongs to the form, not to the last item
            b.append(container(), ln)
            continue
        if compact(t) == compact(spec.issuer) and attachment is None:
            b.block = b.new("落款", "signature", None, ln, text=t)
            continue
        if b.cur is None or b.cur.kind == "fragment":
            # text before any heading: the received notice starts mid-sentence
            if any(RE_CN2.match(x.text) for x in body[idx + 1: idx + 3]) and not t.endswith(("：", ":")):
                lvl1 = _infer_missing_level1(b, body, idx, prefix, None, ln)
                unit = b.new(f"{lvl1.label}（一）", "clause", lvl1, ln, text=t, inferred=True)
                b.block = unit
            elif b.cur is None and t.endswith("。") and len(t) > 20:
                b.block = b.new("导语", "introduction", None, ln, text=t)
            elif b.cur is None:
                b.block = b.new("卷首", "fragment", None, ln, text=t)
            else:
                b.append(b.cur, ln)
            continue
        b.append(b.cur, ln)


def _infer_missing_level1(b: _Builder, body: list[Line], idx: int, prefix: str,
                          parent: Clause | None, ln: Line) -> Clause:
    """The received text lost a 一、-level heading: infer its number from the next one."""
    following = next((RE_CN1.match(x.text) for x in body[idx + 1:] if RE_CN1.match(x.text)), None)
    n = _cn_value(following.group(1)) - 1 if following else 1
    label = f"{prefix}{_cn_of(max(n, 1))}、"
    if label in b.by_label:
        return b.by_label[label]
    unit = b.new(label, "chapter", parent, Line(0, "", ""), inferred=True)
    return unit


# --- finishing --------------------------------------------------------------

def _finish(b: _Builder) -> None:
    by_label = b.by_label
    for u in b.units:
        if u.lines:
            u.lines = sorted(set(u.lines))
            u.line_start, u.line_end = u.lines[0], u.lines[-1]
        path: list[str] = []
        p = by_label.get(u.parent) if u.parent else None
        while p is not None:
            if p.title:
                shown = p.label if p.label.endswith(("、", "）")) else p.label + " "
                path.append((shown + p.title).strip() if not p.label.startswith(("前言", "引言", "参考文献"))
                            else p.title)
            p = by_label.get(p.parent) if p.parent else None
        u.heading_path = " > ".join(reversed(path))


def label_key(label: str) -> str:
    """Tolerant key for label lookup: `三（五）` and `三、（五）` match, so do `6.4.4b` and `6.4.4 b)`."""
    s = unicodedata.normalize("NFKC", label)
    return re.sub(r"[\s、()\-–—]", "", s)
