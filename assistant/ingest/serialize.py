"""Extraction → the text the clause parser reads (the conventions of the corpus .txt files).

The parser (assistant/corpus/parse.py) reads one paragraph per line, and a form's layout
from tabs and blank lines. This module is the hand-written part that no library does for
these documents: it rejoins the visual lines of a PDF page into paragraphs by their geometry
(a line that reaches the right edge of the text column continues on the next line, also
across a page break, unless the next line is set apart by a gap, a different font, an indent
after a finished sentence, or starts a numbered clause after one), recognises the table of
contents, and writes a ruled table in the layout the parser expects:

- standards (表A.1): one line per row, cells separated by tabs;
- notices (the forms of their attachments): each cell on its own line led by a tab (a second
  paragraph of a cell on a line of its own, without the tab), a blank line after each row.

Nothing is added to the text or reworded: every character of the output comes from the
extracted document, except the tabs, line breaks and single spaces of the layout, the
`- ` of an unnumbered list item, and a Word automatic number (rebuilt from the numbering
definitions, so that `a)` stands before its item as it does on the page).
"""

from __future__ import annotations

import re
import statistics
from dataclasses import dataclass

from assistant.corpus.parse import RE_TOC_ENTRY, RE_TOC_HEAD
from assistant.ingest.layout import Extraction, Para, Table, VLine

LABEL_START = re.compile(
    r"^(\d{1,2}(\.\d{1,2})*\s|\d{1,2}(\.\d{1,2})+\S|[a-z][)）]|\d{1,2}[)）]|[一二三四五六七八九十]{1,3}、|"
    r"（[一二三四五六七八九十]{1,3}）|\d{1,2}[.．](?!\d)|注\s*\d*\s*[：:]|附\s*录|附件\s*\d|表\s*[A-Z0-9]|图\s*\d|"
    r"前\s*言$|引\s*言$|参\s*考\s*文\s*献|\[\d+\]|[-–•●·▪◆]\s|——|□)")
BULLET = re.compile(r"^[•●·▪◆–]\s*")
# a TOC entry as OCR reads it: most leader dots lost, the page number set apart (`11.1绩效评价. ..15`)
OCR_TOC_ENTRY = re.compile(r"\s[.．·…]+\s*\d{1,3}$")
SENTENCE_END = "。！？；;：:"


def join_text(a: str, b: str) -> str:
    """Two pieces of one paragraph: a space only between two Latin letters or digits."""
    if not a:
        return b
    if a[-1].isascii() and a[-1].isalnum() and b[:1].isascii() and b[:1].isalnum():
        return a + " " + b
    return a + b


@dataclass
class _Geom:
    left: float
    right: float
    cw: float  # character width (font size)
    pitch: float  # the usual distance from one line's top to the next within a paragraph


def _geometry(lines: list[tuple[int, VLine]]) -> _Geom:
    if not lines:
        return _Geom(0, 0, 10, 14)
    xs = sorted(round(ln.x0) for _, ln in lines)
    common = {x for x in xs if xs.count(x) >= max(2, 0.05 * len(xs))}
    left = min(common) if common else xs[0]  # the text column's edge (first lines may be indented)
    x1s = sorted(ln.x1 for _, ln in lines)
    right = x1s[int(0.95 * (len(x1s) - 1))]
    cw = statistics.median(ln.size for _, ln in lines)
    pitches = [round(_cy(b) - _cy(a)) for (pa, a), (pb, b) in zip(lines, lines[1:])
               if pa == pb and 0 < _cy(b) - _cy(a) < 3 * cw]
    pitch = statistics.mode(pitches) if pitches else 1.5 * cw
    return _Geom(left, right, cw, pitch)


def _cy(ln: VLine) -> float:
    return (ln.y0 + ln.y1) / 2


def _continues(a: VLine, pa: int, b: VLine, pb: int, g: _Geom, right: float | None = None,
               left: float | None = None, cell: bool = False) -> bool:
    """Is visual line b the continuation of the paragraph that line a is in? In a table cell
    a line often breaks early (a narrow column, a bracket that may not end a line): there a
    line continues unless the one before finished a sentence or a gap sets it apart."""
    if cell:
        if pa == pb and _cy(b) - _cy(a) > g.pitch * 1.25 + 0.5:
            return False
        return a.text.rstrip()[-1:] not in SENTENCE_END + "）)"
    right = g.right if right is None else right
    left = g.left if left is None else left
    cw = max(min(a.size, b.size), 1.0)
    if a.x1 < right - 2.2 * cw:  # a stopped short of the right edge (kinsoku may pull one character down)
        return False
    if abs(a.size - b.size) > max(0.6, 0.2 * cw) or a.bold != b.bold:
        return False
    if pa == pb and _cy(b) - _cy(a) > g.pitch * 1.25 + 0.5:  # a gap: a new paragraph
        return False
    ended = a.text.rstrip()[-1:] in SENTENCE_END
    if (ended or a.text.rstrip()[-1:] in "）)") and LABEL_START.match(b.text.strip()):
        return False
    if ended and b.x0 > left + 1.5 * cw:  # an indented first line after a finished sentence
        return False
    return True


def _paragraphs(lines: list[tuple[int, VLine]], g: _Geom, right: float | None = None,
                left: float | None = None, cell: bool = False) -> list[str]:
    paras: list[str] = []
    prev: tuple[int, VLine] | None = None
    for page, ln in lines:
        text = BULLET.sub("- ", ln.text.strip()) if BULLET.match(ln.text.strip()) else ln.text.strip()
        if prev is not None and _continues(prev[1], prev[0], ln, page, g, right, left, cell):
            paras[-1] = join_text(paras[-1], text)
        else:
            paras.append(text)
        prev = (page, ln)
    return paras


def _cell_paras(cell, g: _Geom) -> list[str]:
    if cell.paras is not None:
        return [p for p in cell.paras if p.strip()]
    if not cell.lines:
        return []
    lines = [(0, ln) for ln in cell.lines]
    pitches = [_cy(b) - _cy(a) for a, b in zip(cell.lines, cell.lines[1:]) if _cy(b) > _cy(a)]
    pitch = min(pitches) if pitches else g.pitch
    return _paragraphs(lines, _Geom(cell.x0, cell.x1, g.cw, pitch), cell=True)


def table_lines(table: Table, standard: bool, g: _Geom) -> list[str]:
    out: list[str] = []
    for row in table.rows:
        cells = [_cell_paras(c, g) for c in row.cells]
        if standard:
            out.append("\t".join(" ".join(c) for c in cells))
        else:
            for c in cells:
                out.append("\t" + (c[0] if c else ""))
                out.extend(c[1:])
            out.append("")
    if not standard:
        out.append("")
    return out


def _toc_entry(text: str) -> str:
    """A table-of-contents line with its leader dots and page number in the form the parser
    skips (`name.....<tab>page`)."""
    t = re.sub(r"\s*[.…·]{3,}\s*", ".....\t", text.strip())
    return t


def serialize(ex: Extraction, standard: bool) -> str:
    """The document as parser input (see module doc)."""
    if ex.text is not None:
        return ex.text
    if ex.paras:
        return _serialize_paras(ex.paras, standard)
    return _serialize_pages(ex, standard)


def _serialize_paras(items: list[Para | Table], standard: bool) -> str:
    g = _Geom(0, 0, 10, 14)
    out: list[str] = []
    in_toc = False
    for it in items:
        if isinstance(it, Table):
            out += table_lines(it, standard, g)
            in_toc = False
            continue
        text = it.text.strip()
        if not text and not it.label:
            continue
        if RE_TOC_HEAD.match(text):
            in_toc = True
            out.append(text)
            continue
        if in_toc:
            if RE_TOC_ENTRY.search(text):
                out.append(_toc_entry(text))
                continue
            in_toc = False
        if it.label:
            sep = "" if it.label.endswith(("、", "）", ".", "．")) else " "
            text = f"{it.label}{sep}{text}"
        elif it.bullet:
            text = "- " + text
        out.append(text.replace("\t", " ") if not text.startswith("- ") else text)
    return "\n".join(out) + "\n"


def _serialize_pages(ex: Extraction, standard: bool) -> str:
    stream: list[tuple[int, VLine | Table]] = [(p.number, it) for p in ex.pages for it in p.items]
    body_lines = [(pg, it) for pg, it in stream if isinstance(it, VLine)]
    g = _geometry(body_lines)
    out: list[str] = []
    run: list[tuple[int, VLine]] = []
    toc_state = "before"  # before | in | after

    def flush() -> None:
        if run:
            out.extend(_paragraphs(run, g))
            run.clear()

    for idx, (page, it) in enumerate(stream):
        if isinstance(it, Table):
            flush()
            out.extend(table_lines(it, standard, g))
            continue
        text = it.text.strip()
        if toc_state == "before" and RE_TOC_HEAD.match(text):
            flush()
            out.append(text)
            toc_state = "in"
            toc_head_page = page
            continue
        if toc_state == "in":
            # the rest of the TOC head's page is the table of contents (OCR may lose the leader
            # dots and page numbers); on later pages, lines while they look like entries
            if page == toc_head_page or RE_TOC_ENTRY.search(text) or OCR_TOC_ENTRY.search(text):
                entry = _toc_entry(text)
                out.append(entry if RE_TOC_ENTRY.search(entry) else entry + ".....")
                continue
            toc_state = "after"
        run.append((page, it))
    flush()
    return "\n".join(out) + "\n"
