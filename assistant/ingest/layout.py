"""What an extractor hands the serializer: the document's visual lines with their layout.

Every extractor (PDF text layer, OCR of page images, DOCX, HTML) produces the same
records, so the one thing written by hand for Chinese standards — turning lines into the
line-per-paragraph text the clause parser reads (serialize.py) — is shared:

- `VLine`: one visual line of a page (its text and box, the font size, bold), as PyMuPDF
  or the OCR engine saw it; a paragraph is one or more of them;
- `Cell`/`Row`/`Table`: a ruled table (a form), cells holding their own visual lines;
- `Page`: the page's body lines and tables in reading order, with what was dropped
  (running header and footer, page number) and why;
- `Para`: a paragraph already known to be one (DOCX, HTML have no visual lines);
- `Extraction`: the whole document.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class VLine:
    text: str
    x0: float
    y0: float
    x1: float
    y1: float
    size: float = 10.0
    bold: bool = False
    conf: float | None = None  # OCR confidence of the line (0–1)

    @property
    def height(self) -> float:
        return self.y1 - self.y0


@dataclass
class Cell:
    x0: float
    x1: float
    lines: list[VLine] = field(default_factory=list)
    paras: list[str] | None = None  # when the extractor knows the paragraphs (DOCX, HTML)


@dataclass
class Row:
    y0: float
    y1: float
    cells: list[Cell] = field(default_factory=list)


@dataclass
class Table:
    y0: float
    y1: float
    rows: list[Row] = field(default_factory=list)


@dataclass
class Para:
    """A paragraph known as such (DOCX, HTML). `label` is an automatic number rebuilt from
    the numbering definitions (not in the text), `bullet` an unnumbered list item."""

    text: str
    label: str = ""
    bullet: bool = False
    heading: bool = False
    page_break_before: bool = False


@dataclass
class Page:
    number: int  # 1-based
    width: float = 0.0
    height: float = 0.0
    items: list[VLine | Table] = field(default_factory=list)
    dropped: list[tuple[str, str]] = field(default_factory=list)  # (text, reason)
    ocr: bool = False
    ocr_confidence: float | None = None


@dataclass
class Extraction:
    format: str  # pdf | docx | html | txt | md
    pages: list[Page] = field(default_factory=list)  # PDF and OCR
    paras: list[Para | Table] = field(default_factory=list)  # DOCX and HTML
    text: str | None = None  # .txt/.md: the text as received
    ocr: bool = False
    ocr_engine: str = ""
    warnings: list[str] = field(default_factory=list)

    @property
    def page_count(self) -> int | None:
        return len(self.pages) if self.pages else None

    @property
    def ocr_confidence(self) -> float | None:
        confs = [p.ocr_confidence for p in self.pages if p.ocr and p.ocr_confidence is not None]
        return round(sum(confs) / len(confs), 4) if confs else None
