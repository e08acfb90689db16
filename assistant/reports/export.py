"""Export a draft: the draft itself (Markdown, DOCX in 公文 layout) and, apart from it, the
checklist (Markdown, DOCX), plus a JSON-able dict with both and the citations.

The draft holds only what the applicant submits. The checklist holds everything that helps
write it and must not be submitted: check results (contradictions first, then structure and
word counts, then gaps) and, per section, the verbatim requirement, the 附件2 scoring items
and the clauses worth citing, each with its citation.
"""

from __future__ import annotations

from dataclasses import asdict

from assistant.reports.draft import Block, Check, Draft, Table

LEVEL_ZH = {"ok": "✓", "warning": "提示", "error": "需修改"}
KIND_ZH = {"conflict": "前后矛盾", "structure": "结构", "length": "字数", "gap": "待补充"}


def _quote(c) -> str:
    return f"{c.quote.replace(chr(10), ' ')}{c.cite}"


# -- the draft ----------------------------------------------------------------------------

def _md_table(t: Table) -> list[str]:
    def esc(s: str) -> str:
        return s.replace("|", "\\|").replace("\n", "\u3000")

    rows = [[esc(pos[0].text) if pos else "" for pos in row] for row in t.grid()]
    head = "| " + " | ".join([""] * t.columns) + " |"
    sep = "|" + "---|" * t.columns
    return [head, sep] + ["| " + " | ".join(r) + " |" for r in rows] + [""]


def to_markdown(d: Draft, with_checks: bool = False) -> str:
    """The draft as Markdown (the same content as the DOCX). with_checks appends the checklist."""
    lines = [f"# {d.title}", ""]
    if d.cover:
        lines += ["  \n".join(d.cover), ""]
    if d.byline:
        lines += [d.byline, ""]

    def block(b: Block, depth: int) -> None:
        if b.level == "item":  # checklist only
            return
        lines.append(f"{'#' * min(depth, 6)} {b.heading}")
        lines.append("")
        for p in b.paragraphs:
            lines.extend([p, ""])
        for t in b.tables:
            lines.extend(_md_table(t))
        for ch in b.children:
            block(ch, depth + 1)

    for b in d.blocks:
        block(b, 2 if b.level in ("part", "page") else 3 if b.level == "h1" else 4)
    out = "\n".join(lines).rstrip() + "\n"
    if with_checks:
        out += "\n---\n\n" + checklist_markdown(d)
    return out


def to_docx(d: Draft) -> bytes:
    """The draft in 公文 layout: what the applicant edits and submits, nothing else."""
    from assistant.reports.gongwen import GongwenDocument

    g = GongwenDocument()
    if d.cover:
        g.add_cover(d.title_lines, d.cover)
    else:
        g.add_title(d.title_lines)
        if d.byline:
            g.add_blank()
            g.add_centered(d.byline, role="h2")
        g.add_blank()

    def block(b: Block) -> None:
        if b.level == "item":  # checklist only
            return
        if b.level == "part":
            g.add_part_heading(b.heading, page_break=b.page_break)
        elif b.level == "page":
            g.add_title([b.heading], page_break=b.page_break)
            g.add_blank()
        else:
            g.add_heading(b.heading, 1 if b.level == "h1" else 2)
        for p in b.paragraphs:
            if p.startswith("负责人签字"):  # the signature line of 承诺书 sits lower, to the right
                g.add_blank()
                g.add_paragraph(p, indent=False, left_chars=14)
            else:
                g.add_paragraph(p)
        for t in b.tables:
            g.add_table(t)
        for ch in b.children:
            block(ch)

    for b in d.blocks:
        block(b)
    return g.to_bytes()


# -- the checklist ------------------------------------------------------------------------

def _sorted_checks(d: Draft) -> dict[str, list[Check]]:
    groups: dict[str, list[Check]] = {"conflict": [], "structure": [], "length": [], "gap": []}
    for c in d.checks:
        groups.setdefault(c.kind, []).append(c)
    return groups


def checklist_title(d: Draft) -> str:
    name = {"summary": "试点工作总结报告", "experience": "典型经验", "application": "评价申请书"}[d.kind]
    return f"{name}检查清单"


def _checklist_sections(d: Draft):
    """(heading, level, block) for every block that has checklist material, in document order."""
    for b in d.walk():
        if b.requirement or b.scoring or b.cites or b.filled is not None:
            yield b


def _plain_gap(c: Check) -> bool:
    """A gap whose label says it all ("未填写"); others carry details worth a line of their own."""
    return c.message.startswith(("未填写，", "未勾选，", "未填写说明"))


def _status(b: Block) -> str:
    if b.filled is None:
        return ""
    return f"已写 {b.chars} 字" if b.filled else "待补充"


def checklist_markdown(d: Draft) -> str:
    lines = [f"# {checklist_title(d)}", "", f"单位：{d.unit}", "",
             "本清单供起草和自查使用，不随申报材料提交。草稿正文见另一份文件。", "", "## 一、检查结果", ""]
    g = _sorted_checks(d)
    for kind in ("conflict", "structure", "length"):
        for c in g.get(kind, []):
            lines.append(f"- [{LEVEL_ZH[c.level]}] {KIND_ZH[kind]}｜{c.label}：{c.message}")
    gaps = g.get("gap", [])
    if gaps:
        lines.append(f"- [{LEVEL_ZH['warning']}] 待补充（{len(gaps)} 处）：" + "；".join(c.label for c in gaps))
        lines += [f"  - {c.label}：{c.message}" for c in gaps if not _plain_gap(c)]
    lines += ["", "## 二、逐部分：要求、评分与可引用条款", ""]
    if d.checklist_intro:
        lines += ["### 总体要求与评分", ""] + [f"- {_quote(c)}" for c in d.checklist_intro] + [""]
    for b in _checklist_sections(d):
        st = _status(b)
        lines += [f"### {b.heading}" + (f"（{st}）" if st else ""), ""]
        if b.requirement:
            lines.append(f"- 要求：{_quote(b.requirement)}")
        for s in b.scoring:
            lines.append(f"- 评分：{_quote(s)}")
        for c in b.cites:
            lines.append(f"- 可引用：{_quote(c)}")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def checklist_docx(d: Draft) -> bytes:
    from assistant.reports.gongwen import GongwenDocument

    g = GongwenDocument(body_pt=14, line_pt=24)
    g.add_title([checklist_title(d)])
    g.add_centered(d.unit, role="h2")
    g.add_paragraph("本清单供起草和自查使用，不随申报材料提交。草稿正文见另一份文件。")
    g.add_heading("一、检查结果", 1)
    groups = _sorted_checks(d)
    n = 0
    for kind in ("conflict", "structure", "length"):
        for c in groups.get(kind, []):
            n += 1
            g.add_paragraph(f"{n}.［{LEVEL_ZH[c.level]}］{KIND_ZH[kind]}｜{c.label}：{c.message}")
    gaps = groups.get("gap", [])
    if gaps:
        n += 1
        g.add_paragraph(f"{n}.［提示］待补充（{len(gaps)} 处）：" + "；".join(c.label for c in gaps) + "。")
        for c in gaps:
            if not _plain_gap(c):
                g.add_paragraph(f"{c.label}：{c.message}")
    g.add_heading("二、逐部分：要求、评分与可引用条款", 1)
    if d.checklist_intro:
        g.add_heading("总体要求与评分", 2)
        for c in d.checklist_intro:
            g.add_paragraph(_quote(c))
    for b in _checklist_sections(d):
        st = _status(b)
        g.add_heading(b.heading + (f"（{st}）" if st else ""), 2)
        if b.requirement:
            g.add_paragraph("要求：" + _quote(b.requirement))
        for s in b.scoring:
            g.add_paragraph("评分：" + _quote(s))
        for c in b.cites:
            g.add_paragraph("可引用：" + _quote(c))
    return g.to_bytes()


def to_dict(d: Draft) -> dict:
    out = asdict(d)
    out["citations"] = [{**asdict(c), "clause": c.label, "cite": c.cite} for c in d.citations()]
    return out
