"""PDF → pages of visual lines and ruled tables (PyMuPDF), OCR for pages without text.

PyMuPDF was chosen over pdfplumber by measurement (benchmarks/README.md, "Ingest"): fed to
the same downstream code both reached the same round-trip scores on the five rendered
documents, PyMuPDF 8–40× faster; an earlier trial saw pdfplumber return Kangxi-radical code
points (⽬ for 目) on other fonts (not reproduced with the Noto fonts here).
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from pathlib import Path
from typing import Callable

from assistant.ingest.errors import IngestError
from assistant.ingest.grid import place_lines, tables_from_segments
from assistant.ingest.layout import Extraction, Page, Table, VLine

Progress = Callable[[str, int, int], None]

# a page with fewer characters than this in its text layer, and an image, is a scan
MIN_TEXT_CHARS = 8
PAGE_NUMBER = re.compile(r"^(?:[-–—]\s*)?(?:第\s*)?(\d{1,4}|[IVXLC]{1,6}|[ivxlc]{1,6})(?:\s*页)?(?:\s*[/／]\s*\d{1,4})?"
                         r"(?:\s*[-–—])?$")


def cluster_lines(spans: list[VLine]) -> list[VLine]:
    """Spans on one baseline as one visual line, left to right; a gap wider than a third of
    the font size becomes a space (a number and its text, cells of a tab-laid line)."""
    spans = sorted(spans, key=lambda s: ((s.y0 + s.y1) / 2, s.x0))
    rows: list[list[VLine]] = []
    for s in spans:
        cy = (s.y0 + s.y1) / 2
        for row in rows[-3:]:
            r = row[0]
            rcy = (r.y0 + r.y1) / 2
            if abs(rcy - cy) <= 0.35 * max(min(r.height, s.height), 1.0):
                row.append(s)
                break
        else:
            rows.append([s])
    out = []
    for row in rows:
        row.sort(key=lambda s: s.x0)
        text = row[0].text
        for a, b in zip(row, row[1:]):
            gap = b.x0 - a.x1
            sep = " " if gap > 0.9 * max(a.size, b.size) and not text.endswith(" ") and not b.text.startswith(" ") else ""
            text += sep + b.text
        confs = [s.conf for s in row if s.conf is not None]
        out.append(VLine(text=text, x0=min(s.x0 for s in row), y0=min(s.y0 for s in row),
                         x1=max(s.x1 for s in row), y1=max(s.y1 for s in row),
                         size=max(s.size for s in row), bold=all(s.bold for s in row),
                         conf=sum(confs) / len(confs) if confs else None))
    out.sort(key=lambda ln: (ln.y0, ln.x0))
    return out


def build_page(number: int, width: float, height: float, spans: list[VLine], hsegs, vsegs) -> Page:
    """Spans and rules of a page → its body lines and tables, in reading order."""
    tables = tables_from_segments(hsegs, vsegs)
    rest = place_lines(tables, spans)
    for t in tables:
        for r in t.rows:
            for c in r.cells:
                c.lines = cluster_lines(c.lines)
    items: list[VLine | Table] = [*cluster_lines(rest), *tables]
    items.sort(key=lambda it: (it.y0, getattr(it, "x0", 0)))
    return Page(number, width, height, items)


def _segments(page) -> tuple[list, list]:
    h, v = [], []
    for d in page.get_drawings():
        for item in d["items"]:
            if item[0] == "l":
                p, q = item[1], item[2]
                if abs(p.y - q.y) < 1.0:
                    h.append((min(p.x, q.x), p.y, max(p.x, q.x), p.y))
                elif abs(p.x - q.x) < 1.0:
                    v.append((p.x, min(p.y, q.y), p.x, max(p.y, q.y)))
            elif item[0] == "re":
                r = item[1]
                if r.height < 2.5 and r.width > 2.5:
                    h.append((r.x0, (r.y0 + r.y1) / 2, r.x1, (r.y0 + r.y1) / 2))
                elif r.width < 2.5 and r.height > 2.5:
                    v.append(((r.x0 + r.x1) / 2, r.y0, (r.x0 + r.x1) / 2, r.y1))
                elif d.get("color") is not None and r.width > 2.5 and r.height > 2.5 and not d.get("fill"):
                    # an outlined rectangle: its four sides
                    h += [(r.x0, r.y0, r.x1, r.y0), (r.x0, r.y1, r.x1, r.y1)]
                    v += [(r.x0, r.y0, r.x0, r.y1), (r.x1, r.y0, r.x1, r.y1)]
    return h, v


def _spans(page) -> list[VLine]:
    out = []
    for block in page.get_text("dict")["blocks"]:
        for line in block.get("lines", []):
            if line.get("dir", (1, 0))[0] < 0.9:  # vertical or rotated text: not body text
                continue
            for s in line["spans"]:
                t = s["text"]
                if not t.strip():
                    continue
                x0, y0, x1, y1 = s["bbox"]
                out.append(VLine(t, x0, y0, x1, y1, size=round(s["size"], 1), bold=bool(s["flags"] & 16)))
    return out


def open_pdf(path: Path, data: bytes | None = None):
    """The PDF from its bytes when given (an upload: `path` is only its name), else from path."""
    import pymupdf

    try:
        doc = (pymupdf.open(stream=data, filetype="pdf") if data is not None
               else pymupdf.open(str(path), filetype="pdf"))
    except Exception as exc:  # noqa: BLE001 - whatever MuPDF says about a broken file
        raise IngestError(path, f"无法读取 PDF（文件已损坏或不是 PDF：{exc}）。") from None
    if doc.needs_pass or doc.is_encrypted:
        raise IngestError(path, "PDF 已加密（需要密码才能打开），无法提取文字。请先在原软件中取消密码保护后再上传。")
    if doc.page_count == 0:
        raise IngestError(path, "PDF 没有任何页面。")
    return doc


def extract_pdf(path: Path, ocr_engine=None, progress: Progress | None = None, dpi: int = 200,
                data: bytes | None = None) -> Extraction:
    """Pages with their visual lines and tables; pages without a text layer go to OCR
    (`ocr_engine`: assistant.ingest.ocr; None = OCR unavailable, which is an error).
    data: the file's bytes (an upload), read instead of path."""
    doc = open_pdf(path, data)
    ex = Extraction(format="pdf")
    n = doc.page_count
    scanned = []
    for i, page in enumerate(doc):
        spans = _spans(page)
        chars = sum(len(s.text.strip()) for s in spans)
        if chars < MIN_TEXT_CHARS and page.get_images():
            scanned.append(i)
            ex.pages.append(Page(i + 1, page.rect.width, page.rect.height))
            continue
        h, v = _segments(page)
        ex.pages.append(build_page(i + 1, page.rect.width, page.rect.height, spans, h, v))
        if progress:
            progress("extract", i + 1, n)
    if scanned:
        if ocr_engine is None:
            raise IngestError(path, f"PDF 的 {len(scanned)} 页没有文字层（扫描件或图片），需要 OCR 识别，"
                                    "但本机的 OCR 不可用（BA_OCR_ENGINE=off 或未安装 rapidocr-onnxruntime）。")
        from assistant.ingest.ocr import assemble_page, read_pages

        ex.ocr = True
        ex.ocr_engine = ocr_engine.name
        pngs = (doc[i].get_pixmap(dpi=dpi, colorspace="gray").tobytes("png") for i in scanned)
        reads = read_pages(ocr_engine, pngs, on_page=(lambda k: progress("ocr", k, len(scanned))) if progress else None,
                           count=len(scanned))
        for i, read in zip(scanned, reads):
            page = doc[i]
            ex.pages[i] = assemble_page(read, i + 1, page.rect.width, page.rect.height, dpi)
    drop_running_lines(ex.pages)
    for p in ex.pages:
        if not p.items:
            ex.warnings.append(f"第 {p.number} 页没有提取到文字")
    return ex


def drop_running_lines(pages: list[Page], zone: float = 0.1) -> None:
    """Remove running headers and footers (a line in the top or bottom tenth of the page whose
    text, digits aside, repeats on at least half the pages) and page numbers there."""
    def key(t: str) -> str:  # digits aside, and the full/half-width forms OCR confuses
        t = unicodedata.normalize("NFKC", t)
        return re.sub(r"\d+|[IVXLCivxlc]+(?=$)", "#", re.sub(r"[\W_]+", "", t))

    def in_zone(p: Page, ln) -> str | None:
        if not isinstance(ln, VLine) or not p.height:
            return None
        if ln.y1 <= p.height * zone:
            return "top"
        if ln.y0 >= p.height * (1 - zone):
            return "bottom"
        return None

    counts: dict[str, set[int]] = {}
    for p in pages:
        for ln in p.items:
            if in_zone(p, ln):
                counts.setdefault(key(ln.text), set()).add(p.number)
    # OCR reads a running header a little differently on each page: near-equal keys count together
    keys = list(counts)
    merged = {k: set(v) for k, v in counts.items()}
    for i, a in enumerate(keys):
        for b in keys[i + 1:]:
            if len(a) >= 4 and difflib.SequenceMatcher(None, a, b).ratio() >= 0.85:
                merged[a] |= counts[b]
                merged[b] |= counts[a]
    counts = merged
    need = max(2, len(pages) // 2)
    for p in pages:
        keep = []
        for ln in p.items:
            where = in_zone(p, ln)
            if where and (PAGE_NUMBER.match(re.sub(r"\s+", "", ln.text)) or
                          (len(pages) >= 2 and len(counts.get(key(ln.text), ())) >= need)):
                reason = "页码" if PAGE_NUMBER.match(re.sub(r"\s+", "", ln.text)) else \
                    ("页眉" if where == "top" else "页脚")
                p.dropped.append((ln.text, reason))
                continue
            keep.append(ln)
        p.items = keep
