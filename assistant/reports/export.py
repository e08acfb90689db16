"""Export a draft as Markdown, as a JSON-able dict, or as DOCX (python-docx)."""

from __future__ import annotations

import io
from dataclasses import asdict

from assistant.reports.draft import Block, Draft

LEVEL_ZH = {"ok": "✓", "warning": "提示", "error": "需修改"}


def _quote(c) -> str:
    return f"{c.quote.replace(chr(10), ' ')}{c.cite}"


def to_markdown(d: Draft, with_checks: bool = True) -> str:
    lines = [f"# {d.title}", "", f"单位：{d.unit}", ""]

    def block(b: Block, level: int) -> None:
        lines.append(f"{'#' * level} {b.heading}")
        lines.append("")
        if b.requirement:
            lines.append(f"> 要求：{_quote(b.requirement)}")
        for s in b.scoring:
            lines.append(f"> 评分：{_quote(s)}")
        if b.requirement or b.scoring:
            lines.append("")
        if b.cites:
            lines.append("可引用条款：")
            lines.extend(f"- {_quote(c)}" for c in b.cites)
            lines.append("")
        for text in b.content:
            lines.append(text)
            lines.append("")
        for ch in b.children:
            block(ch, min(level + 1, 6))

    for b in d.blocks:
        block(b, 2)
    if with_checks and d.checks:
        lines += ["---", "", "## 检查结果（不属于正文）", ""]
        lines += [f"- [{LEVEL_ZH[c.level]}] {c.field}：{c.message}" for c in d.checks]
    return "\n".join(lines).rstrip() + "\n"


def to_dict(d: Draft) -> dict:
    out = asdict(d)
    out["citations"] = [{**asdict(c), "clause": c.label, "cite": c.cite} for c in d.citations()]
    return out


def to_docx(d: Draft) -> bytes:
    from docx import Document
    from docx.shared import Pt

    doc = Document()
    style = doc.styles["Normal"]
    style.font.size = Pt(11)
    doc.add_heading(d.title, level=0)
    doc.add_paragraph(f"单位：{d.unit}")

    def block(b: Block, level: int) -> None:
        doc.add_heading(b.heading, level=min(level, 9))
        if b.requirement:
            p = doc.add_paragraph()
            p.add_run("要求：").bold = True
            p.add_run(_quote(b.requirement)).italic = True
        for s in b.scoring:
            p = doc.add_paragraph()
            p.add_run("评分：").bold = True
            p.add_run(_quote(s)).italic = True
        if b.cites:
            doc.add_paragraph("可引用条款：").runs[0].bold = True
            for c in b.cites:
                doc.add_paragraph(_quote(c), style="List Bullet")
        for text in b.content:
            doc.add_paragraph(text)
        for ch in b.children:
            block(ch, level + 1)

    for b in d.blocks:
        block(b, 1)
    if d.checks:
        doc.add_page_break()
        doc.add_heading("检查结果（不属于正文）", level=1)
        for c in d.checks:
            doc.add_paragraph(f"[{LEVEL_ZH[c.level]}] {c.field}：{c.message}", style="List Bullet")
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()
