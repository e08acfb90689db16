"""HTML (a ministry's notice page) → the notice's paragraphs and tables, without the site's
navigation, header, footer or sharing links.

The main text is found by readability-lxml (the well-kept port of Arc90 Readability); its
result is walked here in document order: block elements become paragraphs, `<br>` breaks a
paragraph, list items keep their bullet, tables keep their rows and cells.
"""

from __future__ import annotations

import re
from pathlib import Path

from assistant.ingest.errors import IngestError
from assistant.ingest.layout import Cell, Extraction, Para, Row, Table

BLOCKS = {"p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "li", "blockquote", "pre", "section", "article",
          "header", "footer", "dd", "dt", "center", "address"}
DROP = {"script", "style", "noscript", "nav", "form", "button", "iframe", "svg", "select"}


def _decode(path: Path, data: bytes) -> str:
    head = data[:2048].decode("ascii", errors="ignore")
    m = re.search(r"charset=[\"']?([A-Za-z0-9_-]+)", head)
    for enc in ([m.group(1)] if m else []) + ["utf-8", "gb18030"]:
        try:
            return data.decode(enc)
        except (UnicodeDecodeError, LookupError):
            continue
    raise IngestError(path, "无法识别网页的文字编码。")


def extract_html(path: Path, data: bytes) -> Extraction:
    import lxml.html
    from readability import Document

    html = _decode(path, data)
    try:
        full = lxml.html.fromstring(html)
    except Exception as exc:  # noqa: BLE001 - lxml's parser errors
        raise IngestError(path, f"无法解析网页（{type(exc).__name__}）。") from None
    title = (full.findtext(".//title") or "").strip()
    try:
        main = Document(html).summary(html_partial=True)
        root = lxml.html.fromstring(main)
    except Exception:  # noqa: BLE001 - readability gives up on odd pages: use the body
        root = full.find("body") if full.find("body") is not None else full
    ex = Extraction(format="html")
    if title:
        ex.warnings.append(f"网页标题：{title}")
    buf: list[str] = []

    def flush(bullet: bool = False) -> None:
        text = re.sub(r"[ \t\r\f\v]+", " ", "".join(buf)).strip()
        buf.clear()
        for piece in text.split("\n"):
            if piece.strip():
                ex.paras.append(Para(piece.strip(), bullet=bullet))

    def walk(el) -> None:
        tag = el.tag if isinstance(el.tag, str) else ""
        if tag in DROP:
            if el.tail:
                buf.append(el.tail)
            return
        if tag == "table":
            flush()
            ex.paras.append(_table(el))
        elif tag == "br":
            buf.append("\n")
        elif tag in BLOCKS:
            flush()
            if el.text:
                buf.append(el.text)
            for child in el:
                walk(child)
            flush(bullet=tag == "li" and el.getparent() is not None and el.getparent().tag == "ul")
        else:
            if el.text:
                buf.append(el.text)
            for child in el:
                walk(child)
        if tag and el.tail:
            buf.append(el.tail)

    walk(root)
    flush()
    if not ex.paras:
        raise IngestError(path, "网页中没有找到正文。")
    return ex


def _table(el) -> Table:
    table = Table(0, 0)
    for tr in el.iter("tr"):
        row = Row(0, 0)
        for td in tr:
            if td.tag not in ("td", "th"):
                continue
            blocks = [b for b in td.iter() if isinstance(b.tag, str) and b.tag in BLOCKS and b is not td]
            if blocks:  # paragraphs inside the cell
                text = "\n".join(b.text_content() for b in blocks if not any(
                    isinstance(c.tag, str) and c.tag in BLOCKS for c in b.iterdescendants()))
            else:
                for br in td.iter("br"):
                    br.tail = "\n" + (br.tail or "")
                text = td.text_content()
            paras = [re.sub(r"\s+", " ", x).strip() for x in re.split(r"\n", text)]
            row.cells.append(Cell(0, 0, paras=[p for p in paras if p]))
        table.rows.append(row)
    return table
