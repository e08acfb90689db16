"""Rendering: an answer's structure → plain text, Markdown, SSE events. One place; the UI,
the CLI and the API render from the structure and never re-parse text.

Plain text is what an official pastes into a document: the direct answer, then the cited
points ("1. …〔T/GXAS 1220—2026 6.4.4 b)〕"), then other documents' related provisions. No UI
tags sit between a quote and its citation.
"""

from __future__ import annotations

import html

from assistant.answer.models import Answer, Citation, Point

STRENGTH_ZH = {"shall": "应", "should": "宜", "may": "可", "shall-not": "不应", "none": "陈述"}


def _quote(c: Citation) -> str:
    return c.quote.replace("\n", " ")


def _item_label(c: Citation) -> str:
    return c.label.split(" ")[-1]


def point_lines(p: Point, n: int) -> list[str]:
    note = f"（{p.note}）" if p.note else ""
    lines = [f"{n}. {_quote(p.citation)}{p.citation.cite}{note}"]
    for it in p.items:
        lines.append(f"   {_item_label(it.citation)} {_quote(it.citation)}{it.citation.cite}")
    return lines


def related_line(c: Citation) -> str:
    q = _quote(c)
    return f"- {q[:60] + '…' if len(q) > 60 else q}{c.cite}"


def to_text(a: Answer) -> str:
    out = [a.direct] if a.direct else []
    if a.points:
        out.append("")
        for i, p in enumerate(a.points, 1):
            out.extend(point_lines(p, i))
    if a.related:
        out.append("\n其他相关规定：")
        out.extend(related_line(c) for c in a.related)
    if a.coverage == "none" and a.nearest_topics:
        out.append("\n文件中相近的内容有：")
        out.extend(f"- {t}" for t in a.nearest_topics)
    return "\n".join(out).strip()


def to_markdown(a: Answer, strengths: set[str] | None = None) -> str:
    """Markdown for the chat UI; `strengths` keeps only points of those strengths."""
    def keep(c: Citation) -> bool:
        return not strengths or c.strength in strengths

    def esc(s: str) -> str:
        return html.escape(s, quote=False).replace("*", r"\*").replace("_", r"\_")

    out = [f"**{esc(a.direct)}**"] if a.direct else []
    n = 0
    for p in a.points:
        if not keep(p.citation) and not any(keep(i.citation) for i in p.items):
            continue
        n += 1
        note = f"（{p.note}）" if p.note else ""
        ctx = f"<small>{esc(p.context)}</small>  \n" if p.context else ""
        out.append(f"{n}\\. {ctx}{esc(_quote(p.citation))}{p.citation.cite}{note}")
        for it in p.items:
            if keep(it.citation):
                out.append(f"    - {_item_label(it.citation)} {esc(_quote(it.citation))}{it.citation.cite}")
    if a.related:
        out.append("\n**其他相关规定**")
        out.extend(f"- {esc(related_line(c)[2:])}" for c in a.related)
    if a.coverage == "none" and a.nearest_topics:
        out.append("\n**文件中相近的内容**")
        out.extend(f"- {esc(t)}" for t in a.nearest_topics)
    return "\n\n".join(x for x in out if x)


def sse_events(a: Answer, meta: dict) -> list[tuple[str, dict | list]]:
    """The events of /v1/ask/stream, in order: meta, direct, point (one per point), related,
    answer (the whole plain text, as the first version of the stream sent it), citations;
    the route sends done (the whole response) last."""
    events: list[tuple[str, dict | list]] = [("meta", {**meta, "supported": a.supported, "coverage": a.coverage,
                                                      "missing": a.missing})]
    events.append(("direct", {"text": a.direct}))
    for i, p in enumerate(a.points, 1):
        events.append(("point", {"n": i, "text": "\n".join(point_lines(p, i)), "point": p.to_dict()}))
    if a.related:
        events.append(("related", [c.to_dict() for c in a.related]))
    events.append(("answer", {"text": to_text(a)}))
    events.append(("citations", [c.to_dict() for c in a.citations]))
    return events


def strength_zh(s: str | None) -> str:
    return STRENGTH_ZH.get(s or "none", "陈述")
