"""Drafts of the pilot documents: 试点工作总结报告 (summary), 典型经验 (experience) and
评价申请书 (application), built from the corpus's own outlines plus the applicant's form.

Nothing is invented: every requirement, score and clause is quoted verbatim from the
corpus with its citation; the applicant's facts are placed where they belong; a missing
fact becomes a marked placeholder 【待填写：…】.
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
from assistant.reports.form import EVAL_DOC, STATUS_SECTION, ReportForm, indicator_names, status_items

KINDS = {"summary": "试点工作总结报告", "experience": "典型经验", "application": "评价申请书"}


@dataclass
class Block:
    heading: str
    requirement: Citation | None = None
    scoring: list[Citation] = field(default_factory=list)
    cites: list[Citation] = field(default_factory=list)
    content: list[str] = field(default_factory=list)
    children: list["Block"] = field(default_factory=list)


@dataclass
class Check:
    level: str  # ok | warning | error
    field: str
    message: str


@dataclass
class Draft:
    kind: str
    title: str
    unit: str
    blocks: list[Block]
    checks: list[Check]

    def citations(self) -> list[Citation]:
        out: list[Citation] = []

        def walk(b: Block) -> None:
            out.extend(([b.requirement] if b.requirement else []) + b.scoring + b.cites)
            for c in b.children:
                walk(c)

        for b in self.blocks:
            walk(b)
        return out


def placeholder(what: str) -> str:
    return f"【待填写：{what}】"


def _fmt(v: float | int | str) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def count_chars(text: str) -> int:
    """字数 as Chinese documents count it: every non-whitespace character."""
    return len(re.sub(r"\s+", "", text))


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
        for s in self.map["summary"]["section"]:
            labels += [(EVAL_DOC, s["label"])] + [(EVAL_DOC, x) for x in s.get("score", [])] + \
                [tuple(c) for c in s.get("cite", [])]
        for cites in self.map["summary"]["status_cite"].values():
            labels += [tuple(c) for c in cites]
        for d, lab in labels:
            if lab not in self.corpus.doc(d).by_label:
                raise AssistantError(f"report_map.toml 引用了不存在的条款：{d} {lab}")

    def cite(self, doc_id: str, label: str) -> Citation:
        return citation_for(self.corpus, self.corpus.doc(doc_id).by_label[label])

    def unit(self, label: str) -> Clause:
        return self.doc.by_label[label]

    def _verified(self, cites: list[Citation]) -> list[Citation]:
        ok, rejected = validate_citations(self.corpus, cites)
        if rejected:  # a broken mapping is a bug, never shown as a citation
            raise AssistantError("起草时发现无法核验的引用：" + "、".join(c.cite for c, _ in rejected))
        return ok

    # -- summary (附件1) ----------------------------------------------------------------
    def summary(self, form: ReportForm) -> Draft:
        checks: list[Check] = []
        part1 = self.unit(STATUS_SECTION)
        status_block = Block(heading=f"第一部分 {part1.title}", requirement=self.cite(EVAL_DOC, STATUS_SECTION))
        items = status_items(self.corpus)
        for name, item in items.items():
            value = form.status.get(name)
            cites = [self.cite(*c) for c in self.map["summary"]["status_cite"].get(name, [])]
            if value is None:
                text = placeholder(f"{name}（" + ("／".join(item.options) if item.options else "数字") + "）")
                checks.append(Check("warning", f"状态.{name}", "未填写，草稿中留有占位。"))
            else:
                text = f"{name}：{_fmt(value)}"
                if item.has_amount and value == "有":
                    amt = form.amounts.get(name)
                    text += f"，支持力度 {_fmt(amt)} 万元" if amt is not None else "，支持力度" + placeholder("万元")
            status_block.children.append(Block(heading=name, requirement=self.cite(EVAL_DOC, item.label),
                                               cites=cites, content=[text]))
        table_label = next(u.label for u in self.doc.units if u.kind == "table" and u.parent == STATUS_SECTION)
        table = Block(heading=self.unit(table_label).title or "主导产业主要指标情况",
                      requirement=self.cite(EVAL_DOC, table_label))
        for name in indicator_names(self.corpus):
            cols = form.indicators.get(name, {})
            cells = [f"{k} {_fmt(cols[k])}" if k in cols else f"{k} " + placeholder(k) for k in ("申报时", "上一年")]
            table.content.append(f"{name}：" + "；".join(cells))
        status_block.children.append(table)

        outline = self.unit(self.map["summary"]["outline"])
        part2 = Block(heading=f"第二部分 {outline.title}", requirement=self.cite(EVAL_DOC, outline.label))
        for sec in self.map["summary"]["section"]:
            u = self.unit(sec["label"])
            key = sec["label"].removeprefix("附件1 ")
            b = Block(heading=f"{key}{u.title or ''}",
                      requirement=self.cite(EVAL_DOC, u.label) if (u.text or u.title) else None,
                      scoring=[self.cite(EVAL_DOC, s) for s in sec.get("score", [])],
                      cites=[self.cite(*c) for c in sec.get("cite", [])])
            note = form.notes.get(key)
            subs = self.doc.children(u)
            if note:
                b.content.append(note)
            elif not subs:
                b.content.append(placeholder(u.text or u.title or key))
                checks.append(Check("warning", f"说明.{key}", "未填写，草稿中留有占位。"))
            for s in subs:  # 五、（一）…（十）
                skey = s.label.removeprefix("附件1 ")
                snote = form.notes.get(skey)
                b.children.append(Block(heading=skey, requirement=self.cite(EVAL_DOC, s.label),
                                        content=[snote or placeholder(s.text or s.title or skey)]))
                if not snote:
                    checks.append(Check("warning", f"说明.{skey}", "未填写，草稿中留有占位。"))
            part2.children.append(b)

        checks += self._summary_completeness(part2)
        checks += self._consistency(form)
        return Draft("summary", self.unit("附件1").title or KINDS["summary"], form.unit,
                     [status_block, part2], checks)

    def _summary_completeness(self, part2: Block) -> list[Check]:
        outline = self.unit(self.map["summary"]["outline"])
        expected = [c.label.removeprefix("附件1 ") for c in self.doc.children(outline)]
        got = [b.heading for b in part2.children]
        out = []
        missing = [e for e in expected if not any(g.startswith(e) for g in got)]
        if missing:
            out.append(Check("error", "第二部分", "缺少部分：" + "、".join(missing)))
        else:
            out.append(Check("ok", "第二部分", f"{len(expected)} 个部分齐全（{expected[0]}…{expected[-1]}）。"))
        five = next(b for b in part2.children if b.heading.startswith("五、"))
        want5 = len(self.doc.children(self.unit("附件1 五、")))
        out.append(Check("ok" if len(five.children) == want5 else "error", "第二部分.五、",
                         f"区域品牌影响力的变化含 {len(five.children)} / {want5} 个方面。"))
        return out

    def _consistency(self, form: ReportForm) -> list[Check]:
        out = []
        text = "\n".join(form.notes.values())
        for rule in self.map["summary"].get("consistency", []):
            value = form.status.get(rule["item"])
            if value in rule["values"] and re.search(rule["claims"], text):
                out.append(Check("error", f"状态.{rule['item']}", rule["message"].format(value=value) +
                                 "，请核实后统一。"))
        return out

    # -- 典型经验 (附件3 二、) ---------------------------------------------------------------
    def experience(self, form: ReportForm) -> Draft:
        cfg = self.map["experience"]
        req = self.unit(cfg["requirements"])
        m = re.search(r"(\d+)\s*[-–—~至]\s*(\d+)\s*字", req.text)
        lo, hi = (int(m.group(1)), int(m.group(2))) if m else (None, None)
        checks: list[Check] = []
        blocks = [Block(heading="典型经验的选择条件", requirement=self.cite(EVAL_DOC, cfg["selection"]),
                        cites=[self.cite(EVAL_DOC, c.label) for c in self.doc.children(self.unit(cfg["selection"]))]),
                  Block(heading="评价要点", requirement=self.cite(EVAL_DOC, cfg["scoring"]),
                        scoring=[self.cite(EVAL_DOC, c.label) for c in self.doc.children(self.unit(cfg["scoring"]))])]
        parts = Block(heading="典型经验正文", requirement=self.cite(EVAL_DOC, req.label))
        total = 0
        for item in self.doc.children(req):
            name = re.split(r"[（(]", item.text, maxsplit=1)[0].strip("。 ")
            text = form.experience.get(name, "")
            if text:
                total += count_chars(text)
            else:
                checks.append(Check("warning", f"典型经验.{name}", "未填写，草稿中留有占位。"))
            parts.children.append(Block(heading=f"{item.label.split()[-1].replace('二、', '')} {name}",
                                        requirement=self.cite(EVAL_DOC, item.label),
                                        content=[text or placeholder(item.text.rstrip("。"))]))
        blocks.append(parts)
        want = len(self.doc.children(req))
        checks.append(Check("ok" if len(parts.children) == want else "error", "典型经验",
                            f"{len(parts.children)} / {want} 个部分。"))
        if lo is not None:
            level = "ok" if lo <= total <= hi else "warning"
            checks.append(Check(level, "典型经验.字数", f"已填写正文约 {total} 字；要求 {lo}–{hi} 字（{req.label}）。"))
        unknown = set(form.experience) - {re.split(r"[（(]", i.text, maxsplit=1)[0].strip("。 ")
                                           for i in self.doc.children(req)}
        if unknown:
            checks.append(Check("warning", "典型经验", "以下字段不属于六个部分，未放入草稿：" + "、".join(sorted(unknown))))
        return Draft("experience", f"{form.unit}区域品牌建设典型经验", form.unit, blocks, checks)

    # -- 评价申请书 (附件3) ------------------------------------------------------------------
    def application(self, form: ReportForm) -> Draft:
        cfg = self.map["application"]
        checks: list[Check] = []
        pledge = self.unit(cfg["pledge"])
        pledge_block = Block(heading=pledge.title or "承诺书", requirement=self.cite(EVAL_DOC, pledge.label),
                             cites=[self.cite(EVAL_DOC, c.label) for c in self.doc.children(pledge)],
                             content=[f"申请单位：{form.unit}", "负责人签字：" + placeholder("负责人签字")])
        table = self.unit(cfg["form"])
        values = {"申报单位名称": form.unit, "主导产业": form.industry, **form.application}
        rows = []
        for f_name in cfg["fields"]:
            v = values.get(f_name, "")
            rows.append(f"{f_name}：{v}" if v else f"{f_name}：" + placeholder(f_name))
            if not v:
                checks.append(Check("warning", f"申请表.{f_name}", "未填写，草稿中留有占位。"))
        m = re.search(r"限\s*(\d+)\s*字", table.text)
        limit = int(m.group(1)) if m else None
        sa = form.application.get("自我评价", "")
        rows.append("试点工作完成情况自我评价：" + (sa or placeholder("试点工作完成情况自我评价")))
        if limit is not None:
            n = count_chars(sa)
            checks.append(Check("ok" if 0 < n <= limit else ("warning" if n == 0 else "error"), "申请表.自我评价",
                                f"{n} 字；限 {limit} 字（{table.label}）。"))
        rows.append("推荐部门审查推荐意见：" + placeholder("由推荐部门填写"))
        form_block = Block(heading=table.title or "评价申请表", requirement=self.cite(EVAL_DOC, table.label),
                           content=rows)
        return Draft("application", self.unit("附件3").title or KINDS["application"], form.unit,
                     [pledge_block, form_block], checks)

    def draft(self, kind: str, form: ReportForm) -> Draft:
        if kind not in KINDS:
            raise AssistantError(f"未知的文稿类型：{kind}。可选：summary（总结报告）、experience（典型经验）、"
                                 "application（评价申请书）")
        d = getattr(self, kind)(form)
        self._verified(d.citations())
        return d
