"""OCR of scanned pages, offline: RapidOCR's PP-OCRv4 Chinese models (shipped inside the
rapidocr-onnxruntime wheel; the default, chosen by measurement — benchmarks/README.md) or
Debian's tesseract (tesseract-ocr-chi-sim). Nothing is downloaded at run time.

A page image becomes the same `Page` of visual lines and ruled tables a text-layer PDF
page gives (the ruling lines of a form are found with OpenCV), so paragraphs and forms are
rebuilt by the same code (serialize.py).

The PP-OCR models are run here through onnxruntime directly, with RapidOCR's own pre- and
post-processing (detection: DB; recognition: CTC), for three reasons: the position of every
recognised character is kept (the CTC column it was read at), which the geometric repairs
of ocrfix.py need; the onnxruntime session options and the batch size are ours (measured:
benchmarks/README.md, "OCR speed"); and pages can be read by worker processes in parallel.

Corrections after recognition, all of layout and geometry, never of wording:
- the 180° direction classifier is off: on upright scans it flipped correct lines;
- ink that detection missed (an item letter, a 一、 set apart from its heading) is read on its
  own, or with the box it touches; checkboxes are found as empty squares; the width of
  ambiguous punctuation (，/, ；/; （/( …) is taken from the spacing on the page (ocrfix.py);
- OCR drops the space between a clause number and its title (`4.1全面梳理`): it is restored
  where the parser needs it (a number then a Chinese character at the start of a line).
"""

from __future__ import annotations

import math
import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import asdict, dataclass, field
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


@dataclass
class OcrBox:
    """One text box the engine read, in page-image pixels. `xs`: the x centre of each
    character of `text` (where the recogniser read it), when the engine gives positions."""

    x0: float
    y0: float
    x1: float
    y1: float
    text: str
    score: float
    xs: list[float] | None = None

    @property
    def height(self) -> float:
        return self.y1 - self.y0


# --- the development cache of raw OCR output -------------------------------------------

CACHE_VERSION = 3


def _cache_path(engine: str, img: np.ndarray) -> Path | None:
    """BA_OCR_CACHE_DIR (development and benchmarks only): the engine's raw boxes per page
    image, so that the layout code after OCR can be re-run without OCR-ing again."""
    import hashlib
    import os

    root = os.environ.get("BA_OCR_CACHE_DIR")
    if not root:
        return None
    return Path(root) / f"{engine}-v{CACHE_VERSION}-{hashlib.sha1(img.tobytes()).hexdigest()}.json"


def _cache_get(engine: str, img: np.ndarray) -> list[OcrBox] | None:
    import json

    p = _cache_path(engine, img)
    return [OcrBox(**b) for b in json.loads(p.read_text())] if p is not None and p.exists() else None


def _cache_put(engine: str, img: np.ndarray, boxes: list[OcrBox]) -> None:
    import json

    p = _cache_path(engine, img)
    if p is not None:
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(json.dumps([asdict(b) for b in boxes], ensure_ascii=False))


def _gray(png: bytes) -> np.ndarray:
    import cv2

    arr = np.frombuffer(png, dtype=np.uint8)
    return cv2.imdecode(arr, cv2.IMREAD_GRAYSCALE)


def ruling_segments(img: np.ndarray, scale: float = 1.0) -> tuple[list, list]:
    """Horizontal and vertical rules of a page image (OpenCV morphology), in pixels × `scale`."""
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


def is_ruled(vsegs: list) -> bool:
    """The page holds a ruled table: at least two vertical rules (a table's outer borders)."""
    return len(vsegs) >= 2


# --- RapidOCR's models through onnxruntime ------------------------------------------------

@dataclass(frozen=True)
class OcrOptions:
    """How the PP-OCR models run (benchmarks/README.md, "OCR speed", for the measurements
    behind the defaults). `workers` > 1 reads pages in that many processes, each with
    `threads` onnxruntime threads; `det_side`: the longest side detection sees (None: the
    page image as rendered); `models`: "optimized" (rewritten at set-up, ocrmodels.py) or
    "wheel"; `model_dir`: where the rewritten ones are (None: the settings')."""

    @classmethod
    def from_settings(cls, settings=None) -> "OcrOptions":
        if settings is None:
            from assistant.settings import get_settings

            settings = get_settings()
        return cls(threads=settings.ocr_threads, workers=settings.ocr_workers, models=settings.ocr_models,
                   model_dir=str(settings.ocr_model_dir), det_side=settings.ocr_det_side or None)

    threads: int = 1
    workers: int = 2
    det_side: int | None = None
    rec_batch: int = 1  # one box at a time: no padding to a batch's widest box (4.5 s/page vs 5.8 with 6)
    rec_min_width: int = 320  # RapidOCR pads every batch to at least this width (PaddleOCR's training width)
    models: str = "optimized"
    model_dir: str | None = None
    graph_opt: str = "all"  # basic | extended | all
    parallel_exec: bool = False
    mem_arena: bool = False
    spin: bool = True  # onnxruntime's intra-op threads spin while waiting for work


REC_HEIGHT = 48
TEXT_SCORE = 0.5  # RapidOCR's own threshold below which a box's text is dropped


def _session(path: Path, opts: OcrOptions):
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.log_severity_level = 4
    so.intra_op_num_threads = max(1, opts.threads)
    so.inter_op_num_threads = 1
    so.enable_cpu_mem_arena = opts.mem_arena
    so.graph_optimization_level = {"basic": ort.GraphOptimizationLevel.ORT_ENABLE_BASIC,
                                   "extended": ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
                                   "all": ort.GraphOptimizationLevel.ORT_ENABLE_ALL}[opts.graph_opt]
    so.execution_mode = ort.ExecutionMode.ORT_PARALLEL if opts.parallel_exec else ort.ExecutionMode.ORT_SEQUENTIAL
    if not opts.spin:
        so.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(str(path), sess_options=so, providers=["CPUExecutionProvider"])


def _crop(img: np.ndarray, points: np.ndarray) -> tuple[np.ndarray, bool]:
    """RapidOCR's crop of a (possibly slanted) box; True when it was turned upright (a
    tall box), whose character positions then mean nothing."""
    import cv2

    w = int(max(np.linalg.norm(points[0] - points[1]), np.linalg.norm(points[2] - points[3])))
    h = int(max(np.linalg.norm(points[0] - points[3]), np.linalg.norm(points[1] - points[2])))
    std = np.array([[0, 0], [w, 0], [w, h], [0, h]], dtype=np.float32)
    m = cv2.getPerspectiveTransform(points.astype(np.float32), std)
    out = cv2.warpPerspective(img, m, (w, h), borderMode=cv2.BORDER_REPLICATE, flags=cv2.INTER_CUBIC)
    if out.shape[0] * 1.0 / max(out.shape[1], 1) >= 1.5:
        return np.rot90(out), True
    return out, False


class RapidOcrEngine:
    name = "rapidocr"

    def __init__(self, options: OcrOptions | None = None) -> None:
        import rapidocr_onnxruntime  # noqa: F401 - fails here (ImportError) when not installed

        self.options = options or OcrOptions.from_settings()
        # seconds spent, for the benchmarks: model loading, detection, recognition, repairs
        self.timings = {"load": 0.0, "det": 0.0, "rec": 0.0, "repair": 0.0}
        self._det = None
        self._rec = None
        self._chars: list[str] | None = None

    # the sessions are made on first use: a parent that hands its pages to workers never loads them
    def _load(self) -> None:
        if self._det is not None:
            return
        from rapidocr_onnxruntime.ch_ppocr_det.utils import DBPostProcess
        from rapidocr_onnxruntime.ch_ppocr_rec.utils import CTCLabelDecode

        from assistant.ingest.ocrmodels import model_paths

        t = time.perf_counter()
        det_path, rec_path = model_paths(self.options.models,
                                         Path(self.options.model_dir) if self.options.model_dir else None)
        self._det = _session(det_path, self.options)
        self._rec = _session(rec_path, self.options)
        self.timings["load"] += time.perf_counter() - t
        meta = self._rec.get_modelmeta().custom_metadata_map
        self._chars = CTCLabelDecode(character=meta["character"].splitlines()).character
        self._post = DBPostProcess(thresh=0.3, box_thresh=0.5, max_candidates=1000, unclip_ratio=1.6,
                                   use_dilation=True, score_mode="fast")

    def detect(self, bgr: np.ndarray, reduce: bool = True) -> list[np.ndarray]:
        """Text boxes (four corner points each), as RapidOCR's TextDetector finds them; the
        page reduced to options.det_side when `reduce`, else as rendered."""
        import cv2

        self._load()
        t = time.perf_counter()
        h, w = bgr.shape[:2]
        side = self.options.det_side if reduce else None
        ratio = min(1.0, side / max(h, w)) if side else 1.0
        # the blank margins of the page are left out (a third of an A4 page's pixels)
        ink = bgr[:, :, 0] < 200
        rows, cols = np.nonzero(ink.any(axis=1))[0], np.nonzero(ink.any(axis=0))[0]
        if not len(rows):
            self.timings["det"] += time.perf_counter() - t
            return []
        m = 32
        oy, ox = max(0, int(rows[0]) - m), max(0, int(cols[0]) - m)
        sub = bgr[oy:min(h, int(rows[-1]) + m + 1), ox:min(w, int(cols[-1]) + m + 1)]
        sh, sw = sub.shape[:2]
        rh, rw = max(32, int(round(sh * ratio / 32) * 32)), max(32, int(round(sw * ratio / 32) * 32))
        x = cv2.resize(sub, (rw, rh)).astype(np.float32)
        x = (x / 255.0 - 0.5) / 0.5
        x = x.transpose(2, 0, 1)[None]
        pred = self._det.run(None, {self._det.get_inputs()[0].name: x})[0]
        boxes, _ = self._post(pred, (sh, sw))
        out = []
        for box in boxes:
            box = _order_clockwise(np.asarray(box, dtype=np.float32)) + np.array([ox, oy], dtype=np.float32)
            box[:, 0] = np.clip(np.round(box[:, 0]), 0, w - 1)
            box[:, 1] = np.clip(np.round(box[:, 1]), 0, h - 1)
            if np.linalg.norm(box[0] - box[1]) <= 3 or np.linalg.norm(box[0] - box[3]) <= 3:
                continue
            if ratio < 1.0:
                box = _tighten(bgr[:, :, 0], box, pad=int(math.ceil(2 / ratio)))
            out.append(box)
        self.timings["det"] += time.perf_counter() - t
        return out

    def recognize(self, crops: list[np.ndarray]) -> list[tuple[str, float, list[float]]]:
        """Text, confidence and the x of each character (in crop pixels) for each crop (BGR),
        in batches of similar width (as RapidOCR's TextRecognizer does)."""
        import cv2

        self._load()
        t = time.perf_counter()
        res: list[tuple[str, float, list[float]]] = [("", 0.0, [])] * len(crops)
        ratios = [c.shape[1] / float(max(c.shape[0], 1)) for c in crops]
        order = np.argsort(np.array(ratios))
        name = self._rec.get_inputs()[0].name
        bs = max(1, self.options.rec_batch)
        for beg in range(0, len(crops), bs):
            idx = order[beg:beg + bs]
            max_ratio = max([self.options.rec_min_width / REC_HEIGHT] + [ratios[i] for i in idx])
            width = int(REC_HEIGHT * max_ratio)
            batch = np.zeros((len(idx), 3, REC_HEIGHT, width), dtype=np.float32)
            scales = []
            for k, i in enumerate(idx):
                c = crops[i]
                rw = min(width, int(math.ceil(REC_HEIGHT * ratios[i])))
                im = cv2.resize(c, (rw, REC_HEIGHT)).astype(np.float32).transpose(2, 0, 1) / 255.0
                batch[k, :, :, :rw] = (im - 0.5) / 0.5
                scales.append(rw / max(c.shape[1], 1))
            preds = self._rec.run(None, {name: batch})[0]
            steps = preds.shape[1]
            for k, i in enumerate(idx):
                ids = preds[k].argmax(1)
                probs = preds[k].max(1)
                keep = ids != 0
                keep[1:] &= ids[1:] != ids[:-1]
                cols = np.nonzero(keep)[0]
                text = "".join(self._chars[j] for j in ids[cols])
                score = float(probs[cols].mean()) if len(cols) else 0.0
                xs = [float((c + 0.5) * width / steps / scales[k]) for c in cols]
                res[i] = (text, score, xs)
        self.timings["rec"] += time.perf_counter() - t
        return res

    def read(self, img: np.ndarray, ruled: bool = False) -> list[OcrBox]:
        """The page's text boxes as detected and recognised (no repairs). A page with a ruled
        table (`ruled`) is detected as rendered even when options.det_side reduces the others:
        on a reduced form page the wrapped lines of a cell came apart (benchmarks/README.md,
        OCR speed)."""
        import cv2

        reduce = bool(self.options.det_side) and not ruled
        key = self.name + (f"-det{self.options.det_side}" if reduce else "")
        cached = _cache_get(key, img)
        if cached is not None:
            return cached
        bgr = cv2.cvtColor(img, cv2.COLOR_GRAY2BGR) if img.ndim == 2 else img
        quads = self.detect(bgr, reduce)
        crops = [_crop(bgr, q) for q in quads]
        out = []
        for q, (crop, turned), (text, score, xs) in zip(quads, crops, self.recognize([c for c, _ in crops])):
            if score < TEXT_SCORE or not text.strip():
                continue
            x0, y0 = float(q[:, 0].min()), float(q[:, 1].min())
            x1, y1 = float(q[:, 0].max()), float(q[:, 1].max())
            out.append(OcrBox(x0, y0, x1, y1, text, score,
                              None if turned else [round(float(q[0][0]) + x, 1) for x in xs]))
        _cache_put(key, img, out)
        return out

    def read_regions(self, img: np.ndarray, rects: list[tuple[int, int, int, int]], pad: int) -> list[OcrBox]:
        """Recognition alone on page regions (x0, y0, x1, y1), each on a white margin of `pad`."""
        import cv2

        if not rects:
            return []
        crops = []
        for x0, y0, x1, y1 in rects:
            c = cv2.copyMakeBorder(img[y0:y1, x0:x1], pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=255)
            crops.append(cv2.cvtColor(c, cv2.COLOR_GRAY2BGR))
        out = []
        for (x0, y0, x1, y1), (text, score, xs) in zip(rects, self.recognize(crops)):
            out.append(OcrBox(float(x0), float(y0), float(x1), float(y1), text, score,
                              [round(x0 - pad + x, 1) for x in xs]))
        return out

    def boxes(self, img: np.ndarray, hsegs: list | None = None, vsegs: list | None = None) -> list[OcrBox]:
        """The page's text boxes, repaired (ocrfix.py)."""
        from assistant.ingest.ocrfix import repair

        boxes = self.read(img, ruled=is_ruled(vsegs or []))
        t = time.perf_counter()
        rec0 = self.timings["rec"]
        out = repair(self, img, boxes, hsegs or [], vsegs or [])
        self.timings["repair"] += time.perf_counter() - t - (self.timings["rec"] - rec0)
        return out

    def page(self, png: bytes, number: int, width: float, height: float, dpi: int) -> Page:
        return assemble_page(read_page(self, png), number, width, height, dpi)


# Where a box drawn by detection at the page's full resolution leaves blank around the ink of
# its line, in ink heights (top, bottom, left, right; medians over T/GXAS 1220's scanned
# pages, benchmarks/README.md "OCR speed"). Detection on a reduced page draws looser boxes,
# and a looser crop shows recognition smaller characters: their positions, from which the
# width of punctuation is judged, come out coarser.
FULL_RES_MARGINS = (0.0, 0.143, 0.034, 0.103)


def _tighten(gray: np.ndarray, box: np.ndarray, pad: int) -> np.ndarray:
    """An upright box found on a reduced page, redrawn at full resolution: the ink inside it
    (and `pad` pixels around it) with the margins full-resolution detection leaves."""
    if abs(box[0][1] - box[1][1]) > 2 or abs(box[0][0] - box[3][0]) > 2:
        return box  # a tilted line: as found
    h, w = gray.shape
    x0, y0 = max(0, int(box[:, 0].min()) - pad), max(0, int(box[:, 1].min()) - pad)
    x1, y1 = min(w - 1, int(box[:, 0].max()) + pad), min(h - 1, int(box[:, 1].max()) + pad)
    ink = gray[y0:y1 + 1, x0:x1 + 1] < 128
    # a table's rules and a blank's underline are no text: rows or columns of nearly solid ink
    ink[ink.mean(axis=1) > 0.6, :] = False
    ink[:, ink.mean(axis=0) > 0.9] = False
    rows, cols = np.nonzero(ink.any(axis=1))[0], np.nonzero(ink.any(axis=0))[0]
    if len(rows) < 2 or len(cols) < 2:
        return box
    ih = float(rows[-1] - rows[0] + 1)
    top, bottom, left, right = (m * ih for m in FULL_RES_MARGINS)
    nx0, nx1 = max(0.0, x0 + cols[0] - left), min(w - 1.0, x0 + cols[-1] + right)
    ny0, ny1 = max(0.0, y0 + rows[0] - top), min(h - 1.0, y0 + rows[-1] + bottom)
    return np.array([[nx0, ny0], [nx1, ny0], [nx1, ny1], [nx0, ny1]], dtype=np.float32).round()


def _order_clockwise(pts: np.ndarray) -> np.ndarray:
    xs = pts[np.argsort(pts[:, 0]), :]
    left, right = xs[:2, :], xs[2:, :]
    tl, bl = left[np.argsort(left[:, 1]), :]
    tr, br = right[np.argsort(right[:, 1]), :]
    return np.array([tl, tr, br, bl], dtype=np.float32)


class TesseractEngine:
    """tesseract chi_sim, word boxes from its TSV output, joined into lines."""

    name = "tesseract"
    options = OcrOptions(workers=1)

    def __init__(self) -> None:
        if not shutil.which("tesseract"):
            raise RuntimeError("tesseract not installed")

    def boxes(self, img: np.ndarray, hsegs: list | None = None, vsegs: list | None = None) -> list[OcrBox]:
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
            out.append(OcrBox(min(w[0] for w in words), min(w[1] for w in words),
                              max(w[0] + w[2] for w in words), max(w[1] + w[3] for w in words), text,
                              sum(w[5] for w in words) / len(words)))
        return out

    def page(self, png: bytes, number: int, width: float, height: float, dpi: int) -> Page:
        return assemble_page(read_page(self, png), number, width, height, dpi)


# --- a page: OCR (the part worker processes do) and layout ----------------------------------

@dataclass
class PageRead:
    """What OCR makes of one page image, in pixels: its text boxes and ruling lines."""

    boxes: list[OcrBox]
    hsegs: list = field(default_factory=list)
    vsegs: list = field(default_factory=list)


def read_page(engine, png: bytes) -> PageRead:
    img = _gray(png)
    hsegs, vsegs = ruling_segments(img)
    return PageRead(engine.boxes(img, hsegs, vsegs), hsegs, vsegs)


def assemble_page(read: PageRead, number: int, width: float, height: float, dpi: int) -> Page:
    """Boxes and rules (pixels) → the page's lines and tables (points), as a text PDF page."""
    from assistant.ingest.ocrfix import blanks, split_at_rules
    from assistant.ingest.pdf import build_page

    scale = 72.0 / dpi
    spans = []
    confs = []
    for b in split_at_rules(read.boxes, read.vsegs) + blanks(read.boxes, read.hsegs, read.vsegs):
        text = b.text.strip()
        if not text:
            continue
        h = b.height * scale
        spans.append(VLine(text, b.x0 * scale, b.y0 * scale, b.x1 * scale, b.y1 * scale, size=round(h / 1.25, 1),
                           conf=b.score))
        if b.xs is not None or not b.text.startswith("_"):
            confs.append(b.score)
    hsegs = [tuple(v * scale for v in s) for s in read.hsegs]
    vsegs = [tuple(v * scale for v in s) for s in read.vsegs]
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


# --- pages in parallel ------------------------------------------------------------------------

def read_pages(engine, pngs, on_page=None, count: int | None = None) -> list[PageRead]:
    """OCR of several page images; with `options.workers` > 1 (and more than one page) in
    that many worker processes (ocrworker.py), each with its own onnxruntime sessions of
    `options.threads` threads. `pngs` may be a generator of `count` images (rendered as they
    are needed); `on_page(k)` is called as the k-th page is done."""
    from dataclasses import asdict as _asdict

    if count is None:
        pngs = list(pngs)
        count = len(pngs)
    workers = min(getattr(engine.options, "workers", 1), count)
    if workers <= 1 and getattr(engine.options, "workers", 1) > 1 and isinstance(engine, RapidOcrEngine):
        # one page for several workers: one process with all their threads
        from dataclasses import replace

        opts = engine.options
        engine = RapidOcrEngine(options=replace(opts, threads=opts.threads * opts.workers, workers=1))
    if workers <= 1:
        out = []
        for k, png in enumerate(pngs):
            out.append(read_page(engine, png))
            if on_page:
                on_page(k + 1)
        return out
    from assistant.ingest.ocrworker import read_pages_in_workers

    return read_pages_in_workers(engine.name, _asdict(engine.options), pngs, count, workers, on_page)


def make_engine(name: str, options: OcrOptions | None = None):
    """The configured engine, or None when OCR is off or its software is missing. `options`:
    how RapidOCR runs (None: from the settings, BA_OCR_*)."""
    if name == "off":
        return None
    try:
        if name == "tesseract":
            return TesseractEngine()
        return RapidOcrEngine(options=options)
    except (ImportError, RuntimeError, OSError):
        return None
