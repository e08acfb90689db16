"""公文 layout for DOCX with python-docx, modelled on GB/T 9704 党政机关公文格式.

A4; margins top 37 mm, bottom 35 mm, left 28 mm, right 26 mm; title 小标宋 二号 (22 pt);
body 仿宋 三号 (16 pt) with a fixed 28.95 pt line (22 lines of 28 characters a page);
一、 headings 黑体, （一） headings 楷体; page numbers "— 1 —" in 宋体 四号 at the bottom,
odd pages right and even pages left, one character in from the edge of the text.

Fonts are named, not embedded: the names are those on an official's PC. 黑体, 仿宋, 楷体 and
宋体 ship with every Windows since Vista and with WPS; GB/T 9704 names 仿宋_GB2312 and
楷体_GB2312, which current Windows lacks (Word would substitute an unrelated font), and 仿宋 /
楷体 are the same designs with the larger GBK character set. The title's 方正小标宋简体 is not
a Windows font but is what government PCs install for 公文 titles; the font table declares it a
GB2312 serif so that Word/WPS substitute a 宋体-like face where it is missing. Every run
carries the font in w:eastAsia (what Word uses for Chinese text) and in w:ascii/w:hAnsi.
On a machine without these fonts (LibreOffice on Linux), a fontconfig substitution maps the
names to free fonts: see assistant/reports/render.py.
"""

from __future__ import annotations

import io
import re

from docx import Document
from docx.enum.section import WD_SECTION
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT, WD_ROW_HEIGHT_RULE, WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt

# role -> font name as installed on an official's PC (w:eastAsia); Latin text and digits use LATIN
FONTS = {"title": "方正小标宋简体", "body": "仿宋", "h1": "黑体", "h2": "楷体", "page_number": "宋体"}
LATIN = "Times New Roman"
SYMBOL = "Segoe UI Symbol"  # ☑/☐ on Windows (Word, WPS); rendered here with DejaVu Sans
PAGE_MM = (210, 297)
MARGINS_MM = {"top": 37, "bottom": 35, "left": 28, "right": 26}
TITLE_PT, BODY_PT, PAGE_NUMBER_PT, TABLE_PT = 22, 16, 14, 12  # 二号, 三号, 四号, 小四
LINE_PT = 28.95  # fixed line: 225 mm of text height / 22 lines
TABLE_LINE_PT = 18
# Word's font table: charset 86 = GB2312; family/pitch let a missing font be substituted by a like one
FONT_TABLE = {"方正小标宋简体": "roman", "仿宋": "modern", "黑体": "modern", "楷体": "modern", "宋体": "auto"}

STYLE = {  # style name (what Word/WPS show in the style list) -> (font role, size, bold)
    "公文正文": ("body", BODY_PT),
    "公文标题": ("title", TITLE_PT),
    "部分标题": ("h1", BODY_PT),
    "一级标题": ("h1", BODY_PT),
    "二级标题": ("h2", BODY_PT),
    "表格文字": ("body", TABLE_PT),
    "表格栏目": ("h1", TABLE_PT),
    "页码": ("page_number", PAGE_NUMBER_PT),
}


def set_run_fonts(run_or_style, role: str) -> None:
    """Name the role's font for Chinese (eastAsia) and Latin text; drop theme fonts that would win."""
    font = run_or_style.font
    font.name = LATIN if role != "page_number" else FONTS[role]
    rpr = run_or_style.element.get_or_add_rPr()
    rfonts = rpr.rFonts if rpr.rFonts is not None else rpr._add_rFonts()
    rfonts.set(qn("w:eastAsia"), FONTS[role])
    for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        rfonts.attrib.pop(qn(attr), None)


def set_symbol_font(run) -> None:
    """A check box (☑/☐) in a font that has it: the Latin and Chinese text fonts do not,
    and a renderer's own fallback may pick a colour emoji font that prints nothing."""
    rpr = run.element.get_or_add_rPr()
    rfonts = rpr.rFonts if rpr.rFonts is not None else rpr._add_rFonts()
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        rfonts.set(qn(attr), SYMBOL)


def _clear_theme_defaults(doc) -> None:
    """python-docx's template sets theme fonts and en-US in the document defaults; 公文 is zh-CN."""
    rpr_default = doc.styles.element.find(qn("w:docDefaults")).find(qn("w:rPrDefault")).find(qn("w:rPr"))
    rfonts = rpr_default.find(qn("w:rFonts"))
    if rfonts is not None:
        for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
            rfonts.attrib.pop(qn(attr), None)
        rfonts.set(qn("w:ascii"), LATIN)
        rfonts.set(qn("w:hAnsi"), LATIN)
        rfonts.set(qn("w:eastAsia"), FONTS["body"])
    lang = rpr_default.find(qn("w:lang"))
    if lang is None:
        lang = OxmlElement("w:lang")
        rpr_default.append(lang)
    lang.set(qn("w:val"), "en-US")
    lang.set(qn("w:eastAsia"), "zh-CN")


def _font_table(doc) -> None:
    """Declare the named fonts (GB2312 charset, family) in word/fontTable.xml."""
    part = next((r.target_part for r in doc.part.rels.values() if r.reltype.endswith("/fontTable")), None)
    if part is None:
        return
    from lxml import etree

    root = etree.fromstring(part.blob)
    have = {f.get(qn("w:name")) for f in root.findall(qn("w:font"))}
    for name, family in FONT_TABLE.items():
        if name in have:
            continue
        f = etree.SubElement(root, qn("w:font"))
        f.set(qn("w:name"), name)
        for tag, val in (("w:charset", "86"), ("w:family", family), ("w:pitch", "variable")):
            e = etree.SubElement(f, qn(tag))
            e.set(qn("w:val"), val)
    part._blob = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def _styles(doc, body_pt: float, line_pt: float) -> None:
    styles = doc.styles
    for name, (role, size) in STYLE.items():
        st = styles[name] if name in [s.name for s in styles] else styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
        st.base_style = None
        if size == BODY_PT:
            size = body_pt
        set_run_fonts(st, role)
        st.font.size = Pt(size)
        st.font.bold = False
        pf = st.paragraph_format
        pf.space_before = Pt(0)
        pf.space_after = Pt(0)
        pf.widow_control = False
        if name.startswith("表格"):
            pf.line_spacing_rule = WD_LINE_SPACING.EXACTLY
            pf.line_spacing = Pt(TABLE_LINE_PT)
        elif name == "页码":
            pf.line_spacing_rule = WD_LINE_SPACING.SINGLE
        elif name == "公文标题":
            pf.line_spacing_rule = WD_LINE_SPACING.EXACTLY
            pf.line_spacing = Pt(round(TITLE_PT * 1.6))
            pf.alignment = WD_ALIGN_PARAGRAPH.CENTER
        else:
            pf.line_spacing_rule = WD_LINE_SPACING.EXACTLY
            pf.line_spacing = Pt(line_pt)
            pf.alignment = WD_ALIGN_PARAGRAPH.CENTER if name == "部分标题" else WD_ALIGN_PARAGRAPH.JUSTIFY
            if name != "部分标题":
                pf.first_line_indent = Pt(2 * body_pt)  # 首行缩进二字
        if name in ("部分标题", "一级标题", "二级标题"):
            pf.keep_with_next = True
            ppr = st.element.get_or_add_pPr()
            lvl = OxmlElement("w:outlineLvl")  # shows in Word's navigation pane
            lvl.set(qn("w:val"), {"部分标题": "0", "一级标题": "1", "二级标题": "2"}[name])
            ppr.append(lvl)
    normal = styles["Normal"]
    set_run_fonts(normal, "body")
    normal.font.size = Pt(body_pt)


def _page_setup(section) -> None:
    section.page_width, section.page_height = Mm(PAGE_MM[0]), Mm(PAGE_MM[1])
    section.top_margin, section.bottom_margin = Mm(MARGINS_MM["top"]), Mm(MARGINS_MM["bottom"])
    section.left_margin, section.right_margin = Mm(MARGINS_MM["left"]), Mm(MARGINS_MM["right"])
    section.header_distance = Mm(15)
    section.footer_distance = Mm(22)  # the page number sits about 7 mm below the text block


def _page_field(paragraph) -> None:
    """— PAGE — with a real field, so Word/WPS/LibreOffice number every page."""

    def run(text=None, fld=None, instr=None):
        r = paragraph.add_run(text or "")
        set_run_fonts(r, "page_number")
        r.font.size = Pt(PAGE_NUMBER_PT)
        if fld:
            e = OxmlElement("w:fldChar")
            e.set(qn("w:fldCharType"), fld)
            r._r.append(e)
        if instr:
            e = OxmlElement("w:instrText")
            e.set(qn("xml:space"), "preserve")
            e.text = instr
            r._r.append(e)
        return r

    run("— ")
    run(fld="begin")
    run(instr=" PAGE ")
    run(fld="separate")
    run("1")
    run(fld="end")
    run(" —")


def _number_pages(doc, section, restart: bool) -> None:
    doc.settings.odd_and_even_pages_header_footer = True
    for footer, align in ((section.footer, WD_ALIGN_PARAGRAPH.RIGHT), (section.even_page_footer, WD_ALIGN_PARAGRAPH.LEFT)):
        footer.is_linked_to_previous = False
        p = footer.paragraphs[0]
        p.style = doc.styles["页码"]
        p.alignment = align
        if align == WD_ALIGN_PARAGRAPH.RIGHT:  # 单页码居右空一字，双页码居左空一字
            p.paragraph_format.right_indent = Pt(PAGE_NUMBER_PT)
        else:
            p.paragraph_format.left_indent = Pt(PAGE_NUMBER_PT)
        _page_field(p)
    if restart:
        sect_pr = section._sectPr
        pg = sect_pr.find(qn("w:pgNumType"))
        if pg is None:
            pg = OxmlElement("w:pgNumType")
            anchor = sect_pr.find(qn("w:pgMar"))
            anchor.addnext(pg)
        pg.set(qn("w:start"), "1")


class GongwenDocument:
    """A DOCX in 公文 layout: add_title / add_heading / add_paragraph / add_table, then to_bytes()."""

    def __init__(self, body_pt: float = BODY_PT, line_pt: float = LINE_PT) -> None:
        self.doc = Document()
        self.body_pt = body_pt
        _clear_theme_defaults(self.doc)
        _styles(self.doc, body_pt, line_pt)
        _font_table(self.doc)
        _page_setup(self.doc.sections[0])
        self._numbered = False

    # -- paragraphs -----------------------------------------------------------------------
    def _para(self, text: str, style: str, role: str, *, align=None, indent=None, page_break=False,
              space_before: float | None = None, size: float | None = None):
        p = self.doc.add_paragraph(style=self.doc.styles[style])
        if align is not None:
            p.alignment = align
        if indent is not None:
            p.paragraph_format.first_line_indent = indent
        if page_break:
            p.paragraph_format.page_break_before = True
        if space_before is not None:
            p.paragraph_format.space_before = Pt(space_before)
        if text:
            r = p.add_run(text)
            set_run_fonts(r, role)
            style_pt = STYLE[style][1]
            r.font.size = Pt(size or (self.body_pt if style_pt == BODY_PT else style_pt))
        return p

    def add_title(self, lines: list[str], page_break: bool = False, space_before: float | None = None) -> None:
        for i, line in enumerate(lines):
            self._para(line, "公文标题", "title", page_break=page_break and i == 0,
                       space_before=space_before if i == 0 else None)

    def add_blank(self) -> None:
        self._para("", "公文正文", "body")

    def add_centered(self, text: str, role: str = "h2") -> None:
        self._para(text, "公文正文", role, align=WD_ALIGN_PARAGRAPH.CENTER, indent=Pt(0))

    def add_part_heading(self, text: str, page_break: bool = False) -> None:
        self._para(text, "部分标题", "h1", page_break=page_break)

    def add_heading(self, text: str, level: int) -> None:
        if level == 1:
            self._para(text, "一级标题", "h1")
        else:
            self._para(text, "二级标题", "h2")

    def add_paragraph(self, text: str, *, indent: bool = True, align=None, role: str = "body",
                      left_chars: int = 0) -> None:
        p = self._para(text, "公文正文", role, indent=None if indent else Pt(0), align=align)
        if left_chars:
            p.paragraph_format.left_indent = Pt(left_chars * self.body_pt)

    def add_cover(self, title_lines: list[str], lines: list[str]) -> None:
        """A cover page as on the original forms: the title, then 单位/日期 lines; numbering starts after it."""
        self.add_title(title_lines, space_before=120)
        first = True
        for line in lines:
            label = len(line.split("：", 1)[0]) + 1 if "：" in line else 0  # a long unit name hangs under itself
            p = self._para(line, "公文正文", "body", indent=Pt(-label * self.body_pt), space_before=200 if first else None)
            p.paragraph_format.left_indent = Pt((3 + label) * self.body_pt)
            first = False
        new = self.doc.add_section(WD_SECTION.NEW_PAGE)
        self._number_from(new, restart=True)

    def _number_from(self, section, restart: bool) -> None:
        _number_pages(self.doc, section, restart)
        self._numbered = True

    # -- tables ---------------------------------------------------------------------------
    def add_table(self, table) -> None:
        """A draft Table (assistant.reports.draft.Table): grid lines, merged cells, fixed widths in mm."""
        grid = table.grid()
        t = self.doc.add_table(rows=len(grid), cols=table.columns)
        t.style = self.doc.styles["Table Grid"]
        t.alignment = WD_TABLE_ALIGNMENT.CENTER
        t.autofit = False
        for i, w in enumerate(table.widths):
            t.columns[i].width = Mm(w)
            for row in t.rows:
                row.cells[i].width = Mm(w)
        mar = OxmlElement("w:tblCellMar")  # narrow cell margins (1 mm): form labels fit on one line
        for side in ("left", "right"):
            e = OxmlElement(f"w:{side}")
            e.set(qn("w:w"), "57")
            e.set(qn("w:type"), "dxa")
            mar.append(e)
        t._tbl.tblPr.append(mar)
        for i, row in enumerate(t.rows):  # a row never breaks across pages
            tr_pr = row._tr.get_or_add_trPr()
            tr_pr.append(OxmlElement("w:cantSplit"))
            if i < len(table.heights) and table.heights[i]:
                row.height = Mm(table.heights[i])
                row.height_rule = WD_ROW_HEIGHT_RULE.AT_LEAST
        for row in grid:
            for pos in row:
                if pos is None:
                    continue
                cell, r, c = pos
                target = t.cell(r, c)
                if cell.rowspan > 1 or cell.colspan > 1:
                    target = target.merge(t.cell(r + cell.rowspan - 1, c + cell.colspan - 1))
                tall = r < len(table.heights) and table.heights[r] > 20  # a box to write in: text from the top
                target.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.TOP if tall else WD_CELL_VERTICAL_ALIGNMENT.CENTER
                lines = cell.text.split("\n")
                first = target.paragraphs[0]
                for j, line in enumerate(lines):
                    p = first if j == 0 else target.add_paragraph()
                    p.style = self.doc.styles["表格栏目" if cell.head else "表格文字"]
                    p.alignment = WD_ALIGN_PARAGRAPH.CENTER if cell.align == "center" else WD_ALIGN_PARAGRAPH.LEFT
                    if cell.right_lines and j >= len(lines) - cell.right_lines:
                        p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
                        p.paragraph_format.right_indent = Pt(6 * TABLE_PT)
                    for piece in re.split(r"([☑☐])", line):
                        if not piece:
                            continue
                        run = p.add_run(piece)
                        set_run_fonts(run, "h1" if cell.head else "body")
                        run.font.size = Pt(TABLE_PT)
                        if piece in "☑☐":
                            set_symbol_font(run)
        gap = self._para("", "表格文字", "body")  # Word needs a paragraph between two tables; keep it small
        gap.paragraph_format.line_spacing = Pt(8)

    def to_bytes(self) -> bytes:
        if not self._numbered:
            self._number_from(self.doc.sections[0], restart=False)
        buf = io.BytesIO()
        self.doc.save(buf)
        return buf.getvalue()
