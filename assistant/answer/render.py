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


# --- the chat UI's pieces (ui/chat.py renders these; it never re-parses text) -------------

def md_escape(s: str) -> str:
    """Text safe inside Streamlit Markdown: HTML escaped, Markdown's emphasis and links inert."""
    out = html.escape(s, quote=False)
    for ch in "\\*_[]`$~|#":
        out = out.replace(ch, "\\" + ch)
    return out


def _keep(strengths: set[str] | None):
    return lambda c: not strengths or c.strength in strengths


def shown_points(a: Answer, strengths: set[str] | None = None) -> list[Point]:
    """The points a reader sees with a strength filter: a point stays when it or one of its
    items has a wanted strength, and keeps only the wanted items."""
    keep = _keep(strengths)
    out = []
    for p in a.points:
        items = [i for i in p.items if keep(i.citation)]
        if keep(p.citation) or items:
            out.append(Point(p.citation, items, p.context, p.note))
    return out


def direct_markdown(a: Answer) -> str:
    return md_escape(a.direct) if a.direct else ""


def points_markdown(a: Answer, strengths: set[str] | None = None) -> str:
    """The cited points as a numbered Markdown list (strength filter applied), each quote
    followed by its citation; a point's heading in small type above it."""
    out = []
    for n, p in enumerate(shown_points(a, strengths), 1):
        note = f"（{md_escape(p.note)}）" if p.note else ""
        ctx = f'<span class="ba-ctx">{md_escape(p.context)}</span><br>' if p.context else ""
        out.append(f"{n}. {ctx}{md_escape(_quote(p.citation))}{p.citation.cite}{note}")
        for it in p.items:
            out.append(f"    - {md_escape(_item_label(it.citation))} {md_escape(_quote(it.citation))}{it.citation.cite}")
    return "\n".join(out)


def citation_markdown(c: Citation, limit: int | None = None) -> str:
    q = _quote(c)
    if limit and len(q) > limit:
        q = q[:limit] + "…"
    return f"{md_escape(q)}{c.cite}"


def shown_citations(a: Answer, strengths: set[str] | None = None) -> list[Citation]:
    """The citations of the shown points, in order (what the citation cards list)."""
    return [c for p in shown_points(a, strengths) for c in p.citations()]


def copy_text(a: Answer, strengths: set[str] | None = None) -> str:
    """What "复制答复" puts on the clipboard: the direct answer, then the shown points with
    their 〔citations〕, quotes in full, nothing of the page around them. A point the
    direct answer already quotes in full (and that has no items) is not repeated."""
    out = [a.direct] if a.direct else []
    pts = [p for p in shown_points(a, strengths)
           if p.items or f"{_quote(p.citation)}{p.citation.cite}" not in (a.direct or "")]
    if pts:
        out.append("")
        for i, p in enumerate(pts, 1):
            out.extend(point_lines(p, i))
    if a.coverage == "none" and a.nearest_topics:
        out.append("\n文件中相近的内容有：")
        out.extend(f"- {t}" for t in a.nearest_topics)
    return "\n".join(out).strip()
