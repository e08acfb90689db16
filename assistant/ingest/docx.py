"""DOCX → paragraphs and tables in document order (python-docx), with Word's automatic
numbering rebuilt.

In a Word standard the numbers of `6.4.4`, `a)` or `（一）` are often not in the text: they
are drawn from numbering.xml (an abstract list with a format and a level text such as
`%1.%2.%3` or `（%1）`, instances of it, start overrides). python-docx exposes the XML but
does not compute the numbers, so the counters are kept here, in document order, as Word
does: per list instance (or per abstract list where instances share it without an
override), deeper levels restarting when a shallower one advances.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from assistant.ingest.errors import IngestError
from assistant.ingest.layout import Cell, Extraction, Para, Row, Table

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
CN = "一二三四五六七八九十"


def _cn(n: int) -> str:
    if n <= 0:
        return str(n)
    if n <= 10:
        return "十" if n == 10 else CN[n - 1]
    if n < 100:
        tens, ones = divmod(n, 10)
        return ("" if tens == 1 else CN[tens - 1]) + "十" + (CN[ones - 1] if ones else "")
    return str(n)


def _roman(n: int) -> str:
    vals = [(1000, "m"), (900, "cm"), (500, "d"), (400, "cd"), (100, "c"), (90, "xc"), (50, "l"), (40, "xl"),
            (10, "x"), (9, "ix"), (5, "v"), (4, "iv"), (1, "i")]
    out = ""
    for v, s in vals:
        while n >= v:
            out += s
            n -= v
    return out


def _letters(n: int) -> str:
    return chr(96 + ((n - 1) % 26 + 1)) * ((n - 1) // 26 + 1)


def format_number(n: int, fmt: str) -> str:
    if fmt in ("decimal", "decimalZero") or not fmt:
        return f"{n:02d}" if fmt == "decimalZero" else str(n)
    if fmt == "lowerLetter":
        return _letters(n)
    if fmt == "upperLetter":
        return _letters(n).upper()
    if fmt == "lowerRoman":
        return _roman(n)
    if fmt == "upperRoman":
        return _roman(n).upper()
    if fmt in ("chineseCounting", "chineseCountingThousand", "chineseLegalSimplified", "ideographTraditional",
               "taiwaneseCounting", "taiwaneseCountingThousand"):
        return _cn(n)
    if fmt == "decimalEnclosedCircle" or fmt == "decimalEnclosedCircleChinese":
        return chr(0x2460 + n - 1) if 1 <= n <= 20 else str(n)
    if fmt == "decimalFullWidth":
        return "".join(chr(ord(c) + 0xFEE0) for c in str(n))
    return str(n)


class NumberingState:
    """The numbering definitions of a document and the running counters."""

    def __init__(self, numbering_el, styles_el) -> None:
        self.abstract: dict[str, dict[int, dict]] = {}
        self.nums: dict[str, tuple[str, dict[int, int]]] = {}  # numId -> (abstractId, start overrides)
        self.counters: dict[object, dict[int, int]] = {}
        self.style_num: dict[str, tuple[str, int]] = {}
        if numbering_el is not None:
            for a in numbering_el.iter(W + "abstractNum"):
                levels = {}
                for lvl in a.iter(W + "lvl"):
                    ilvl = int(lvl.get(W + "ilvl"))
                    get = lambda tag: (lvl.find(W + tag).get(W + "val") if lvl.find(W + tag) is not None else None)  # noqa: E731,B023
                    levels[ilvl] = {"start": int(get("start") or 1), "fmt": get("numFmt") or "decimal",
                                    "text": get("lvlText") or "", "restart": get("lvlRestart")}
                self.abstract[a.get(W + "abstractNumId")] = levels
            for n in numbering_el.iter(W + "num"):
                abs_el = n.find(W + "abstractNumId")
                overrides = {}
                for ov in n.iter(W + "lvlOverride"):
                    so = ov.find(W + "startOverride")
                    if so is not None:
                        overrides[int(ov.get(W + "ilvl"))] = int(so.get(W + "val"))
                if abs_el is not None:
                    self.nums[n.get(W + "numId")] = (abs_el.get(W + "val"), overrides)
        if styles_el is not None:
            for st in styles_el.iter(W + "style"):
                numpr = st.find(f"{W}pPr/{W}numPr")
                if numpr is not None and numpr.find(W + "numId") is not None:
                    ilvl = numpr.find(W + "ilvl")
                    self.style_num[st.get(W + "styleId")] = (numpr.find(W + "numId").get(W + "val"),
                                                            int(ilvl.get(W + "val")) if ilvl is not None else 0)

    def label(self, p_el) -> tuple[str, bool]:
        """(the automatic number of paragraph p, is it a bullet) — ('', False) if none."""
        ppr = p_el.find(W + "pPr")
        num_id, ilvl = None, 0
        if ppr is not None:
            numpr = ppr.find(W + "numPr")
            if numpr is not None:
                nid = numpr.find(W + "numId")
                lv = numpr.find(W + "ilvl")
                num_id = nid.get(W + "val") if nid is not None else None
                ilvl = int(lv.get(W + "val")) if lv is not None else 0
            if num_id is None:
                ps = ppr.find(W + "pStyle")
                if ps is not None and ps.get(W + "val") in self.style_num:
                    num_id, ilvl = self.style_num[ps.get(W + "val")]
        if num_id is None or num_id == "0" or num_id not in self.nums:
            return "", False
        abs_id, overrides = self.nums[num_id]
        levels = self.abstract.get(abs_id, {})
        if ilvl not in levels:
            return "", False
        lvl = levels[ilvl]
        if lvl["fmt"] == "bullet":
            return "", True
        if lvl["fmt"] == "none":
            return lvl["text"], False
        key = num_id if overrides else ("abstract", abs_id)
        counts = self.counters.setdefault(key, {})
        if ilvl in counts:
            counts[ilvl] += 1
        else:
            counts[ilvl] = overrides.get(ilvl, lvl["start"])
        for deeper in [k for k in counts if k > ilvl]:
            del counts[deeper]
        text = lvl["text"]
        for k in range(9):
            if f"%{k + 1}" in text:
                value = counts.get(k, levels.get(k, {}).get("start", 1))
                text = text.replace(f"%{k + 1}", format_number(value, levels.get(k, {}).get("fmt", "decimal")))
        return text, False


def _para_text(p_el) -> tuple[str, bool]:
    """Text of a paragraph (runs, hyperlinks, field results; tabs as tabs) and whether a page
    break stands in it."""
    out = []
    page_break = False
    for el in p_el.iter():
        tag = el.tag
        if tag == W + "t":
            out.append(el.text or "")
        elif tag == W + "tab" and el.getparent().tag == W + "r":
            out.append("\t")
        elif tag in (W + "br", W + "cr"):
            if el.get(W + "type") == "page":
                page_break = True
            else:
                out.append("\n")
        elif tag == W + "sym":
            out.append(chr(int(el.get(W + "char"), 16)) if el.get(W + "char") else "")
    return "".join(out), page_break


def extract_docx(path: Path, data: bytes) -> Extraction:
    try:
        import docx

        document = docx.Document(io.BytesIO(data))
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise IngestError(path, f"无法读取 Word 文档：文件已损坏或不是 .docx（{type(exc).__name__}）。") from None
    except Exception as exc:  # noqa: BLE001 - lxml and python-docx raise many kinds for a broken part
        raise IngestError(path, f"无法读取 Word 文档：文件已损坏（{type(exc).__name__}）。") from None
    try:
        numbering_el = document.part.numbering_part.element
    except (NotImplementedError, KeyError):
        numbering_el = None
    styles_el = document.styles.element if document.styles is not None else None
    nums = NumberingState(numbering_el, styles_el)
    ex = Extraction(format="docx")
    pending_break = False

    def walk(parent) -> None:
        nonlocal pending_break
        for el in parent.iterchildren():
            if el.tag == W + "p":
                text, brk = _para_text(el)
                label, bullet = nums.label(el)
                for k, piece in enumerate(text.split("\n")):
                    ex.paras.append(Para(piece, label=label if k == 0 else "", bullet=bullet and k == 0,
                                         page_break_before=pending_break))
                    pending_break = False
                pending_break = pending_break or brk
            elif el.tag == W + "tbl":
                ex.paras.append(_table(el, nums))
            elif el.tag in (W + "sdt", W + "customXml", W + "smartTag"):
                content = el.find(W + "sdtContent") if el.tag == W + "sdt" else el
                if content is not None:
                    walk(content)

    walk(document.element.body)
    if not any(isinstance(p, Table) or p.text.strip() for p in ex.paras):
        ex.warnings.append("文件中没有文字")
    return ex


def _table(tbl_el, nums: NumberingState) -> Table:
    table = Table(0, 0)
    for tr in tbl_el.iter(W + "tr"):
        if tr.getparent() is not tbl_el:
            continue
        row = Row(0, 0)
        for tc in tr.iterchildren(W + "tc"):
            vmerge = tc.find(f"{W}tcPr/{W}vMerge")
            paras = []
            if vmerge is None or vmerge.get(W + "val") == "restart":
                for p in tc.iter(W + "p"):
                    text, _ = _para_text(p)
                    label, bullet = nums.label(p)
                    if label:
                        text = label + text
                    elif bullet:
                        text = "- " + text
                    paras.extend(x for x in text.split("\n"))
            row.cells.append(Cell(0, 0, paras=[x.strip() for x in paras if x.strip()]))
        table.rows.append(row)
    return table
