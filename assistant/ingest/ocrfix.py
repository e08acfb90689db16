"""Geometric repairs of OCR output: what the recogniser got wrong about the layout of the
page, decided from the page image and the positions of the characters read — never from
the wording of a particular document.

- **Missed ink.** Detection sometimes finds no box for a short mark set apart from its line
  (the `a)` of an item before its hanging-indented text, the `一、` before a heading) or
  cuts a box short (`4` without its `)`). Ink left over once every box and ruling line is
  blanked out is grouped into line-sized regions and recognised: on its own, or together
  with the box it touches.
- **Checkboxes.** The recogniser has no □: it drops the glyph or reads it as 口. A checkbox
  is found as an empty square outline (thin strokes, one hole filling it); the character
  read there becomes □, or □ is inserted where nothing was read.
- **Punctuation width.** ，and , (and ；; ：: （( ）) ！! ？?) look alike to the recogniser,
  which mostly writes the full-width form; on the page a full-width mark takes a full
  character cell and a half-width one about a third of it. The advance between the
  characters around the mark decides which it is.
- **Dashes.** — and - (and －) are told apart by the length of the stroke.
- **Doubled characters.** The same character read twice within one character's advance
  is one character; a narrow mark (| l [) read inside a character's cell, taking no room of
  its own, is a stroke of that character.
- **Overlapping boxes.** What a short box read inside a longer neighbour on its line is
  that neighbour's ink read twice.
- **Cells.** A box that runs across a vertical ruling line is cut there, at the characters
  on either side, so that each cell gets its own text.
- **Blanks.** The underline of a blank to fill in (`支持力度________万元`), a line that is no
  cell border, becomes the underscores a text layer has.

Where the page cannot tell the width of a mark (it ends its box), a mark attached to a
Chinese character is full-width, as Chinese typesetting writes it (GB/T 15834).
"""

from __future__ import annotations

import statistics
import unicodedata

import numpy as np

from assistant.ingest.ocr import TEXT_SCORE, OcrBox

# full-width form ↔ half-width form of the punctuation whose width only the page tells
FULL_OF = {",": "，", ";": "；", ":": "：", "(": "（", ")": "）", "!": "！", "?": "？"}
HALF_OF = {v: k for k, v in FULL_OF.items()}
# what the recogniser writes for a checkbox it does not drop
BOX_READINGS = set("口□0OoDＯ〇ロ")
# a box of this many characters or fewer is read again with a margin around it
SHORT_LEN = 3
# a lone glyph read on its own is the least reliable reading (a page number's 6 reads as b):
# kept only when read with this confidence
LONE_GLYPH_SCORE = 0.97
# a short box read with less confidence than this may be replaced by a surer reading of it
UNSURE = 0.8


def line_height(boxes: list[OcrBox]) -> float:
    """The usual height of a text box on the page (pixels)."""
    hs = [b.height for b in boxes if len(b.text.strip()) >= 2]
    return float(statistics.median(hs)) if hs else 30.0


def ink_mask(img: np.ndarray) -> np.ndarray:
    """1 where there is ink (Otsu's threshold of the greyscale page)."""
    import cv2

    _, m = cv2.threshold(img, 0, 1, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    return m


# --- checkboxes -----------------------------------------------------------------------------

def find_checkboxes(mask: np.ndarray, lh: float) -> list[tuple[int, int, int, int]]:
    """Empty square outlines of about a character's size: (x0, y0, x1, y1)."""
    import cv2

    contours, hier = cv2.findContours(mask, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE)
    if hier is None:
        return []
    hier = hier[0]
    out = []
    for i, c in enumerate(contours):
        if hier[i][3] != -1 or hier[i][2] == -1:
            continue
        x, y, w, h = cv2.boundingRect(c)
        if not (0.4 * lh <= w <= 1.2 * lh and 0.4 * lh <= h <= 1.2 * lh) or abs(w - h) > 0.15 * max(w, h):
            continue
        holes = []
        ch = hier[i][2]
        while ch != -1:
            holes.append(cv2.boundingRect(contours[ch]))
            ch = hier[ch][0]
        if len(holes) != 1:
            continue
        hx, hy, hw, hh = holes[0]
        if hw * hh < 0.72 * w * h or cv2.contourArea(c) < 0.85 * w * h:
            continue  # thick strokes or an outline that is not a rectangle (口 and the like)
        if mask[hy + 1:hy + hh - 1, hx + 1:hx + hw - 1].sum() > 0.01 * hw * hh:
            continue  # something inside: a character, not an empty box
        out.append((x, y, x + w, y + h))
    return out


def _is_cjk(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf"


def _em(b: OcrBox) -> float | None:
    """The advance of one Chinese character in this box, from the positions read: the mean
    step between neighbouring Chinese characters (positions are read in steps of a few
    pixels, so a mean, without the gaps of more than one and a half steps)."""
    if not b.xs or len(b.xs) != len(b.text):
        return None
    steps = [b.xs[i + 1] - b.xs[i] for i in range(len(b.text) - 1) if _is_cjk(b.text[i]) and _is_cjk(b.text[i + 1])]
    steps = [s for s in steps if s > 0]
    if len(steps) < 2:
        return None
    mid = statistics.median(steps)
    steps = [s for s in steps if s <= 1.5 * mid]
    return float(sum(steps) / len(steps))


def apply_checkboxes(boxes: list[OcrBox], squares: list[tuple[int, int, int, int]], lh: float) -> list[OcrBox]:
    """□ where a checkbox is: the character read on it replaced (when it is a reading of a
    box: 口, 0, O…), inserted where nothing was read, a box of its own outside every box."""
    out = list(boxes)
    for sx0, sy0, sx1, sy1 in squares:
        scy = (sy0 + sy1) / 2
        host = None
        for k, b in enumerate(out):
            if b.y0 - 2 <= scy <= b.y1 + 2 and b.x0 - 2 <= (sx0 + sx1) / 2 <= b.x1 + 2:
                host = k
                break
        if host is None:
            out.append(OcrBox(sx0, sy0, sx1, sy1, "□", 1.0, [(sx0 + sx1) / 2]))
            continue
        b = out[host]
        if not b.xs or len(b.xs) != len(b.text):
            if b.text[:1] in BOX_READINGS and sx0 <= b.x0 + 0.5 * lh:
                out[host] = OcrBox(b.x0, b.y0, b.x1, b.y1, "□" + b.text[1:], b.score, b.xs)
            continue
        on = [i for i, x in enumerate(b.xs) if sx0 - 2 <= x <= sx1 + 2]
        text, xs = list(b.text), list(b.xs)
        if on:
            i = on[0]
            if text[i] in BOX_READINGS:
                text[i] = "□"
            else:
                continue  # a character was read there: leave it
        else:
            i = sum(1 for x in xs if x < sx0)
            text.insert(i, "□")
            xs.insert(i, (sx0 + sx1) / 2)
        out[host] = OcrBox(min(b.x0, sx0), b.y0, max(b.x1, sx1), b.y1, "".join(text), b.score, xs)
    return out


# --- missed ink -------------------------------------------------------------------------------

def missed_ink(mask: np.ndarray, boxes: list[OcrBox], hsegs: list, vsegs: list,
               squares: list[tuple[int, int, int, int]], lh: float) -> list[tuple[tuple[int, int, int, int], int | None]]:
    """Line-sized groups of ink that no box covers, each with the box it touches on its
    line (index into `boxes`) or None: ((x0, y0, x1, y1), index)."""
    import cv2

    m = mask.copy()
    t = max(3, int(round(lh * 0.15)))
    for x0, y0, x1, y1 in list(hsegs) + list(vsegs):
        cv2.line(m, (int(x0), int(y0)), (int(x1), int(y1)), 0, t)
    H, W = m.shape
    for b in boxes:
        m[max(0, int(b.y0) - 2):min(H, int(b.y1) + 3), max(0, int(b.x0) - 1):min(W, int(b.x1) + 2)] = 0
    for x0, y0, x1, y1 in squares:
        m[max(0, y0 - 1):y1 + 2, max(0, x0 - 1):x1 + 2] = 0
    n, lab, stats, _ = cv2.connectedComponentsWithStats(m, connectivity=8)
    keep = np.zeros(n, dtype=bool)  # ink that may be text
    seed = np.zeros(n, dtype=bool)  # ink that is more than a dot: a region needs one
    for i in range(1, n):
        w, h, area = stats[i, cv2.CC_STAT_WIDTH], stats[i, cv2.CC_STAT_HEIGHT], stats[i, cv2.CC_STAT_AREA]
        if area < 4 or h > 1.6 * lh or w > 3 * lh:
            continue  # specks; figures, rules and frames
        if min(w, h) <= 2 and max(w, h) < 0.5 * lh:
            continue  # slivers: what a box's edge left of a character
        keep[i] = True
        seed[i] = area >= 0.05 * lh * lh or max(w, h) >= 0.5 * lh
    if not seed.any():
        return []
    kept = keep[lab].astype(np.uint8)
    seeded = seed[lab]
    # the pieces of one line's marks belong together (the stroke and the dot of 一、): grow them
    # by more than a character's inner gaps, less than the blank between two lines
    grown = cv2.dilate(kept, cv2.getStructuringElement(cv2.MORPH_RECT, (max(3, int(0.6 * lh)), max(3, int(0.5 * lh)))))
    n2, lab2, stats2, _ = cv2.connectedComponentsWithStats(grown, connectivity=8)
    out = []
    for j in range(1, n2):
        x, y, w, h = (int(v) for v in stats2[j, :4])
        mine = lab2[y:y + h, x:x + w] == j
        if not (seeded[y:y + h, x:x + w] & mine).any():
            continue  # only dots: a full stop or a speck on its own
        ys, xs = np.nonzero(kept[y:y + h, x:x + w] & mine)
        rx0, ry0, rx1, ry1 = x + int(xs.min()), y + int(ys.min()), x + int(xs.max()) + 1, y + int(ys.max()) + 1
        if ry1 - ry0 < 0.3 * lh or ry1 - ry0 > 1.6 * lh:
            continue
        near = None
        for k, b in enumerate(boxes):
            overlap = min(b.y1, ry1) - max(b.y0, ry0)
            if overlap < 0.5 * min(b.height, ry1 - ry0):
                continue
            gap = max(b.x0 - rx1, rx0 - b.x1)
            if gap <= 0.4 * lh and (near is None or gap < near[0]):
                near = (gap, k)
        out.append(((rx0, ry0, rx1, ry1), near[1] if near else None))
    return out


def _new_marks_have_ink(mask: np.ndarray, boxes: list[OcrBox], k: int, nb: OcrBox) -> bool:
    """Does every character a second reading adds (none of the first reading's characters
    was read near it) sit on ink of its own — ink not inside another box? A margin around a
    box can show the recogniser the edge of the next box's first character (read as `：`)."""
    old = boxes[k]
    if not nb.xs or not old.xs:
        return True
    em = max(old.height, 1.0)
    H, W = mask.shape
    y0, y1 = max(0, int(nb.y0)), min(H, int(nb.y1) + 1)
    free = np.ones(W, dtype=bool)
    for j, b in enumerate(boxes):
        if j != k and min(b.y1, nb.y1) - max(b.y0, nb.y0) > 0:
            free[max(0, int(b.x0)):min(W, int(b.x1) + 1)] = False
    cols = mask[y0:y1].any(axis=0) & free
    for x in nb.xs:
        if all(abs(x - o) > 0.3 * em for o in old.xs):
            a, z = max(0, int(x - 0.2 * em)), min(W, int(x + 0.2 * em) + 1)
            if not cols[a:z].any():
                return False
    return True


def recover_missed(engine, img: np.ndarray, boxes: list[OcrBox], regions, lh: float,
                   mask: np.ndarray | None = None) -> list[OcrBox]:
    """Recognise the regions of `missed_ink`: a region that touches a box is read together
    with it and replaces it when more was read; a region alone becomes a box of its own.
    A short box (an item label: `f` for `f)`, `4` for `4)`) is read again with a white margin
    around it: a longer reading read with confidence, whose added characters stand on ink of
    their own, is kept; a reading of the same length only replaces an unsure one (`al` for
    `a)`), since on a lone glyph the margin can also make it worse (a page number's 6 as b)."""
    mask = ink_mask(img) if mask is None else mask
    short = [k for k, b in enumerate(boxes) if len("".join(b.text.split())) <= SHORT_LEN]
    jobs: list[tuple[tuple[int, int, int, int], int | None, bool]] = []
    for (x0, y0, x1, y1), k in regions:
        if k is not None:
            b = boxes[k]
            x0, y0, x1, y1 = min(x0, int(b.x0)), min(y0, int(b.y0)), max(x1, int(b.x1)), max(y1, int(b.y1))
        jobs.append(((x0, y0, x1, y1), k, False))
    touched = {k for _, k in regions if k is not None}
    jobs += [((int(boxes[k].x0), int(boxes[k].y0), int(boxes[k].x1), int(boxes[k].y1)), k, True)
             for k in short if k not in touched]
    if not jobs:
        return boxes
    read = engine.read_regions(img, [r for r, _, _ in jobs], pad=max(4, int(0.25 * lh)))
    out = list(boxes)
    replaced: set[int] = set()
    for (_, k, again), nb in zip(jobs, read):
        text = "".join(nb.text.split())
        if nb.score < TEXT_SCORE or not text:
            continue
        if k is None:
            if len(text) >= 2 or nb.score >= LONE_GLYPH_SCORE:
                out.append(nb)
            continue
        if k in replaced:
            continue
        old = "".join(boxes[k].text.split())
        longer = len(text) > len(old) and (nb.score >= 0.75 or not again) and _new_marks_have_ink(mask, boxes, k, nb)
        surer = again and len(text) == len(old) and boxes[k].score < UNSURE and nb.score > boxes[k].score + 0.05
        if longer or surer:
            out[k] = nb
            replaced.add(k)
    return out


# --- punctuation width ----------------------------------------------------------------------

# full-width marks drawn in the left (closing marks, commas) or right (opening marks) part
# of their character cell, as Chinese fonts draw them
_LEFT_MARKS = set("，。、；：！？）」』】〕》”’")
_RIGHT_MARKS = set("（「『【〔《“‘")


def _advance(ch: str) -> tuple[float, float]:
    """A character's advance in ems and where in it (ems from its start) its ink is centred,
    which is where the recogniser reads it."""
    if ch in _LEFT_MARKS:
        return 1.0, 0.25
    if ch in _RIGHT_MARKS:
        return 1.0, 0.75
    if unicodedata.east_asian_width(ch) in ("W", "F"):
        return 1.0, 0.5
    if ch.isascii() and ch.isalnum():
        return 0.55, 0.275
    return 0.35, 0.175


OPENING = set("(（")
PAIRS = {"(": ")", "（": "）"}


def _attached(c: str, text: list[str], i: int) -> str:
    """The character a mark belongs to: what an opening bracket opens, what the others close
    (a space read between them aside)."""
    step = 1 if c in OPENING else -1
    j = i + step
    while 0 <= j < len(text) and text[j].isspace():
        j += step
    return text[j] if 0 <= j < len(text) else ""


def fix_punct_width(b: OcrBox, em: float | None = None) -> OcrBox:
    """，or , (and the like) from the distance between the characters on either side (a space
    read between them aside): a full-width mark takes a whole character's advance, a
    half-width one about a third. Where the page cannot tell — the mark ends the box, or a
    gap wider than a full-width mark follows it (a label before a hanging indent) — a bracket
    takes the width of its partner in the box, and a mark attached to a Chinese character is
    full-width, as Chinese typesetting writes it (GB/T 15834); any other keeps the
    recogniser's reading. The blank half of a full-width mark is no space: a space read
    there is dropped. `em`: the advance of a Chinese character, when the box has too few of
    them to measure it."""
    if not b.xs or len(b.xs) != len(b.text) or not any(c in FULL_OF or c in HALF_OF for c in b.text):
        return b
    em = _em(b) or em
    if em is None:
        return b
    text = list(b.text)
    solid = [i for i, c in enumerate(text) if not c.isspace()]
    decided: dict[int, bool] = {}  # index -> full-width, where the spacing told
    for p, i in enumerate(solid):
        c = text[i]
        if c not in FULL_OF and c not in HALF_OF or not 0 < p < len(solid) - 1:
            continue
        prev, nxt = solid[p - 1], solid[p + 1]
        adv_prev, off_prev = _advance(text[prev])
        _, off_next = _advance(text[nxt])
        own = (b.xs[nxt] - b.xs[prev]) / em - (adv_prev - off_prev) - off_next
        if own <= 1.5:
            decided[i] = own > 0.67
    for i, c in enumerate(text):
        if c not in FULL_OF and c not in HALF_OF:
            continue
        if i in decided:
            full = decided[i]
        else:
            partner = _partner(text, i)
            if partner is not None and partner in decided:
                full = decided[partner]
            elif _is_cjk(owner := _attached(c, text, i)):
                full = True
            elif c in ")）" and partner is None and owner.isascii() and owner.isalnum():
                full = False  # a list marker, a) or 1), as standards write it (GB/T 1.1)
            else:
                continue
        text[i] = FULL_OF.get(c, c) if full else HALF_OF.get(c, c)
    for i, c in enumerate(text):  # the blank half of a full-width mark read as a space
        if c in HALF_OF:
            j = i - 1 if c in "（" else i + 1
            if 0 <= j < len(text) and text[j] == " ":
                text[j] = ""
    new = "".join(text)
    return b if new == b.text else OcrBox(b.x0, b.y0, b.x1, b.y1, new, b.score,
                                          [x for x, t in zip(b.xs, text) if t != ""])


def _partner(text: list[str], i: int) -> int | None:
    """The bracket that pairs with the bracket at i in the box (nesting counted), if any."""
    opens, closes = set("(（"), set(")）")
    if text[i] in opens:  # look right for its closing bracket
        same, other, span = opens, closes, range(i + 1, len(text))
    elif text[i] in closes:  # look left for its opening bracket
        same, other, span = closes, opens, range(i - 1, -1, -1)
    else:
        return None
    depth = 0
    for j in span:
        if text[j] in same:
            depth += 1
        elif text[j] in other:
            if depth == 0:
                return j
            depth -= 1
    return None


def page_em_ratio(boxes: list[OcrBox]) -> float | None:
    """A Chinese character's advance over its box's height, on this page."""
    rs = [e / b.height for b in boxes if b.height > 0 and (e := _em(b))]
    return float(statistics.median(rs)) if rs else None


# --- boxes that overlap -------------------------------------------------------------------

def drop_overlap_reads(boxes: list[OcrBox]) -> list[OcrBox]:
    """Two boxes on one line that overlap (detection drew the short one into its neighbour:
    `2.` read as `2.[` from the edge of the next box's 区): what the shorter box read inside
    the longer one is the longer one's ink, read twice."""
    out = list(boxes)
    for k, a in enumerate(out):
        if not a.xs or len(a.xs) != len(a.text):
            continue
        for b in boxes:
            if b is boxes[k] or len(b.text) <= len(a.text):
                continue
            if min(a.y1, b.y1) - max(a.y0, b.y0) < 0.5 * min(a.height, b.height):
                continue
            if not (a.x0 < b.x0 < a.x1 or a.x0 < b.x1 < a.x1):
                continue
            keep = [i for i, x in enumerate(a.xs) if not b.x0 < x < b.x1]
            if keep and len(keep) < len(a.text):
                a = OcrBox(a.x0, a.y0, a.x1, a.y1, "".join(a.text[i] for i in keep), a.score, [a.xs[i] for i in keep])
                out[k] = a
    return out


# --- a character read twice ----------------------------------------------------------------

def drop_doubled(b: OcrBox, em: float | None = None) -> OcrBox:
    """The same Chinese character read twice within one character's advance (`引引入` for
    `引入`: the recogniser saw the separate stroke of 引 as another 引) is one character; so is
    a component form read beside its character within one advance (`扌接`); and a narrow mark
    read inside a Chinese character's cell (`引[用`) is part of it."""
    em = _em(b) or em
    if not em or not b.xs or len(b.xs) != len(b.text):
        return b
    keep = [0] if b.text else []
    for i in range(1, len(b.text)):
        j = keep[-1]
        if _is_cjk(b.text[i]) and _is_cjk(b.text[j]) and b.xs[i] - b.xs[j] < 0.6 * em:
            if b.text[i] == b.text[j] or b.text[i] in RADICALS:
                continue
            if b.text[j] in RADICALS:  # the left part of the next character (扌 of 接)
                keep[-1] = i
                continue
        keep.append(i)
    # a stroke read as a narrow mark inside the cell of the Chinese character before it (the
    # right stroke of 引 read as |, l or [): the next character follows at one advance, as if
    # the mark took no room
    kept = []
    for p, i in enumerate(keep):
        if (0 < p < len(keep) - 1 and b.text[i] in STROKE_MARKS and _is_cjk(b.text[keep[p - 1]])
                and not b.text[keep[p + 1]].isspace()):
            prev, nxt = keep[p - 1], keep[p + 1]
            _, off_next = _advance(b.text[nxt])
            if (b.xs[nxt] - b.xs[prev]) / em - 0.5 - off_next < 0.22:
                continue
        kept.append(i)
    if len(kept) == len(b.text):
        return b
    return OcrBox(b.x0, b.y0, b.x1, b.y1, "".join(b.text[i] for i in kept), b.score, [b.xs[i] for i in kept])


# narrow marks a recogniser makes of a Chinese character's stroke
STROKE_MARKS = set("|lI丨[]「」")
# component forms that are no characters of running text: read on their own, they are part
# of the character beside them
RADICALS = set("扌氵亻讠纟钅饣犭礻衤忄阝刂彳冫冖宀艹灬丬疒攵")


# --- dashes -------------------------------------------------------------------------------

DASHES = set("-－–—")


def dash_length(mask: np.ndarray, b: OcrBox, i: int, em: float) -> float | None:
    """Length, in ems, of the horizontal stroke read as character i of the box (a dash)."""
    H, W = mask.shape
    y0, y1 = max(0, int(b.y0)), min(H, int(b.y1) + 1)
    x = int(round(b.xs[i]))
    for dx in sorted(range(-int(0.2 * em), int(0.2 * em) + 1), key=abs):
        c = x + dx
        if not 0 <= c < W:
            continue
        rows = np.nonzero(mask[y0:y1, c])[0]
        if not len(rows) or rows.max() - rows.min() > 0.2 * em:
            continue  # no ink here, or not a thin stroke
        band = mask[y0 + rows.min():y0 + rows.max() + 1, :].any(axis=0)
        left = right = c
        while left > 0 and band[left - 1]:
            left -= 1
        while right < W - 1 and band[right + 1]:
            right += 1
        return (right - left + 1) / em
    return None


def fix_dashes(b: OcrBox, mask: np.ndarray, em: float | None) -> OcrBox:
    """A stroke of more than 0.6 of a character is a dash (—); one of less than 0.4 a hyphen
    (-), which is about a quarter of a character long (measured on the page)."""
    em = _em(b) or em
    if not em or not b.xs or len(b.xs) != len(b.text) or not any(c in DASHES for c in b.text):
        return b
    text = list(b.text)
    for i, c in enumerate(text):
        if c in DASHES:
            n = dash_length(mask, b, i, em)
            if n is not None and n >= 0.6:
                text[i] = "—"
            elif n is not None and n <= 0.4:
                text[i] = "-"
    new = "".join(text)
    return b if new == b.text else OcrBox(b.x0, b.y0, b.x1, b.y1, new, b.score, b.xs)


# --- cells ----------------------------------------------------------------------------------

def split_at_rules(boxes: list[OcrBox], vsegs: list) -> list[OcrBox]:
    """Cut each box that a vertical rule crosses (a rule covering most of the box's height,
    well inside it) between the characters on either side of the rule."""
    out = []
    for b in boxes:
        cuts = sorted(x for x, y0, _, y1 in vsegs
                      if y0 <= b.y0 + 0.2 * b.height and y1 >= b.y1 - 0.2 * b.height
                      and b.x0 + 0.3 * b.height < x < b.x1 - 0.3 * b.height)
        if not cuts or not b.xs or len(b.xs) != len(b.text):
            out.append(b)
            continue
        edges = [b.x0, *cuts, b.x1]
        for a, z in zip(edges, edges[1:]):
            idx = [i for i, x in enumerate(b.xs) if a <= x < z]
            if not idx:
                continue
            out.append(OcrBox(max(a, b.x0), b.y0, min(z, b.x1), b.y1, "".join(b.text[i] for i in idx), b.score,
                              [b.xs[i] for i in idx]))
    return out


def blanks(boxes: list[OcrBox], hsegs: list, vsegs: list) -> list[OcrBox]:
    """Underlines of blanks to fill in (`支持力度________万元`): a horizontal line that is no
    cell border, at the foot of a text box it follows or precedes, becomes the underscores a
    text layer would have (one per half a character of its length)."""
    from assistant.ingest.grid import spans_a_cell

    ratio = page_em_ratio(boxes) or 1.0
    out = []
    for seg in hsegs:
        x0, y, x1, _ = seg
        if spans_a_cell(seg, vsegs, tol=8.0):
            continue
        for b in boxes:
            em = ratio * b.height
            if not (b.y0 + 0.5 * b.height <= y <= b.y1 + 0.4 * b.height) or not em <= x1 - x0 <= 20 * em:
                continue
            if -0.5 * em <= x0 - b.x1 <= em or -0.5 * em <= b.x0 - x1 <= em:
                out.append(OcrBox(x0, b.y0, x1, b.y1, "_" * max(1, round((x1 - x0) / (0.5 * em))), b.score,
                                  None))
                break
    return out


def repair(engine, img: np.ndarray, boxes: list[OcrBox], hsegs: list, vsegs: list) -> list[OcrBox]:
    """All repairs of one page's boxes (see the module doc)."""
    if not boxes:
        return boxes
    lh = line_height(boxes)
    mask = ink_mask(img)
    squares = find_checkboxes(mask, lh)
    if hasattr(engine, "read_regions"):
        boxes = recover_missed(engine, img, boxes, missed_ink(mask, boxes, hsegs, vsegs, squares, lh), lh, mask)
    boxes = drop_overlap_reads(apply_checkboxes(boxes, squares, lh))
    ratio = page_em_ratio(boxes)
    out = []
    for b in boxes:
        em = ratio * b.height if ratio else None
        out.append(fix_dashes(fix_punct_width(drop_doubled(b, em), em), mask, em))
    return out
