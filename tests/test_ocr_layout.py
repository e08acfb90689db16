"""Scanned pages: the geometric repairs of OCR output (assistant/ingest/ocrfix.py) and a ruled
form read from a page image into table cells, on synthetic pages drawn with PIL.

Most tests use a fake engine that returns known text boxes (what a recogniser would have
read, positions included), so that they test the layout code, not the models; the last ones
run the real RapidOCR models on a drawn form."""

from __future__ import annotations

import io
import shutil
import subprocess

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from assistant.ingest import ocrfix
from assistant.ingest.grid import spans_a_cell, tables_from_segments
from assistant.ingest.layout import Extraction, Table
from assistant.ingest.ocr import OcrBox, OcrOptions, PageRead, assemble_page, read_page, ruling_segments
from assistant.ingest.serialize import serialize

DPI = 200


def _font_path() -> str | None:
    if not shutil.which("fc-match"):
        return None
    r = subprocess.run(["fc-match", "-f", "%{file}", "Noto Serif CJK SC"], capture_output=True, text=True)
    path = r.stdout.strip()
    return path if "CJK" in path else None


FONT_PATH = _font_path()
needs_font = pytest.mark.skipif(FONT_PATH is None, reason="Noto Serif CJK SC not installed (fonts-noto-cjk)")


def font(px: int = 29):
    return ImageFont.truetype(FONT_PATH, px, index=0)


def draw_run(draw: ImageDraw.ImageDraw, x: float, y: float, text: str, f, read: str | None = None) -> OcrBox:
    """Draw `text` and return the box a recogniser would give for it: `read` (default: the
    text itself; characters of `text` missing from `read` were not read), each character at
    the centre of its ink."""
    draw.text((x, y), text, font=f, fill=0)
    x0, y0, x1, y1 = draw.textbbox((x, y), text, font=f)
    centres = []
    for i, ch in enumerate(text):
        start = x + f.getlength(text[:i])
        bb = f.getbbox(ch)
        centres.append(start + (bb[0] + bb[2]) / 2 if bb[2] > bb[0] else start + f.getlength(ch) / 2)
    read = text if read is None else read
    xs, j = [], 0
    for ch in read:  # align the reading with the drawn characters (the reading may skip some)
        while j < len(text) and not (text[j] == ch or ocrfix.FULL_OF.get(text[j]) == ch or
                                     ocrfix.HALF_OF.get(text[j]) == ch or (text[j] == "□" and ch == "口") or
                                     (text[j] in ocrfix.DASHES and ch in ocrfix.DASHES)):
            j += 1
        xs.append(centres[min(j, len(text) - 1)])
        j += 1
    return OcrBox(float(x0 - 4), float(y0 - 6), float(x1 + 4), float(y1 + 6), read, 0.99, xs)


def page_image(w: int = 1200, h: int = 700):
    img = Image.new("L", (w, h), 255)
    return img, ImageDraw.Draw(img)


def as_array(img: Image.Image) -> np.ndarray:
    return np.array(img)


class FakeEngine:
    """Returns the boxes it was given; recognises regions from a list of known strings drawn
    there ((x0, y0, x1, y1, text) of what is on the page)."""

    name = "fake"
    options = OcrOptions(workers=1)

    def __init__(self, boxes: list[OcrBox], page_text: list[tuple[float, float, float, float, str]] = ()):
        self._boxes = boxes
        self.page_text = list(page_text)
        self.regions_read: list[tuple] = []

    def read(self, img):
        return list(self._boxes)

    def read_regions(self, img, rects, pad):
        out = []
        for r in rects:
            self.regions_read.append(r)
            inside = [t for t in self.page_text if r[0] - 2 <= (t[0] + t[2]) / 2 <= r[2] + 2
                      and r[1] - 2 <= (t[1] + t[3]) / 2 <= r[3] + 2]
            text = "".join(t[4] for t in sorted(inside))
            out.append(OcrBox(*map(float, r), text, 0.95 if text else 0.0,
                              [(t[0] + t[2]) / 2 for t in sorted(inside) for _ in t[4]]))
        return out

    def boxes(self, img, hsegs=None, vsegs=None):
        return ocrfix.repair(self, img, self.read(img), hsegs or [], vsegs or [])


# --- checkboxes ---------------------------------------------------------------------------

def test_empty_squares_are_checkboxes_thick_or_filled_ones_are_not():
    img, d = page_image(400, 100)
    d.rectangle((20, 30, 42, 52), outline=0, width=1)  # □: thin, empty
    d.rectangle((80, 30, 100, 52), outline=0, width=4)  # thick strokes, like the character 口
    d.rectangle((140, 30, 162, 52), fill=0)  # filled
    d.rectangle((200, 30, 222, 52), outline=0, width=1)
    d.line((205, 41, 217, 41), fill=0, width=2)  # something inside (日-like)
    d.rectangle((260, 30, 330, 52), outline=0, width=1)  # not square
    found = ocrfix.find_checkboxes(ocrfix.ink_mask(as_array(img)), lh=30)
    assert found == [(20, 30, 43, 53)]


@needs_font
def test_checkbox_glyph_is_found_and_the_character_kou_is_not():
    img, d = page_image(600, 100)
    f = font(25)
    d.text((20, 30), "□已注册", font=f, fill=0)
    d.text((300, 30), "出口总额", font=f, fill=0)
    found = ocrfix.find_checkboxes(ocrfix.ink_mask(as_array(img)), lh=30)
    assert len(found) == 1 and found[0][0] < 60


@needs_font
def test_checkbox_dropped_or_read_as_kou_becomes_a_box():
    img, d = page_image(900, 120)
    f = font(25)
    dropped = draw_run(d, 20, 30, "□已注册", f, read="已注册")
    as_kou = draw_run(d, 300, 30, "□正在申请", f, read="口正在申请")
    word = draw_run(d, 600, 30, "出口总额", f)
    d.rectangle((20, 80, 42, 102), outline=0, width=1)  # a checkbox no box covers
    eng = FakeEngine([dropped, as_kou, word])
    out = {b.text for b in eng.boxes(as_array(img))}
    assert {"□已注册", "□正在申请", "出口总额", "□"} <= out, out


# --- missed ink -----------------------------------------------------------------------------

@needs_font
def test_item_label_that_detection_missed_is_read_and_a_cut_short_one_completed():
    img, d = page_image(1200, 200)
    f = font(29)
    d.text((40, 30), "a)", font=f, fill=0)  # detection found no box here
    body = draw_run(d, 100, 30, "应规划并推动交通、电力等基础设施建设", f)
    d.text((40, 100), "4)", font=f, fill=0)
    four = OcrBox(38, 96, 58, 140, "4", 0.99, [48])  # the box ends before the bracket
    body2 = draw_run(d, 100, 100, "市场主体运营水平", f)
    eng = FakeEngine([body, four, body2], page_text=[(40, 30, 70, 70, "a)"), (40, 100, 56, 140, "4"),
                                                      (57, 100, 66, 140, ")")])
    texts = sorted(b.text for b in eng.boxes(as_array(img)))
    assert "a)" in texts and "4)" in texts and "4" not in texts, texts


def test_ruling_lines_and_specks_are_not_read_as_missed_text():
    img, d = page_image(800, 300)
    d.rectangle((20, 20, 780, 280), outline=0, width=2)
    d.line((400, 20, 400, 280), fill=0, width=2)
    d.point((200, 150), fill=0)
    arr = as_array(img)
    h, v = ruling_segments(arr)
    assert ocrfix.missed_ink(ocrfix.ink_mask(arr), [], h, v, [], lh=30) == []


# --- punctuation width ------------------------------------------------------------------------

@needs_font
@pytest.mark.parametrize("drawn", ["宜建立科研平台,开展前端技术研发", "宜建立科研平台，开展前端技术研发",
                                   "知识产权（试点）工作", "知识产权(试点)工作", "品牌价值：要素", "品牌价值:要素"])
def test_punctuation_width_is_read_from_the_spacing(drawn):
    img, d = page_image(1200, 100)
    f = font(29)
    misread = "".join(ocrfix.FULL_OF.get(c, ocrfix.HALF_OF.get(c, c)) for c in drawn)  # every mark the other width
    box = draw_run(d, 20, 20, drawn, f, read=misread)
    assert ocrfix.fix_punct_width(box).text == drawn


def test_a_mark_the_page_cannot_measure_follows_chinese_typesetting():
    # a box that ends with the mark, and one whose bracket is followed by a label's wide gap
    end = OcrBox(0, 0, 200, 30, "签字:", 0.9, [15, 44, 70])
    label = OcrBox(0, 0, 300, 30, "(七)投资环境", 0.9, [5, 30, 50, 120, 150, 180, 210])
    item = OcrBox(0, 0, 300, 30, "a)宜建立", 0.9, [10, 22, 90, 120, 150])
    assert ocrfix.fix_punct_width(end, em=29).text == "签字："
    assert ocrfix.fix_punct_width(label, em=29).text == "（七）投资环境"
    assert ocrfix.fix_punct_width(item, em=29).text == "a)宜建立"  # a letter's bracket: as read
    # …and read full-width, a lone bracket after a letter or digit closes a list marker: b), 1)
    wide = OcrBox(0, 0, 300, 30, "b）品牌", 0.9, [10, 22, 90, 120])
    assert ocrfix.fix_punct_width(wide, em=29).text == "b)品牌"


@needs_font
def test_dash_and_hyphen_are_told_apart_by_length():
    img, d = page_image(1200, 100)
    f = font(29)
    box = draw_run(d, 20, 20, "T/GXAS 1220—2026 NY/T 4169-2022", f, read="T/GXAS 1220-2026 NY/T 4169—2022")
    arr = as_array(img)
    assert ocrfix.fix_dashes(box, ocrfix.ink_mask(arr), em=29).text == "T/GXAS 1220—2026 NY/T 4169-2022"


def test_a_character_read_twice_within_one_advance_is_one():
    b = OcrBox(0, 0, 200, 30, "引引入现代", 0.9, [10, 20, 46, 77, 108])
    assert ocrfix.drop_doubled(b, em=29).text == "引入现代"
    real = OcrBox(0, 0, 200, 30, "常常有", 0.9, [10, 39, 68])  # a real 常常: a character apart
    assert ocrfix.drop_doubled(real, em=29).text == "常常有"
    stroke = OcrBox(0, 0, 200, 30, "的引[用文件", 0.9, [10, 39, 53, 72, 101, 130])  # 用 one advance after 引
    assert ocrfix.drop_doubled(stroke, em=29).text == "的引用文件"
    radical = OcrBox(0, 0, 200, 30, "扌接受政府", 0.9, [8, 14, 43, 72, 101])
    assert ocrfix.drop_doubled(radical, em=29).text == "接受政府"
    ref = OcrBox(0, 0, 200, 30, "见[1]的", 0.9, [10, 33, 44, 54, 75])  # a real bracket takes room
    assert ocrfix.drop_doubled(ref, em=29).text == "见[1]的"


def test_what_a_short_box_read_inside_its_neighbour_is_dropped():
    label = OcrBox(193, 1253, 303, 1288, "2.[", 0.77, [205, 222, 298])
    body = OcrBox(295, 1255, 1456, 1285, "区域品牌影响力", 1.0, [310, 340, 370, 400, 430, 460, 490])
    out = ocrfix.drop_overlap_reads([label, body])
    assert [b.text for b in out] == ["2.", "区域品牌影响力"]


# --- cells, blanks, rules -------------------------------------------------------------------

def test_box_across_a_vertical_rule_is_cut_between_cells():
    b = OcrBox(100, 50, 400, 80, "指标名称申报时", 0.9, [115, 145, 175, 205, 290, 320, 350])
    parts = ocrfix.split_at_rules([b], [(250, 0, 250, 200)])
    assert [p.text for p in parts] == ["指标名称", "申报时"]
    assert parts[0].x1 <= 250 <= parts[1].x0


def test_underline_inside_a_cell_is_a_blank_not_a_row_border():
    v = [(0, 0, 0, 100), (200, 0, 200, 100), (400, 0, 400, 100)]
    border = (0, 50, 400, 50)
    underline = (260, 40, 330, 40)  # inside the second cell, touching neither rule
    assert spans_a_cell(border, v) and not spans_a_cell(underline, v)
    tables = tables_from_segments([(0, 0, 400, 0), underline, (0, 100, 400, 100)], v)
    assert len(tables) == 1 and len(tables[0].rows) == 1
    box = OcrBox(210, 20, 258, 44, "力度", 0.9, [222, 246])
    (blank,) = ocrfix.blanks([box], [underline], v)
    assert set(blank.text) == {"_"} and len(blank.text) == round(70 / (0.5 * box.height))


# --- a ruled form, from the image to the parser's text -------------------------------------------

def draw_form(read_options: bool = True):
    """A two-column ruled form (label | options), the layout of a notice's status form: the
    options are checkboxes, one row has a blank to fill in. Returns the image and the boxes a
    recogniser gives for it (□ dropped, as PP-OCR drops it)."""
    img, d = page_image(1400, 520)
    f = font(26)
    xs = [100, 520, 1300]
    ys = [60, 160, 260, 360]
    for y in ys:
        d.line((xs[0], y, xs[-1], y), fill=0, width=2)
    for x in xs:
        d.line((x, ys[0], x, ys[-1]), fill=0, width=2)
    boxes = [draw_run(d, 120, 95, "区域品牌集体商标", f), draw_run(d, 120, 195, "区域品牌管理机构", f),
             draw_run(d, 120, 295, "品牌奖励激励资金", f)]
    boxes.append(draw_run(d, 540, 95, "□已注册", f, read="已注册"))
    boxes.append(draw_run(d, 760, 95, "□正在申请", f, read="正在申请"))
    boxes.append(draw_run(d, 540, 195, "□政府", f, read="口政府"))
    boxes.append(draw_run(d, 760, 195, "□协会/联盟", f, read="协会/联盟"))
    left = draw_run(d, 540, 295, "□有，支持力度", f, read="有，支持力度")
    boxes.append(left)
    d.line((left.x1 - 2, left.y1 - 10, left.x1 + 110, left.y1 - 10), fill=0, width=2)  # the blank
    boxes.append(draw_run(d, left.x1 + 115, 295, "万元", f))
    boxes.append(draw_run(d, 120, 420, "第二部分 试点工作总结", f))
    return img, boxes


def _read_form(engine, img) -> tuple:
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    read = read_page(engine, buf.getvalue())
    page = assemble_page(read, 1, img.width * 72 / DPI, img.height * 72 / DPI, DPI)
    return read, page


@needs_font
def test_scanned_form_carries_its_cells_checkboxes_and_blanks_to_the_parser():
    img, boxes = draw_form()
    _, page = _read_form(FakeEngine(boxes), img)
    tables = [it for it in page.items if isinstance(it, Table)]
    assert len(tables) == 1 and len(tables[0].rows) == 3  # the blank's underline did not split a row
    cells = [[" ".join(ln.text for ln in c.lines) for c in r.cells] for r in tables[0].rows]
    assert cells[0][0] == "区域品牌集体商标" and cells[0][1].replace(" ", "") == "□已注册□正在申请"
    assert cells[1][1].replace(" ", "") == "□政府□协会/联盟"
    assert cells[2][1].startswith("□有，支持力度__") and cells[2][1].endswith("万元"), cells[2][1]
    text = serialize(Extraction(format="pdf", pages=[page]), standard=False)
    assert "\t区域品牌集体商标\n\t□已注册" in text.replace(" ", "")
    assert text.rstrip().endswith("第二部分 试点工作总结")


@pytest.mark.integration
@needs_font
def test_real_ocr_reads_the_drawn_form_into_cells():
    pytest.importorskip("rapidocr_onnxruntime")
    from assistant.ingest.ocr import make_engine

    img, _ = draw_form()
    _, page = _read_form(make_engine("rapidocr"), img)
    tables = [it for it in page.items if isinstance(it, Table)]
    assert len(tables) == 1 and len(tables[0].rows) == 3
    cells = [["".join(ln.text for ln in c.lines).replace(" ", "") for c in r.cells] for r in tables[0].rows]
    assert cells[0] == ["区域品牌集体商标", "□已注册□正在申请"], cells
    assert cells[1] == ["区域品牌管理机构", "□政府□协会/联盟"], cells
    assert cells[2][0] == "品牌奖励激励资金" and cells[2][1].startswith("□有，支持力度_"), cells


@pytest.mark.integration
def test_pages_read_in_two_worker_processes_equal_one_process():
    pytest.importorskip("rapidocr_onnxruntime")
    if FONT_PATH is None:
        pytest.skip("needs the CJK font to draw pages")
    from assistant.ingest.ocr import make_engine, read_pages

    pngs = []
    for text in ("1 范围", "2 规范性引用文件"):
        img, d = page_image(800, 200)
        d.text((40, 60), text, font=font(29), fill=0)
        buf = io.BytesIO()
        img.save(buf, format="PNG")
        pngs.append(buf.getvalue())
    one = read_pages(make_engine("rapidocr", options=OcrOptions(threads=2, workers=1)), pngs)
    done = []
    two = read_pages(make_engine("rapidocr", options=OcrOptions(threads=1, workers=2)), pngs, on_page=done.append)
    assert [[b.text for b in r.boxes] for r in one] == [[b.text for b in r.boxes] for r in two]
    assert [r.boxes[0].text.replace(" ", "") for r in two] == ["1范围", "2规范性引用文件"]
    assert done == [1, 2]


@pytest.mark.integration
def test_detection_on_a_reduced_page_reads_what_full_resolution_reads():
    """BA_OCR_DET_SIDE: detection sees the page reduced, its boxes are redrawn around the ink
    at full resolution (with full-resolution detection's margins), so recognition gets the
    same crops and reads the same text."""
    pytest.importorskip("rapidocr_onnxruntime")
    if FONT_PATH is None:
        pytest.skip("needs the CJK font to draw pages")
    from assistant.ingest.ocr import _tighten, make_engine

    img, d = page_image(1600, 700)
    lines = ["6.1.2 品牌培育服务机构应建立服务质量管理制度。", "b) 宜组织实施大型区域公用品牌推介活动；", "4.1 全面梳理区域资源禀赋"]
    for k, text in enumerate(lines):
        d.text((60, 80 + 150 * k), text, font=font(32), fill=0)
    arr = as_array(img)
    full = make_engine("rapidocr", options=OcrOptions(threads=2, workers=1)).read(arr)
    reduced = make_engine("rapidocr", options=OcrOptions(threads=2, workers=1, det_side=800)).read(arr)
    assert [b.text.replace(" ", "") for b in reduced] == [b.text.replace(" ", "") for b in full]
    assert [b.text.replace(" ", "") for b in sorted(reduced, key=lambda b: b.y0)] == [t.replace(" ", "") for t in lines]
    # a box around an underline keeps to the text above it: the rule is no ink of the line
    d.line((60, 600, 900, 600), fill=0, width=3)
    d.text((60, 555), "日期", font=font(32), fill=0)
    loose = np.array([[50, 540], [910, 540], [910, 610], [50, 610]], dtype=np.float32)
    tight = _tighten(as_array(img), loose, pad=2)
    assert tight[2][1] < 600 and tight[1][0] < 200


def test_a_ruled_page_is_detected_at_full_resolution(monkeypatch):
    """With det_side set, prose pages are detected reduced and a page with a ruled table (two
    or more vertical rules) as rendered: the wrapped lines of a form's cells came apart on a
    reduced page. The rules come from the page image itself."""
    from assistant.ingest import ocr

    img, d = page_image(1200, 900)
    d.line((60, 100, 700, 100), fill=0, width=3)  # an underline: a horizontal rule only
    prose = as_array(img)
    d.rectangle((50, 300, 1100, 800), outline=0, width=3)
    d.line((500, 300, 500, 800), fill=0, width=3)
    table = as_array(img)
    engine = ocr.make_engine("rapidocr", options=ocr.OcrOptions(threads=1, workers=1, det_side=800))
    seen = []
    monkeypatch.setattr(engine, "detect", lambda bgr, reduce=True: seen.append(reduce) or [])
    monkeypatch.setattr(engine, "recognize", lambda crops: [])
    for page in (prose, table):
        hsegs, vsegs = ocr.ruling_segments(page)
        engine.boxes(page, hsegs, vsegs)
    assert seen == [True, False]
    # without det_side every page is detected as rendered
    engine.options = ocr.OcrOptions(threads=1, workers=1)
    engine.read(prose)
    assert seen[-1] is False


def test_page_read_survives_a_page_without_text():
    read = PageRead([], [], [])
    page = assemble_page(read, 3, 595, 842, DPI)
    assert page.items == [] and page.ocr and page.ocr_confidence is None


# --- the OCR models rewritten for speed ----------------------------------------------------------

def _paddle_style_model(path):
    """A small graph in the style of the PP-OCR exports: conv, scalar affine, hardswish spelled
    out as add/clip/mul/div, scalar affine, 1×1 conv, hardswish, scalar affine, a padded 3×3
    depthwise conv."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(3)

    def const(name, value):
        return helper.make_node("Constant", [], [name], value=numpy_helper.from_array(np.asarray(value, np.float32), name))

    nodes = [const("w1", rng.normal(size=(8, 3, 3, 3))), const("b1", rng.normal(size=(8,))),
             const("a", [1.7]), const("b", [0.3]), const("three", [3.0]), const("zero", 0.0), const("six", 6.0),
             const("six_d", [6.0]), const("c", [0.8]), const("d", [-0.2]),
             const("w2", rng.normal(size=(4, 8, 1, 1))), const("b2", rng.normal(size=(4,))),
             const("c2", [1.3]), const("d2", [0.4]), const("w3", rng.normal(size=(4, 1, 3, 3)))]
    nodes += [
        helper.make_node("Conv", ["x", "w1", "b1"], ["y1"], pads=[1, 1, 1, 1]),
        helper.make_node("Mul", ["a", "y1"], ["y2"]), helper.make_node("Add", ["y2", "b"], ["y3"]),
        helper.make_node("Add", ["y3", "three"], ["h1"]), helper.make_node("Clip", ["h1", "zero", "six"], ["h2"]),
        helper.make_node("Mul", ["y3", "h2"], ["h3"]), helper.make_node("Div", ["h3", "six_d"], ["h4"]),
        helper.make_node("Mul", ["c", "h4"], ["l1"]), helper.make_node("Add", ["l1", "d"], ["l2"]),
        helper.make_node("Conv", ["l2", "w2", "b2"], ["z"]),
        helper.make_node("Add", ["z", "three"], ["g1"]), helper.make_node("Clip", ["g1", "zero", "six"], ["g2"]),
        helper.make_node("Mul", ["z", "g2"], ["g3"]), helper.make_node("Div", ["g3", "six_d"], ["g4"]),
        helper.make_node("Mul", ["c2", "g4"], ["m1"]), helper.make_node("Add", ["m1", "d2"], ["m2"]),
        helper.make_node("Conv", ["m2", "w3"], ["out"], pads=[1, 1, 1, 1], group=4),
    ]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 16, 24])],
                              [helper.make_tensor_value_info("out", TensorProto.FLOAT, None)])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 12)])
    model.ir_version = 7
    onnx.save(model, str(path))


def test_model_rewrite_computes_the_same_with_fewer_operators(tmp_path):
    onnx = pytest.importorskip("onnx")
    import onnxruntime as ort

    from assistant.ingest import ocrmodels

    src, dst = tmp_path / "m.onnx", tmp_path / "m-fast.onnx"
    _paddle_style_model(src)
    counts = ocrmodels.rewrite(src, dst)
    assert counts == {"hardswish": 2, "conv_affine": 1, "affine_pointwise": 1}
    ops = [n.op_type for n in onnx.load(str(dst)).graph.node]
    assert ops == ["Conv", "HardSwish", "Conv", "HardSwish", "Mul", "Add", "Conv"]  # a padded conv's affine stays
    x = np.random.default_rng(5).normal(size=(1, 3, 16, 24)).astype(np.float32)
    outs = [ort.InferenceSession(str(p), providers=["CPUExecutionProvider"]).run(None, {"x": x})[0] for p in (src, dst)]
    assert np.abs(outs[0] - outs[1]).max() < 1e-4
