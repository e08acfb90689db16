"""Round trip of the ingest stage: each corpus document rendered as a real office document,
then read back by `brand-assistant documents add --dry-run --json` and compared, unit by
unit, with the parse of the original .txt/.md.

Inputs built here (python-docx, then LibreOffice headless, then poppler):
  <doc>.docx   A4, a running header (the document's code, else its title), a footer with the
               page number (a PAGE field), the document's own table of contents (dot leaders,
               page numbers), Word automatic numbering for items a) 1) and for notice headings
               一、 （一） 1. (the numbers are not in the text: the reader must rebuild them from
               numbering.xml), bold headings, tab-laid forms as real tables, a page break where
               the source has one (`---`);
  <doc>.pdf    the DOCX converted by LibreOffice (text layer);
  <doc>.html   a ministry's notice page around the text (navigation, breadcrumbs, sharing
               links, site footer; forms as HTML tables);
  <doc>-scan.pdf  every page of the PDF as a 200 dpi greyscale image (pdftoppm), in an
               image-only PDF (no text layer).

    .venv/bin/python benchmarks/roundtrip.py [--formats docx,pdf,html,scan] [--docs id,…] [--out DIR]

prints, per document and format: units identical (same label, same text once whitespace is
removed), labels found, character accuracy of unit text (1 - edit distance / length, over
matched labels), and the time taken.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from docx import Document as new_docx  # noqa: E402
from docx.enum.text import WD_BREAK, WD_PARAGRAPH_ALIGNMENT, WD_TAB_ALIGNMENT, WD_TAB_LEADER  # noqa: E402
from docx.oxml import OxmlElement  # noqa: E402
from docx.oxml.ns import qn  # noqa: E402
from docx.shared import Mm, Pt  # noqa: E402

from assistant.corpus.manifest import DocumentSpec, load_manifest  # noqa: E402
from assistant.corpus.parse import RE_TOC_ENTRY, RE_TOC_HEAD, compact, parse_document, strip_markup  # noqa: E402

CORPUS = ROOT / "corpus"
FONT = "Noto Serif CJK SC"

# numbered lines that become Word automatic numbering: (pattern, numFmt, lvlText, value of the number)
CN = "一二三四五六七八九十"


def _cn_value(s: str) -> int:
    from assistant.corpus.parse import _cn_value as v

    return v(s)


AUTO = {
    "letter": (re.compile(r"^([a-z])\)\s*(.*)$"), "lowerLetter", "%1)", lambda s: ord(s) - 96),
    "paren-num": (re.compile(r"^(\d{1,2})\)\s*(.*)$"), "decimal", "%1)", int),
    "cn1": (re.compile(rf"^([{CN}]{{1,3}})、\s*(.*)$"), "chineseCounting", "%1、", _cn_value),
    "cn2": (re.compile(rf"^（([{CN}]{{1,3}})）\s*(.*)$"), "chineseCounting", "（%1）", _cn_value),
    "dot-num": (re.compile(r"^(\d{1,2})[.．](?!\d)\s*(.*)$"), "decimal", "%1.", int),
}


class Numbering:
    """numbering.xml of the document: one abstract list per pattern, one list instance per
    run of consecutive numbers (a run restarts where the source restarts)."""

    def __init__(self, doc) -> None:
        self.part = doc.part.numbering_part.element
        self.abstract: dict[str, int] = {}
        self.next_abs = 100
        self.next_num = 100

    def _abstract(self, kind: str) -> int:
        if kind in self.abstract:
            return self.abstract[kind]
        _, fmt, text, _ = AUTO[kind]
        a = OxmlElement("w:abstractNum")
        a.set(qn("w:abstractNumId"), str(self.next_abs))
        lvl = OxmlElement("w:lvl")
        lvl.set(qn("w:ilvl"), "0")
        for tag, val in (("w:start", "1"), ("w:numFmt", fmt), ("w:lvlText", text), ("w:lvlJc", "left")):
            e = OxmlElement(tag)
            e.set(qn("w:val"), val)
            lvl.append(e)
        ppr = OxmlElement("w:pPr")
        ind = OxmlElement("w:ind")
        ind.set(qn("w:left"), "420" if kind in ("letter", "paren-num") else "0")
        ind.set(qn("w:hanging"), "420" if kind in ("letter", "paren-num") else "0")
        ppr.append(ind)
        lvl.append(ppr)
        a.append(lvl)
        # abstractNum elements must precede num elements
        first_num = self.part.find(qn("w:num"))
        if first_num is not None:
            first_num.addprevious(a)
        else:
            self.part.append(a)
        self.abstract[kind] = self.next_abs
        self.next_abs += 1
        return self.abstract[kind]

    def new_list(self, kind: str, start: int) -> int:
        abs_id = self._abstract(kind)
        num = OxmlElement("w:num")
        num.set(qn("w:numId"), str(self.next_num))
        e = OxmlElement("w:abstractNumId")
        e.set(qn("w:val"), str(abs_id))
        num.append(e)
        ov = OxmlElement("w:lvlOverride")
        ov.set(qn("w:ilvl"), "0")
        so = OxmlElement("w:startOverride")
        so.set(qn("w:val"), str(start))
        ov.append(so)
        num.append(ov)
        self.part.append(num)
        self.next_num += 1
        return self.next_num - 1


def _set_num(paragraph, num_id: int) -> None:
    ppr = paragraph._p.get_or_add_pPr()
    numpr = OxmlElement("w:numPr")
    ilvl = OxmlElement("w:ilvl")
    ilvl.set(qn("w:val"), "0")
    nid = OxmlElement("w:numId")
    nid.set(qn("w:val"), str(num_id))
    numpr.append(ilvl)
    numpr.append(nid)
    ppr.insert(0, numpr)


def _font(run, size: float | None = None, bold: bool = False) -> None:
    run.font.name = FONT
    run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), FONT)
    if size:
        run.font.size = Pt(size)
    run.bold = bold or None


def _field(paragraph, instr: str) -> None:
    run = paragraph.add_run()
    _font(run, 9)
    for kind, text in (("begin", None), (None, instr), ("separate", None), (None, "1"), ("end", None)):
        if kind:
            e = OxmlElement("w:fldChar")
            e.set(qn("w:fldCharType"), kind)
        elif text == instr:
            e = OxmlElement("w:instrText")
            e.set(qn("xml:space"), "preserve")
            e.text = f" {instr} "
        else:
            e = OxmlElement("w:t")
            e.text = text
        run._r.append(e)


def _auto_runs(items: list[tuple[int, str, int]]) -> dict[int, tuple[str, bool]]:
    """Line index -> (kind, starts a new list) for lines that get automatic numbering: a run
    of one pattern whose numbers go n, n+1, … (other lines may come between)."""
    out: dict[int, tuple[str, bool]] = {}
    last: dict[str, int] = {}
    for idx, kind, value in items:
        new = last.get(kind) != value - 1
        out[idx] = (kind, new)
        last[kind] = value
    return out


def _is_table_line(raw: str) -> bool:
    return "\t" in raw and not RE_TOC_ENTRY.search(raw.strip())


def render_docx(spec: DocumentSpec, text: str, out: Path, size: float = 10.5) -> Path:
    """The source text as a Word document a person would have received (see module doc)."""
    markdown = spec.file.endswith(".md")
    doc = new_docx()
    sec = doc.sections[0]
    sec.page_width, sec.page_height = Mm(210), Mm(297)
    sec.top_margin = sec.bottom_margin = Mm(25)
    sec.left_margin = sec.right_margin = Mm(25)
    style = doc.styles["Normal"]
    style.font.name = FONT
    style.font.size = Pt(size)
    style.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), FONT)
    style.paragraph_format.space_after = Pt(4)
    style.paragraph_format.alignment = WD_PARAGRAPH_ALIGNMENT.JUSTIFY
    head = sec.header.paragraphs[0]
    head.alignment = WD_PARAGRAPH_ALIGNMENT.RIGHT
    _font(head.add_run(spec.code or spec.title), 9)
    foot = sec.footer.paragraphs[0]
    foot.alignment = WD_PARAGRAPH_ALIGNMENT.CENTER
    _field(foot, "PAGE")
    numbering = Numbering(doc)

    lines = text.splitlines()
    stripped = [strip_markup(x, markdown)[0] for x in lines]
    toc_at = next((i for i, s in enumerate(stripped) if RE_TOC_HEAD.match(s)), None)
    # automatic numbering: items everywhere, 一、（一）1. in notices
    kinds = ("letter", "paren-num") + (() if spec.is_standard else ("cn1", "cn2", "dot-num"))
    candidates = []
    for i, (raw, s) in enumerate(zip(lines, stripped)):
        if _is_table_line(raw) or (toc_at is not None and i <= toc_at):
            continue
        for kind in kinds:
            m = AUTO[kind][0].match(s)
            if m and m.group(2):
                candidates.append((i, kind, AUTO[kind][3](m.group(1))))
                break
    auto = _auto_runs(candidates)
    list_ids: dict[str, int] = {}

    i = 0
    in_toc = False
    body_started = toc_at is None
    while i < len(lines):
        raw = lines[i]
        s = stripped[i]
        if not raw.strip():
            i += 1
            continue
        if markdown and raw.strip() == "---" or raw.strip() == "---":
            doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
            i += 1
            continue
        if toc_at is not None and i == toc_at:
            if toc_at > 0:
                doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
            p = doc.add_paragraph()
            p.alignment = WD_PARAGRAPH_ALIGNMENT.CENTER
            _font(p.add_run(s), 14, bold=True)
            in_toc = True
            i += 1
            continue
        if in_toc:
            if RE_TOC_ENTRY.search(s) or s == "---":
                entry = re.sub(r"(\.{3,}|…{2,})", "\t", raw.strip()).replace("\t\t", "\t")
                name, _, page = entry.partition("\t")
                if not page:
                    name, page = re.match(r"^(.*?)\s*(\S+)$", entry).groups()
                p = doc.add_paragraph()
                p.paragraph_format.tab_stops.add_tab_stop(Mm(160), WD_TAB_ALIGNMENT.RIGHT, WD_TAB_LEADER.DOTS)
                _font(p.add_run(f"{strip_markup(name, markdown)[0]}\t{page.strip()}"))
                i += 1
                continue
            in_toc = False
            if not body_started:
                doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
                body_started = True
        if _is_table_line(raw):
            i = _table(doc, spec, lines, i)
            continue
        p = doc.add_paragraph()
        is_cover = toc_at is not None and i < toc_at
        heading = markdown and raw.lstrip().startswith("#")
        if is_cover:
            p.alignment = WD_PARAGRAPH_ALIGNMENT.CENTER
        if i in auto:
            kind, new = auto[i]
            if new or kind not in list_ids:
                m = AUTO[kind][0].match(s)
                list_ids[kind] = numbering.new_list(kind, AUTO[kind][3](m.group(1)))
            _set_num(p, list_ids[kind])
            s = AUTO[kind][0].match(s).group(2)
        elif not spec.is_standard and not is_cover:
            p.paragraph_format.first_line_indent = Pt(21)
        src = raw.strip()
        if markdown:
            src = re.sub(r"^#{1,6}\s*", "", src)
            if src.startswith("- "):
                src = src[2:]
        if i in auto:
            m = re.match(r"^(.*?)" + re.escape(s) + r"$", src.replace("**", ""))
            src = s if not m else s
        # bold spans (Markdown **…**) as bold runs; headings bold
        parts = re.split(r"(\*\*[^*]+\*\*)", src) if markdown else [src]
        for part in parts:
            if not part:
                continue
            bold = heading or (part.startswith("**") and part.endswith("**"))
            _font(p.add_run(part.strip("*") if part.startswith("**") else part), 12 if heading else None, bold)
        i += 1
    out.parent.mkdir(parents=True, exist_ok=True)
    doc.save(str(out))
    return out


def table_rows(spec: DocumentSpec, lines: list[str], i: int) -> tuple[list[list[list[str]]], int]:
    """A block of tab-laid lines as one Word table; returns the index after it.

    Standards (表A.1): one source line per row, cells split at tabs. Notices (the forms of
    附件1/附件3): rows are separated by blank lines, each tab-led line starts a cell and a
    line without the tab continues the cell above (a second paragraph in it)."""
    rows: list[list[list[str]]] = []
    if spec.is_standard:
        while i < len(lines) and (not lines[i].strip() or "\t" in lines[i]):
            if lines[i].strip():
                rows.append([[c.strip()] if c.strip() else [] for c in lines[i].split("\t")])
            i += 1
    else:
        row: list[list[str]] = []
        while i < len(lines):
            raw = lines[i]
            if not raw.strip() and not raw.startswith("\t"):
                if row:
                    rows.append(row)
                    row = []
                # the block ends at a blank line followed by a line that is not a cell
                j = i
                while j < len(lines) and not lines[j].strip() and not lines[j].startswith("\t"):
                    j += 1
                if j >= len(lines) or not lines[j].startswith("\t"):
                    i = j
                    break
                i = j
                continue
            if raw.startswith("\t"):
                row.append([raw.strip()] if raw.strip() else [])
            elif row:
                row[-1].append(raw.strip())
            else:
                row.append([raw.strip()])
            i += 1
        if row:
            rows.append(row)
    return rows, i


def _table(doc, spec: DocumentSpec, lines: list[str], i: int) -> int:
    """A block of tab-laid lines as one Word table (table_rows); returns the index after it."""
    rows, i = table_rows(spec, lines, i)
    ncols = max(len(r) for r in rows)
    table = doc.add_table(rows=len(rows), cols=ncols)
    table.style = "Table Grid"
    for r, row in enumerate(rows):
        for c in range(ncols):
            cell = table.cell(r, c)
            paras = row[c] if c < len(row) else []
            for k, text in enumerate(paras):
                p = cell.paragraphs[0] if k == 0 else cell.add_paragraph()
                p.paragraph_format.space_after = Pt(0)
                p.alignment = WD_PARAGRAPH_ALIGNMENT.LEFT
                _font(p.add_run(text), 9)
    doc.add_paragraph()
    return i


def render_html(spec: DocumentSpec, text: str, out: Path) -> Path:
    """A ministry's notice page: site navigation, breadcrumbs, the notice (one <p> per source
    line, tab-laid forms as tables), sharing links and the site footer."""
    import html as h

    lines = text.splitlines()
    body = []
    i = 0
    while i < len(lines):
        raw = lines[i]
        if _is_table_line(raw):
            rows, i = table_rows(spec, lines, i)
            body.append("<table border=1>" + "".join(
                "<tr>" + "".join("<td>" + "".join(f"<p>{h.escape(x)}</p>" for x in cell) + "</td>" for cell in row)
                + "</tr>" for row in rows) + "</table>")
            continue
        if raw.strip() and raw.strip() != "---":
            text, bullet = strip_markup(raw, spec.file.endswith(".md"))
            body.append(f"<li>{h.escape(text)}</li>" if bullet else f"<p>{h.escape(text)}</p>")
        i += 1
    page = f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>{h.escape(spec.title)}_工业和信息化部</title></head>
<body><div id="top"><nav><ul><li><a href="/">首页</a></li><li><a href="/jg">机构设置</a></li><li><a href="/xw">新闻动态</a></li>
<li><a href="/zw">政务公开</a></li><li><a href="/hd">互动交流</a></li></ul></nav>
<div class="crumb">当前位置：首页 &gt; 政务公开 &gt; 通知文件</div></div>
<div class="article"><h1>{h.escape(spec.title)}</h1><div class="info">发布时间：2014-05-20　来源：科技司　【字体：大 中 小】</div>
<div class="content">{"".join(body)}</div></div>
<div class="share">分享到：微信 微博 打印本页 关闭窗口</div>
<div class="related"><h3>相关文件</h3><ul><li><a href="/1">关于开展工业品牌培育试点工作的通知</a></li></ul></div>
<footer><p>主办单位：中华人民共和国工业和信息化部　地址：北京市西长安街13号　邮编：100804</p>
<p>京ICP备04000001号　网站标识码bm07000001</p></footer></body></html>"""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(page, encoding="utf-8")
    return out


def to_pdf(docx: Path, out_dir: Path) -> Path:
    from assistant.reports.render import docx_to_pdf

    return docx_to_pdf(docx, out_dir)


def scan(pdf: Path, out: Path, dpi: int = 200) -> Path:
    """Every page as a greyscale image at `dpi` (pdftoppm), assembled into an image-only PDF."""
    import tempfile

    import pymupdf as fitz

    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(["pdftoppm", "-r", str(dpi), "-gray", "-png", str(pdf), f"{tmp}/p"], check=True,
                       capture_output=True, timeout=600)
        pages = sorted(Path(tmp).glob("p-*.png"))
        out_doc = fitz.open()
        for png in pages:
            pix = fitz.Pixmap(str(png))  # pixels; the page is as large as the paper at `dpi`
            w, h = pix.width * 72 / dpi, pix.height * 72 / dpi
            page = out_doc.new_page(width=w, height=h)
            page.insert_image(page.rect, filename=str(png))
        out_doc.save(str(out), deflate=True)
    return out


def build_inputs(out_dir: Path, doc_ids: list[str] | None = None, formats=("docx", "pdf", "scan")) -> dict:
    """Render the corpus documents: {doc_id: {format: path}}."""
    out_dir.mkdir(parents=True, exist_ok=True)
    made: dict[str, dict[str, Path]] = {}
    for spec in load_manifest(CORPUS):
        if doc_ids and spec.doc_id not in doc_ids:
            continue
        text = (CORPUS / spec.file).read_text(encoding="utf-8-sig")
        paths = {"docx": render_docx(spec, text, out_dir / f"{spec.doc_id}.docx"),
                 "html": render_html(spec, text, out_dir / f"{spec.doc_id}.html")}
        if "pdf" in formats or "scan" in formats:
            paths["pdf"] = to_pdf(paths["docx"], out_dir)
        if "scan" in formats:
            paths["scan"] = scan(paths["pdf"], out_dir / f"{spec.doc_id}-scan.pdf")
        made[spec.doc_id] = paths
    return made


# --- comparison ---------------------------------------------------------------------

def _unit_text(u: dict) -> str:
    return compact((u.get("title") or "") + "\n" + (u.get("text") or ""))


def _edit_distance(a: str, b: str) -> int:
    if len(a) < len(b):
        a, b = b, a
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def _fold(s: str) -> str:
    """Full- and half-width forms as one (，/, ；/; （/( ：/:): the sources mix them, OCR does not."""
    import unicodedata

    return unicodedata.normalize("NFKC", s)


def compare(reference: list[dict], got: list[dict]) -> dict:
    """Units identical (label and whitespace-free text), labels found, character accuracy
    (and the same with full/half-width punctuation folded)."""
    got_by = {u["label"]: u for u in got}
    same = found = 0
    chars = errors = folded_errors = 0
    diffs = []
    for u in reference:
        g = got_by.get(u["label"])
        ref = _unit_text(u)
        chars += len(ref)
        if g is None:
            errors += len(ref)
            folded_errors += len(ref)
            diffs.append({"label": u["label"], "missing": True})
            continue
        found += 1
        txt = _unit_text(g)
        if txt == ref:
            same += 1
        else:
            small = len(ref) * len(txt) < 4_000_000
            errors += min(len(ref), _edit_distance(ref, txt)) if small else len(ref)
            folded_errors += min(len(ref), _edit_distance(_fold(ref), _fold(txt))) if small else len(ref)
            at = next((k for k in range(min(len(ref), len(txt))) if ref[k] != txt[k]), min(len(ref), len(txt)))
            diffs.append({"label": u["label"], "at": at, "expected": ref[max(0, at - 15):at + 25],
                          "got": txt[max(0, at - 15):at + 25]})
    n = len(reference)
    extra = [u["label"] for u in got if u["label"] not in {r["label"] for r in reference}]
    return {"units": n, "identical": same, "identical_pct": round(100 * same / n, 2),
            "labels_found_pct": round(100 * found / n, 2),
            "char_accuracy_pct": round(100 * (1 - errors / max(chars, 1)), 2),
            "char_accuracy_folded_pct": round(100 * (1 - folded_errors / max(chars, 1)), 2),
            "extra_labels": extra, "diffs": diffs}


def reference_units(spec: DocumentSpec) -> list[dict]:
    text = (CORPUS / spec.file).read_text(encoding="utf-8-sig")
    return [{"label": u.label, "title": u.title, "text": u.text} for u in parse_document(spec, text).units]


def ingest_dry_run(path: Path, spec: DocumentSpec, extra: list[str] | None = None) -> dict:
    """`brand-assistant documents add FILE --dry-run --json` with the manifest's metadata."""
    exe = Path(sys.executable).parent / "brand-assistant"
    args = [str(exe), "documents", "add", str(path), "--dry-run", "--json", "--doc-id", spec.doc_id,
            "--title", spec.title, "--code", spec.code, "--nature", spec.nature, *(extra or [])]
    r = subprocess.run(args, capture_output=True, text=True, timeout=1800)
    if r.returncode != 0:
        raise RuntimeError(f"{path.name}: exit {r.returncode}: {r.stderr[-2000:]}")
    return json.loads(r.stdout)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--formats", default="docx,pdf,scan")
    ap.add_argument("--docs", default="")
    ap.add_argument("--out", default=str(ROOT / "test-artifacts" / "roundtrip"))
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--reuse", action="store_true", help="use inputs already rendered in --out")
    ap.add_argument("--reports", action="store_true", help="compare the parse reports saved by an earlier run")
    args = ap.parse_args(argv)
    formats = tuple(f for f in args.formats.split(",") if f)
    docs = [d for d in args.docs.split(",") if d] or None
    out = Path(args.out)
    if args.reuse:
        made = {s.doc_id: {"docx": out / f"{s.doc_id}.docx", "pdf": out / f"{s.doc_id}.pdf",
                           "html": out / f"{s.doc_id}.html",
                           "scan": out / f"{s.doc_id}-scan.pdf"} for s in load_manifest(CORPUS)
                if not docs or s.doc_id in docs}
    else:
        t0 = time.perf_counter()
        made = build_inputs(out, docs, formats)
        print(f"rendered {len(made)} documents in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    specs = {s.doc_id: s for s in load_manifest(CORPUS)}
    results = []
    for doc_id, paths in made.items():
        ref = reference_units(specs[doc_id])
        for fmt in formats:
            saved = out / f"{doc_id}-{fmt}.report.json"
            t0 = time.perf_counter()
            if args.reports and saved.exists():  # compare again without extracting (or OCR-ing) again
                report = json.loads(saved.read_text(encoding="utf-8"))
            else:
                report = ingest_dry_run(paths[fmt], specs[doc_id])
                saved.write_text(json.dumps(report, ensure_ascii=False), encoding="utf-8")
            secs = report.get("_seconds") or time.perf_counter() - t0
            report["_seconds"] = round(secs, 1)
            saved.write_text(json.dumps(report, ensure_ascii=False), encoding="utf-8")
            cmp = compare(ref, report["units"])
            row = {"doc_id": doc_id, "format": fmt, "pages": report.get("pages"), "seconds": round(secs, 1),
                   "ocr": report.get("ocr"), "ocr_confidence": report.get("ocr_confidence"), **cmp}
            results.append(row)
            print(f"{doc_id:24} {fmt:5} units {cmp['units']:4}  identical {cmp['identical_pct']:6.2f} %  "
                  f"labels {cmp['labels_found_pct']:6.2f} %  chars {cmp['char_accuracy_pct']:6.2f} % "
                  f"(folded {cmp['char_accuracy_folded_pct']:6.2f} %)  "
                  f"extra {len(cmp['extra_labels']):3}  {secs:6.1f} s", flush=True)
    (out / "results.json").write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")
    if args.json:
        print(json.dumps(results, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
