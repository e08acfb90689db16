"""OCR of scanned pages, offline: RapidOCR (PP-OCRv4 Chinese models shipped inside the
rapidocr-onnxruntime wheel; the default, chosen by measurement — benchmarks/README.md) or
Debian's tesseract (tesseract-ocr-chi-sim). Nothing is downloaded at run time.

A page image becomes the same `Page` of visual lines and ruled tables a text-layer PDF
page gives (the ruling lines of a form are found with OpenCV, which RapidOCR depends on),
so paragraphs and forms are rebuilt by the same code (serialize.py).

Two corrections, both of layout and never of wording:
- the 180° direction classifier is off: on upright scans it flipped correct lines;
- OCR drops the space between a clause number and its title (`4.1全面梳理`): it is restored
  where the parser needs it (a number then a Chinese character at the start of a line).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from assistant.ingest.layout import Page, VLine

# a clause/chapter number glued to its Chinese title: 4.1全面梳理, 1范围, 图0.1产业…
_GLUED = re.compile(r"^(\d{1,2}(?:\.\d{1,2}){0,4}|图\s*\d+(?:\.\d+)?|表\s*[A-Z]?\.?\d+)(?=[\u4e00-\u9fff])")
# an item letter read as a capital (C) for c)), or its bracket lost (a品牌… for a) 品牌…):
# GB/T 1.1 items are a lower-case letter and a closing bracket
_CAP_ITEM = re.compile(r"^([A-Z])([)）])")
_BARE_ITEM = re.compile(r"^([a-zA-Z])\s*(?=[\u4e00-\u9fff])")
# a dash bullet glued to its text (-标准化…, -6.4.3 …, -[1] …): the parser knows "- "
_DASH = re.compile(r"^[-－–](?=[\u4e00-\u9fff\d\[［【(（])")
# a checkbox (□) read as the character 口 in a form's option line
_BOX = re.compile(r"口(?=[\u4e00-\u9fff])")


def restore_label_space(text: str) -> str:
    """Layout the OCR lost at the start of a line, never the wording: the space after a
    clause, figure or table number, an item letter's case, the space after a dash bullet."""
    if _DASH.match(text):  # a dash bullet: repair what follows it as a line of its own
        return "- " + restore_label_space(text[1:].lstrip())
    if not re.match(r"^\d{1,2}[.．](?!\d)", text):
        text = _GLUED.sub(r"\1 ", text, count=1)
    text = _CAP_ITEM.sub(lambda m: m.group(1).lower() + m.group(2), text, count=1)
    text = _BARE_ITEM.sub(lambda m: m.group(1).lower() + ") ", text, count=1)
    return _DASH.sub("- ", text, count=1)


def restore_checkboxes(text: str) -> str:
    """A form cell line that starts with 口 and an option is a line of checkboxes: its 口 are □."""
    return _BOX.sub("□", text) if _BOX.match(text) else text


def _cache_path(engine: str, img: np.ndarray) -> Path | None:
    """BA_OCR_CACHE_DIR (development and benchmarks only): the engine's raw boxes per page
    image, so that the layout code after OCR can be re-run without OCR-ing again."""
    import hashlib
    import os

    root = os.environ.get("BA_OCR_CACHE_DIR")
    if not root:
        return None
    return Path(root) / f"{engine}-{hashlib.sha1(img.tobytes()).hexdigest()}.json"


def _cache_get(engine: str, img: np.ndarray):
    import json

    p = _cache_path(engine, img)
    return [tuple(b) for b in json.loads(p.read_text())] if p is not None and p.exists() else None


def _cache_put(engine: str, img: np.ndarray, boxes) -> None:
    import json

    p = _cache_path(engine, img)
    if p is not None:
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(json.dumps(boxes, ensure_ascii=False))


def _gray(png: bytes) -> np.ndarray:
    import cv2

    arr = np.frombuffer(png, dtype=np.uint8)
    return cv2.imdecode(arr, cv2.IMREAD_GRAYSCALE)


def ruling_segments(img: np.ndarray, scale: float) -> tuple[list, list]:
    """Horizontal and vertical rules of a page image (OpenCV morphology), in points."""
    import cv2

    bw = cv2.adaptiveThreshold(255 - img, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY, 15, -2)
    h, w = bw.shape
    out = []
    for horizontal in (True, False):
        size = max(w // 30, 20) if horizontal else max(h // 60, 20)
        kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (size, 1) if horizontal else (1, size))
        lines = cv2.dilate(cv2.erode(bw, kernel), kernel)
        contours, _ = cv2.findContours(lines, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        segs = []
        for c in contours:
            x, y, cw, ch = cv2.boundingRect(c)
            if horizontal and cw > ch * 10:
                yy = (y + ch / 2) * scale
                segs.append((x * scale, yy, (x + cw) * scale, yy))
            elif not horizontal and ch > cw * 10:
                xx = (x + cw / 2) * scale
                segs.append((xx, y * scale, xx, (y + ch) * scale))
        out.append(segs)
    return out[0], out[1]


class RapidOcrEngine:
    name = "rapidocr"

    def __init__(self, threads: int = 2) -> None:
        from rapidocr_onnxruntime import RapidOCR

        self.ocr = RapidOCR(use_cls=False, max_side_len=2400, intra_op_num_threads=threads,
                            inter_op_num_threads=1)

    def boxes(self, img: np.ndarray) -> list[tuple[float, float, float, float, str, float]]:
        cached = _cache_get(self.name, img)
        if cached is not None:
            return cached
        result, _ = self.ocr(img, use_cls=False)
        out = []
        for box, text, score in result or []:
            xs = [p[0] for p in box]
            ys = [p[1] for p in box]
            out.append((min(xs), min(ys), max(xs), max(ys), text, float(score)))
        _cache_put(self.name, img, out)
        return out

    def page(self, png: bytes, number: int, width: float, height: float, dpi: int) -> Page:
        return _page_from_boxes(self, png, number, width, height, dpi)


class TesseractEngine:
    """tesseract chi_sim, word boxes from its TSV output, joined into lines."""

    name = "tesseract"

    def __init__(self) -> None:
        if not shutil.which("tesseract"):
            raise RuntimeError("tesseract not installed")

    def boxes(self, img: np.ndarray) -> list[tuple[float, float, float, float, str, float]]:
        import cv2

        with tempfile.TemporaryDirectory() as tmp:
            p = Path(tmp) / "page.png"
            cv2.imwrite(str(p), img)
            r = subprocess.run(["tesseract", str(p), "-", "-l", "chi_sim", "--psm", "4", "tsv"],
                               capture_output=True, text=True, timeout=300)
        lines: dict[tuple, list] = {}
        for row in r.stdout.splitlines()[1:]:
            f = row.split("\t")
            if len(f) < 12 or not f[11].strip() or float(f[10]) < 0:
                continue
            key = (f[2], f[3], f[4])
            lines.setdefault(key, []).append((int(f[6]), int(f[7]), int(f[8]), int(f[9]), f[11], float(f[10]) / 100))
        out = []
        for words in lines.values():
            text = ""
            prev = None
            for w in words:
                if prev is not None and w[0] - (prev[0] + prev[2]) > 0.5 * w[3]:
                    text += " "
                text += w[4]
                prev = w
            out.append((min(w[0] for w in words), min(w[1] for w in words),
                        max(w[0] + w[2] for w in words), max(w[1] + w[3] for w in words), text,
                        sum(w[5] for w in words) / len(words)))
        return out

    def page(self, png: bytes, number: int, width: float, height: float, dpi: int) -> Page:
        return _page_from_boxes(self, png, number, width, height, dpi)


def _page_from_boxes(engine, png: bytes, number: int, width: float, height: float, dpi: int) -> Page:
    from assistant.ingest.pdf import build_page

    img = _gray(png)
    scale = 72.0 / dpi
    spans = []
    confs = []
    for x0, y0, x1, y1, text, score in engine.boxes(img):
        text = text.strip()
        if not text:
            continue
        h = (y1 - y0) * scale
        spans.append(VLine(text, x0 * scale, y0 * scale, x1 * scale, y1 * scale, size=round(h / 1.25, 1),
                           conf=score))
        confs.append(score)
    hsegs, vsegs = ruling_segments(img, scale)
    page = build_page(number, width, height, spans, hsegs, vsegs)
    for it in page.items:
        if isinstance(it, VLine):
            it.text = restore_label_space(it.text.strip())
        else:  # a table: its cells' lines
            for row in it.rows:
                for cell in row.cells:
                    for ln in cell.lines:
                        ln.text = restore_checkboxes(ln.text.strip())
    page.ocr = True
    page.ocr_confidence = float(np.mean(confs)) if confs else None
    return page


def make_engine(name: str, threads: int = 2):
    """The configured engine, or None when OCR is off or its software is missing."""
    if name == "off":
        return None
    try:
        if name == "tesseract":
            return TesseractEngine()
        return RapidOcrEngine(threads=threads)
    except (ImportError, RuntimeError, OSError):
        return None
