"""Drafts of the pilot documents: 试点工作总结报告 (summary), 典型经验 (experience) and
评价申请书 (application), built from the corpus's own outlines plus the applicant's form.

A `Draft` holds two documents that are exported separately (assistant/reports/export.py):

- the draft itself: only what the applicant submits. The form's own layout (cover lines,
  第一部分 as tables with ☑/☐, the 申请表), the official headings, the applicant's facts as
  prose paragraphs, and short visible prompts 【待补充：…】 where a fact is missing;
- the checklist: per section the verbatim requirement, the 附件2 scoring items, the clauses
  worth citing (each with its citation, checked by the citation validator) and the checks.

Nothing is invented: every sentence of the draft is the applicant's own text, a form value put
in a fixed sentence (templates in corpus/vocab/report_map.toml), or the form's fixed text
quoted from the corpus.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from assistant.answer.models import Citation
from assistant.answer.citations import citation_for, validate_citations
from assistant.corpus.model import Clause
from assistant.corpus.store import Corpus
from assistant.errors import AssistantError
from assistant.reports.form import (APPLICATION_FIELDS, EVAL_DOC, STATUS_SECTION, ReportForm, indicator_names,
                                   status_items)

KINDS = {"summary": "试点工作总结报告", "experience": "典型经验", "application": "评价申请书"}
CHECKED, UNCHECKED = "☑", "☐"
CHECK_ORDER = ("conflict", "structure", "length", "gap")  # how the checks are listed
TEXT_WIDTH_MM = 156.0  # A4 (210 mm) less the 公文 margins 28 mm + 26 mm
STATUS_WIDTHS = [18.0, 48.0, TEXT_WIDTH_MM - 66.0]  # 第一部分: category | item | options
OPTION_LINE_CHARS = int((STATUS_WIDTHS[2] - 2) / (12 * 25.4 / 72)) + 1  # options per line at 小四 (12 pt)


@dataclass
class Cell:
    text: str = ""  # "\n" separates lines within the cell
    colspan: int = 1
    rowspan: int = 1
    head: bool = False  # a heading cell of the form (黑体)
    align: str = "left"  # left | center
    right_lines: int = 0  # the last n lines sit at the right (公章, 日期 of a signature box)


@dataclass
class Table:
    widths: list[float]  # column widths in mm
    rows: list[list[Cell]]  # each row lists the cells that start in it; spanned positions are omitted
    heights: list[float] = field(default_factory=list)  # minimum row heights in mm (0: as the text needs)

    @property
    def columns(self) -> int:
        return len(self.widths)

    def grid(self) -> list[list[tuple[Cell, int, int] | None]]:
        """Row-major grid of (cell, row, col) at each cell's top-left position, None where a span covers."""
        taken: set[tuple[int, int]] = set()
        out: list[list[tuple[Cell, int, int] | None]] = []
        for r, row in enumerate(self.rows):
            line: list[tuple[Cell, int, int] | None] = [None] * self.columns
            c = 0
            for cell in row:
                while (r, c) in taken:
                    c += 1
                if c + cell.colspan > self.columns:
                    raise ValueError(f"row {r} overflows {self.columns} columns")
                line[c] = (cell, r, c)
                for dr in range(cell.rowspan):
                    for dc in range(cell.colspan):
                        taken.add((r + dr, c + dc))
                c += cell.colspan
            out.append(line)
        return out


@dataclass
class Block:
    heading: str  # as printed: "第一部分  总体推进情况", "一、综述", "（一）品牌建设"
    level: str = "h1"  # part | page | h1 | h2 | item (page: a new page with a centred title, e.g. 承诺书;
    #                    item: a checklist-only entry, never printed in the draft)
    key: str = ""  # the form key the applicant fills ("五、（一）", "概述") or ""
    paragraphs: list[str] = field(default_factory=list)  # the draft's text under the heading
    tables: list[Table] = field(default_factory=list)
    page_break: bool = False
    # checklist only: never printed in the draft
    requirement: Citation | None = None
    scoring: list[Citation] = field(default_factory=list)
    cites: list[Citation] = field(default_factory=list)
    filled: bool | None = None  # did the applicant write this section? None: nothing to write
    chars: int = 0  # characters the applicant wrote here
    children: list["Block"] = field(default_factory=list)


@dataclass
class Check:
    level: str  # ok | warning | error
    field: str  # the form field (path), e.g. 状态.区域品牌集体商标, 说明.五、（三）
    message: str
    kind: str = "structure"  # conflict | structure | length | gap
    label: str = ""  # the field as the applicant knows it, e.g. 五、（三）技术水平

    def __post_init__(self) -> None:
        self.label = self.label or self.field.split(".", 1)[-1]


@dataclass
class Draft:
    kind: str
    title: str
    unit: str
    blocks: list[Block]
    checks: list[Check]
    title_lines: list[str] = field(default_factory=list)  # the title as broken on the original form
    cover: list[str] = field(default_factory=list)  # 单位/日期 lines; non-empty: a cover page
    byline: str = ""  # a line under the title (the unit, for 典型经验)
    checklist_intro: list[Citation] = field(default_factory=list)  # document-wide requirements

    def __post_init__(self) -> None:
        self.title_lines = self.title_lines or [self.title]
        order = {k: i for i, k in enumerate(CHECK_ORDER)}
        lvl = {"error": 0, "warning": 1, "ok": 2}
        self.checks.sort(key=lambda c: (order.get(c.kind, 9), lvl.get(c.level, 9)))

    def walk(self):
        def rec(b: Block):
            yield b
            for c in b.children:
                yield from rec(c)

        for b in self.blocks:
            yield from rec(b)

    def citations(self) -> list[Citation]:
        out: list[Citation] = list(self.checklist_intro)
        for b in self.walk():
            out.extend(([b.requirement] if b.requirement else []) + b.scoring + b.cites)
        return out


def prompt(what: str) -> str:
    """A visible marker for a fact the applicant still has to give."""
    return f"【待补充：{what}】"


def _fmt(v: float | int | str) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def count_chars(text: str) -> int:
    """字数 as Chinese documents count it: every non-whitespace character."""
    return len(re.sub(r"\s+", "", text))


def paragraphs(text: str) -> list[str]:
    """The applicant's text as paragraphs: one per non-empty line."""
    return [p.strip() for p in text.splitlines() if p.strip()]


def _name_unit(indicator: str) -> tuple[str, str]:
    m = re.fullmatch(r"(.+?)（(.+)）", indicator)
    return (m.group(1), m.group(2)) if m else (indicator, "")


class Drafter:
    def __init__(self, corpus: Corpus, map_path: Path | None = None) -> None:
        self.corpus = corpus
        path = map_path or corpus.root / "vocab" / "report_map.toml"
        self.map = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        self.doc = corpus.doc(EVAL_DOC)
        self._check_map()

    # -- helpers --------------------------------------------------------------------
    def _check_map(self) -> None:
        labels = []
        summary = self.map["summary"]
        for s in summary["section"]:
            labels += [(EVAL_DOC, s["label"])] + [(EVAL_DOC, x) for x in s.get("score", [])] + \
                [tuple(c) for c in s.get("cite", [])]
        for cites in summary["status_cite"].values():
            labels += [tuple(c) for c in cites]
        exp = self.map["experience"]
        labels += [(EVAL_DOC, exp[k]) for k in ("requirements", "selection", "scoring", "scoring_review")]
        app = self.map["application"]
        labels += [(EVAL_DOC, app["form"]), (EVAL_DOC, app["pledge"])]
        for d, lab in labels:
            if lab not in self.corpus.doc(d).by_label:
                raise AssistantError(f"report_map.toml 引用了不存在的条款：{d} {lab}")
        known = set(status_items(self.corpus)) | set(indicator_names(self.corpus)) | {"主导产业"}
        for key, names in summary["facts"].items():
            if f"附件1 {key}" not in self.doc.by_label:
                raise AssistantError(f"report_map.toml 的 summary.facts 有不存在的部分：{key}")
            for n in names:
                if n not in known:
                    raise AssistantError(f"report_map.toml 的 summary.facts 有不存在的栏目：{n}")
                if n not in summary["sentence"] and n not in indicator_names(self.corpus):
                    raise AssistantError(f"report_map.toml 的 summary.sentence 缺少：{n}")
        at = {c[1:] for row in app["layout"] for c in row if c.startswith("@")}
        if at != {"申报单位名称", "主导产业", *APPLICATION_FIELDS}:
            raise AssistantError("report_map.toml 的申请表栏目与表单字段不一致：" + "、".join(sorted(at ^ {
                "申报单位名称", "主导产业", *APPLICATION_FIELDS})))
        form_text = re.sub(r"\s+", "", self.unit(app["form"]).text)
        for row in app["layout"]:
            for cell in row:
                if not cell.startswith("@") and re.sub(r"\s+", "", cell) not in form_text:
                    raise AssistantError(f"report_map.toml 的申请表栏目不在附件3 中：{cell}")

    def cite(self, doc_id: str, label: str) -> Citation:
        return citation_for(self.corpus, self.corpus.doc(doc_id).by_label[label])

    def unit(self, label: str) -> Clause:
        return self.doc.by_label[label]

    def _title_lines(self, unit: Clause) -> list[str]:
        """The title as it is broken over lines on the original form (e.g. 试点 / 工作总结报告)."""
        title = unit.title or ""
        src = self.doc.source_lines
        for start in range(max(unit.line_start - 1, 0), min(unit.line_start + 5, len(src))):
            acc: list[str] = []
            for line in src[start:start + 4]:
                if not line.strip():
                    if acc:
                        break
                    continue
                acc.append(line.strip())
                if "".join(acc) == title:
                    return acc
                if not title.startswith("".join(acc)):
                    break
        return [title]

    def _verified(self, cites: list[Citation]) -> list[Citation]:
        ok, rejected = validate_citations(self.corpus, cites)
        if rejected:  # a broken mapping is a bug, never shown as a citation
            raise AssistantError("起草时发现无法核验的引用：" + "、".join(c.cite for c, _ in rejected))
        return ok

    # -- summary (附件1) ----------------------------------------------------------------
    def _status_table(self, form: ReportForm, checks: list[Check]) -> tuple[Table, list[Block]]:
        """第一部分 as on 附件1: a category column, the item and its options with ☑/☐; and per item
        a checklist entry with the clauses behind it."""
        part1 = self.unit(STATUS_SECTION)
        items = status_items(self.corpus)
        entries: list[Block] = []
        rows: list[list[Cell]] = []
        groups = [u for u in self.doc.children(part1) if u.kind == "form"]
        for g in groups:
            members = [c for c in self.doc.children(g) if c.kind == "form" and c.title in items]
            if not members:  # 总体进度: the category is the item
                rows.append([Cell(g.title or "", colspan=2, head=True), Cell(self._options_cell(items[g.title], form,
                                                                                                  checks))])
                continue
            first = True
            for m in members:
                row = [Cell(g.title or "", rowspan=len(members), head=True, align="center")] if first else []
                first = False
                rows.append(row + [Cell(m.title or ""), Cell(self._options_cell(items[m.title], form, checks))])
        for name, item in items.items():
            entries.append(Block(heading=name, level="item", key=f"状态.{name}", filled=name in form.status,
                                 requirement=self.cite(EVAL_DOC, item.label),
                                 cites=[self.cite(*c) for c in self.map["summary"]["status_cite"].get(name, [])]))
        return Table(list(STATUS_WIDTHS), rows), entries

    def _options_cell(self, item, form: ReportForm, checks: list[Check]) -> str:
        value = form.status.get(item.name)
        unit_text = self.unit(item.label).text
        if not item.options:  # a number: 培训人次, 企业数
            if value is None:
                checks.append(Check("warning", f"状态.{item.name}", "未填写，草稿中留有【待补充】。", "gap"))
                return prompt("数字")
            return _fmt(value)
        if value is None:
            checks.append(Check("warning", f"状态.{item.name}", "未勾选，草稿中留有【待补充】。", "gap"))

        def box(m: re.Match) -> str:
            opt = re.split(r"[，,]", m.group(1))[0].strip()
            text = m.group(1).strip()
            if item.has_amount and "_" in text:
                amount = form.amounts.get(item.name)
                if value == opt and amount is not None:
                    text = re.sub(r"_+", f" {_fmt(amount)} ", text)
                elif value == opt:
                    text = re.sub(r"_+", prompt("金额"), text)
                    checks.append(Check("warning", f"状态.{item.name}支持力度（万元）", "未填写金额，草稿中留有【待补充】。",
                                        "gap", f"{item.name}支持力度"))
            return (CHECKED if value == opt else UNCHECKED) + text

        lines: list[str] = []
        for line in unit_text.splitlines():  # the form's own line breaks, and a break between options, never
            cur = ""                          # inside one, where the options column is too narrow
            for opt in (box(m) for m in re.finditer(r"□\s*([^□\n]+)", line)):
                if cur and len(cur) + 1 + len(opt) > OPTION_LINE_CHARS:
                    lines.append(cur)
                    cur = opt
                else:
                    cur = f"{cur}\u3000{opt}" if cur else opt
            lines.append(cur)
        text = "\n".join(x for x in lines if x)
        return text + ("\n" + prompt("勾选一项") if value is None else "")

    def _indicator_table(self, form: ReportForm, checks: list[Check]) -> Table:
        """主导产业主要指标情况（适用时）: two indicators per row, as on 附件1. A blank cell is a
        legitimate answer here (适用时), so gaps are listed in the checklist, not marked in the table."""
        label = next(u.label for u in self.doc.units if u.kind == "table" and u.parent == STATUS_SECTION)
        header = [h for h in self.unit(label).text.splitlines() if h.strip()]  # 指标名称 申报时 上一年 ×2
        names = indicator_names(self.corpus)
        per_row = len(header) // 3
        rows: list[list[Cell]] = []
        body = [names[i:i + per_row] for i in range(0, len(names), per_row)]
        rows.append([Cell(self.unit(label).title or "", rowspan=len(body) + 1, head=True, align="center")] +
                    [Cell(h, head=True, align="center") for h in header])
        missing: dict[str, list[str]] = {}
        for group in body:
            row: list[Cell] = []
            for name in group + [""] * (per_row - len(group)):
                cols = form.indicators.get(name, {})
                row.append(Cell(name))
                for k in ("申报时", "上一年"):
                    row.append(Cell(_fmt(cols[k]) if k in cols else "", align="center"))
                    if name and k not in cols:
                        missing.setdefault(name, []).append(k)
            rows.append(row)
        if missing:
            listed = [n if len(ks) == 2 else f"{n}（{ks[0]}）" for n, ks in missing.items()]
            checks.append(Check("warning", "指标", f"{len(missing)} 项指标未填（适用时填写）：" + "、".join(listed) + "。",
                                "gap", "主导产业主要指标"))
        name_w, val_w = 37.0, 16.0
        first = TEXT_WIDTH_MM - per_row * (name_w + 2 * val_w)
        return Table([first] + [name_w, val_w, val_w] * per_row, rows)

    def _fact_sentences(self, key: str, form: ReportForm) -> list[str]:
        """Form facts mapped to a section, each in its fixed sentence; missing facts are skipped."""
        out = []
        templates = self.map["summary"]["sentence"]
        indicators = set(indicator_names(self.corpus))
        for name in self.map["summary"]["facts"].get(key, []):
            if name in indicators:
                cols = form.indicators.get(name, {})
                base, unit = _name_unit(name)
                parts = [f"{k}为{_fmt(cols[k])}{unit}" for k in ("上一年", "申报时") if k in cols]
                if parts:
                    out.append(f"主导产业{base}" + "，".join(parts))
                continue
            value = form.industry if name == "主导产业" else form.status.get(name)
            if value in (None, ""):
                continue
            s = templates[name].format(value=_fmt(value))
            if name in form.amounts and value == "有":
                s += f"，支持力度{_fmt(form.amounts[name])}万元"
            out.append(s)
        return out

    def _section_text(self, key: str, title: str, short: str, form: ReportForm, checks: list[Check],
                      b: Block) -> None:
        note = form.notes.get(key, "")
        if note:
            b.paragraphs = paragraphs(note)
            b.filled, b.chars = True, count_chars(note)
            return
        b.filled = False
        facts = self._fact_sentences(key, form)
        b.paragraphs = (["；".join(facts) + "。"] if facts else []) + [prompt(short)]
        checks.append(Check("warning", f"说明.{key}", "未填写说明" + ("，草稿中只有第一部分的事实，" if facts else "，") +
                            "留有【待补充】。", "gap", f"{key}{title}"))

    def summary(self, form: ReportForm) -> Draft:
        checks: list[Check] = []
        part1 = self.unit(STATUS_SECTION)
        status, entries = self._status_table(form, checks)
        p1 = Block(heading=f"第一部分  {part1.title}", level="part", key="状态",
                   tables=[status, self._indicator_table(form, checks)], children=entries)

        outline = self.unit(self.map["summary"]["outline"])
        part2 = Block(heading=f"第二部分  {outline.title}", level="part", page_break=True)
        subprompts = self.map["summary"].get("subprompt", {})
        for sec in self.map["summary"]["section"]:
            u = self.unit(sec["label"])
            key = sec["label"].removeprefix("附件1 ")
            b = Block(heading=f"{key}{u.title or ''}", key=key,
                      requirement=self.cite(EVAL_DOC, u.label) if u.text else None,
                      scoring=[self.cite(EVAL_DOC, s) for s in sec.get("score", [])],
                      cites=[self.cite(*c) for c in sec.get("cite", [])])
            subs = self.doc.children(u)
            if not subs or form.notes.get(key):
                self._section_text(key, u.title or "", sec.get("prompt") or u.title or key, form, checks, b)
            for s in subs:  # 五、（一）…（十）
                skey = s.label.removeprefix("附件1 ")
                num = skey.removeprefix(key)
                sb = Block(heading=f"{num}{s.title or ''}", level="h2", key=skey,
                           requirement=self.cite(EVAL_DOC, s.label))
                self._section_text(skey, s.title or "", subprompts.get(skey) or s.title or skey, form, checks, sb)
                b.children.append(sb)
            part2.children.append(b)

        checks += self._summary_completeness(part2)
        checks += self._consistency(form)
        unknown = sorted(set(form.notes) - {b.key for b in part2.children} - {c.key for b in part2.children
                                                                               for c in b.children})
        if unknown:
            checks.append(Check("warning", "说明", "以下说明不属于第二部分的提纲，未放入草稿：" + "、".join(unknown), "structure"))
        filled = sum(b.chars for b in part2.children) + sum(c.chars for b in part2.children for c in b.children)
        checks.append(Check("ok", "第二部分.字数", f"申请单位已写说明共 {filled} 字（不含第一部分的事实句）。", "length", "第二部分"))
        cover = self.unit("附件1")
        return Draft("summary", cover.title or KINDS["summary"], form.unit, [p1, part2], checks,
                     title_lines=self._title_lines(cover), cover=self._cover_lines(cover.text, form.unit))

    @staticmethod
    def _cover_lines(text: str, unit: str) -> list[str]:
        """单位：…（公章） / 日期：  年  月  日 as on the form, with the unit filled in."""
        out = []
        for line in text.splitlines():
            line = line.strip()
            if "（公章）" in line:
                head = line.split("：", 1)[0]
                out.append(f"{head}：{unit}（公章）")
            elif "年" in line and "日" in line:
                head = line.split("：", 1)[0]
                out.append(f"{head}：\u3000\u3000\u3000\u3000年\u3000\u3000月\u3000\u3000日")
            elif line:
                out.append(line)
        return out

    def _summary_completeness(self, part2: Block) -> list[Check]:
        outline = self.unit(self.map["summary"]["outline"])
        expected = [c.label.removeprefix("附件1 ") for c in self.doc.children(outline)]
        got = [b.key for b in part2.children]
        out = []
        missing = [e for e in expected if e not in got]
        if missing:
            out.append(Check("error", "第二部分", "缺少部分：" + "、".join(missing), "structure"))
        else:
            out.append(Check("ok", "第二部分", f"{len(expected)} 个部分齐全（{expected[0]}…{expected[-1]}）。", "structure"))
        five = next(b for b in part2.children if b.key == "五、")
        want5 = len(self.doc.children(self.unit("附件1 五、")))
        out.append(Check("ok" if len(five.children) == want5 else "error", "第二部分.五、",
                         f"区域品牌影响力的变化含 {len(five.children)} / {want5} 个方面。", "structure",
                         "五、区域品牌影响力的变化"))
        return out

    def _consistency(self, form: ReportForm) -> list[Check]:
        out = []
        text = "\n".join(form.notes.values())
        for rule in self.map["summary"].get("consistency", []):
            value = form.status.get(rule["item"])
            if value in rule["values"] and re.search(rule["claims"], text):
                out.append(Check("error", f"状态.{rule['item']}", rule["message"].format(value=value) +
                                 "，请核实后统一。", "conflict"))
        return out

    # -- 典型经验 (附件3 二、) ---------------------------------------------------------------
    def _experience_parts(self) -> list[tuple[str, str, Clause]]:
        """(name, what it should say, unit) of the six parts: 名称（提炼经验做法） → (名称, 提炼经验做法)."""
        out = []
        for item in self.doc.children(self.unit(self.map["experience"]["requirements"])):
            m = re.match(r"([^（(]+)[（(](.+)[）)]", item.text)
            name, what = (m.group(1).strip(), m.group(2).strip()) if m else (item.text.strip("。 "), item.text)
            out.append((name, what, item))
        return out

    def experience(self, form: ReportForm) -> Draft:
        cfg = self.map["experience"]
        req = self.unit(cfg["requirements"])
        m = re.search(r"(\d+)\s*[-–—~至]\s*(\d+)\s*字", req.text)
        lo, hi = (int(m.group(1)), int(m.group(2))) if m else (None, None)
        checks: list[Check] = []
        parts = self._experience_parts()
        (name_key, name_what, name_unit), body_parts = parts[0], parts[1:]
        title = form.experience.get(name_key, "")
        if not title:
            checks.append(Check("warning", f"典型经验.{name_key}", "未填写，标题处留有【待补充】。", "gap"))
        blocks: list[Block] = []
        total = count_chars(title)
        numerals = "一二三四五六七八九十"
        for i, (name, what, item) in enumerate(body_parts):
            text = form.experience.get(name, "")
            b = Block(heading=f"{numerals[i]}、{name}", key=name, requirement=self.cite(EVAL_DOC, item.label))
            if text:
                b.paragraphs, b.filled, b.chars = paragraphs(text), True, count_chars(text)
                total += b.chars
            else:
                b.paragraphs, b.filled = [prompt(what)], False
                checks.append(Check("warning", f"典型经验.{name}", "未填写，草稿中留有【待补充】。", "gap"))
            blocks.append(b)
        want = len(parts)
        got = 1 + len(blocks)
        checks.append(Check("ok" if got == want else "error", "典型经验",
                            f"{got} / {want} 个部分（{name_key}作为标题，其余 {len(blocks)} 个部分作为正文各节）。", "structure"))
        if lo is not None:
            level = "ok" if lo <= total <= hi else "warning"
            checks.append(Check(level, "典型经验.字数", f"已填写正文约 {total} 字；要求 {lo}–{hi} 字（{req.label}）。",
                                "length", "正文"))
        unknown = set(form.experience) - {p[0] for p in parts}
        if unknown:
            checks.append(Check("warning", "典型经验", "以下字段不属于六个部分，未放入草稿：" + "、".join(sorted(unknown)),
                                "structure"))
        intro = [self.cite(EVAL_DOC, req.label), self.cite(EVAL_DOC, name_unit.label)]
        intro += [self.cite(EVAL_DOC, c.label) for c in self.doc.children(self.unit(cfg["selection"]))]
        intro += [self.cite(EVAL_DOC, cfg["scoring_review"])]
        intro += [self.cite(EVAL_DOC, c.label) for c in self.doc.children(self.unit(cfg["scoring"]))]
        return Draft("experience", title or prompt(f"{name_key}（{name_what}）"), form.unit, blocks, checks,
                     byline=form.unit, checklist_intro=intro)

    # -- 评价申请书 (附件3) ------------------------------------------------------------------
    def application(self, form: ReportForm) -> Draft:
        cfg = self.map["application"]
        checks: list[Check] = []
        pledge = self.unit(cfg["pledge"])
        lead, *tail = pledge.text.splitlines()
        items = [f"{c.label.split()[-1]}{c.text}" for c in self.doc.children(pledge)]
        pledge_block = Block(heading=pledge.title or "承诺书", level="page", page_break=False,
                             paragraphs=[lead] + items + [t for t in tail if t.strip()],
                             requirement=self.cite(EVAL_DOC, pledge.label),
                             cites=[self.cite(EVAL_DOC, c.label) for c in self.doc.children(pledge)])
        table_unit = self.unit(cfg["form"])
        values = {"申报单位名称": form.unit, "主导产业": form.industry, **form.application}
        rows: list[list[Cell]] = []
        for layout in cfg["layout"]:
            row: list[Cell] = []
            for cell in layout:
                if not cell.startswith("@"):
                    row.append(Cell(cell, align="center"))
                    continue
                name = cell[1:]
                v = values.get(name, "")
                if not v:
                    checks.append(Check("warning", f"申请表.{name}", "未填写，草稿中留有【待补充】。", "gap"))
                row.append(Cell(v or prompt(re.sub(r"^(单位负责人|申报联系人)", "", name) or name),
                                colspan=5 if len(layout) == 2 else 1))
            rows.append(row)
        m = re.search(r"试点工作完成情况自我评价（限\s*(\d+)\s*字）：?", table_unit.text)
        limit = int(m.group(1)) if m else None
        sa_label = m.group(0) if m else "试点工作完成情况自我评价："
        sa = form.application.get("自我评价", "")
        n = count_chars(sa)
        rows.append([Cell(sa_label + "\n" + ("\n".join(paragraphs(sa)) if sa else
                                             prompt("试点工作完成情况自我评价" + (f"，限{limit}字" if limit else ""))),
                          colspan=6)])
        if limit is not None:
            level = "ok" if 0 < n <= limit else ("warning" if n == 0 else "error")
            checks.append(Check(level, "申请表.自我评价", f"{n} 字；限 {limit} 字（{table_unit.label}）。" +
                                (f"超出 {n - limit} 字，请删减。" if n > limit else ""),
                                "length" if n else "gap", "试点工作完成情况自我评价"))
        rec = re.search(r"推荐部门审查推荐意见：.*", table_unit.text, re.S)
        rec_lines = [x.strip() for x in (rec.group(0) if rec else "推荐部门审查推荐意见：").splitlines() if x.strip()]
        rows.append([Cell(rec_lines[0] + "\n\n\n" + "\n".join(rec_lines[1:]), colspan=6,
                          right_lines=len(rec_lines) - 1)])
        heights = [12.0] * len(cfg["layout"]) + [90.0, 42.0]  # room to write 500 字 and to sign and stamp
        form_block = Block(heading=table_unit.title or "评价申请表", level="page", page_break=True,
                           tables=[Table([28.0, 34.0, 14.0, 30.0, 14.0, TEXT_WIDTH_MM - 120.0], rows, heights)],
                           requirement=self.cite(EVAL_DOC, table_unit.label))
        known = {c[1:] for row in cfg["layout"] for c in row if c.startswith("@")} | {"自我评价"}
        unknown = sorted(set(form.application) - known)
        if unknown:
            checks.append(Check("warning", "申请表", "以下字段不属于申请表，未放入草稿：" + "、".join(unknown), "structure"))
        cover = self.unit("附件3")
        return Draft("application", cover.title or KINDS["application"], form.unit, [pledge_block, form_block], checks,
                     title_lines=self._title_lines(cover), cover=self._cover_lines(cover.text, form.unit))

    def draft(self, kind: str, form: ReportForm) -> Draft:
        if kind not in KINDS:
            raise AssistantError(f"未知的文稿类型：{kind}。可选：summary（总结报告）、experience（典型经验）、"
                                 "application（评价申请书）")
        d = getattr(self, kind)(form)
        self._verified(d.citations())
        return d
