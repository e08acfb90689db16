"""One file → its clause tree and a parse report (no side effects: corpus/kb.py writes).

    detect the format → extract (pdf.py / ocr.py / docx.py / html.py) → serialize.py (the
    text the parser reads) → metadata from the cover → parse.py → tag.py → report
"""

from __future__ import annotations


import hashlib
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable

from assistant.corpus.manifest import DOC_ID_RE, DocumentSpec
from assistant.corpus.model import STRENGTH_ZH, Clause
from assistant.corpus.parse import ParseResult, compact, parse_document
from assistant.corpus.tag import tag_units
from assistant.corpus.vocab import Vocab
from assistant.ingest.errors import IngestError
from assistant.ingest.layout import Extraction
from assistant.ingest.serialize import serialize

FORMATS = {".pdf": "pdf", ".docx": "docx", ".html": "html", ".htm": "html", ".txt": "txt", ".md": "md"}
NATURES = {"group-standard": "团体标准", "national-standard-draft": "国家标准（征求意见稿）",
           "ministry-notice": "政策文件"}
SKIP_ZH = {"toc": "目次", "page-break": "分页符", "doc-title": "重复的文件标题", "back-cover": "封底",
           "stray-dash": "孤立的破折号", "cover": "封面"}
NUMBERED_KINDS = {"chapter", "clause", "item", "term"}

Progress = Callable[[str, int, int], None]


@dataclass
class Meta:
    doc_id: str = ""
    code: str | None = None
    title: str = ""
    nature: str = ""
    issuer: str = ""
    nature_guessed: bool = False  # no code on the cover and none given: "a notice" is a guess


@dataclass
class IngestResult:
    path: Path
    format: str
    spec: DocumentSpec
    text: str  # what is written to the corpus and parsed
    parsed: ParseResult
    extraction: Extraction
    warnings: list[str] = field(default_factory=list)
    unplaced: list[dict] = field(default_factory=list)

    @property
    def units(self) -> list[Clause]:
        return self.parsed.units

    def report(self) -> dict:
        """The parse report (`--dry-run --json`)."""
        ex = self.extraction
        return {
            "doc_id": self.spec.doc_id, "code": self.spec.code, "title": self.spec.title,
            "nature": self.spec.nature, "kind": self.spec.kind, "issuer": self.spec.issuer, "format": self.format,
            "file": self.path.name, "pages": ex.page_count, "ocr": ex.ocr, "ocr_engine": ex.ocr_engine or None,
            "ocr_confidence": ex.ocr_confidence,
            "units": [{"label": u.label, "kind": u.kind, "title": u.title, "text": u.text, "strength": u.strength,
                       "parent": u.parent} for u in self.units],
            "by_kind": dict(Counter(u.kind for u in self.units)),
            "by_strength": dict(Counter(u.strength for u in self.units)),
            "warnings": self.warnings, "unplaced": self.unplaced,
        }


def detect_format(path: Path, data: bytes) -> str:
    fmt = FORMATS.get(path.suffix.lower())
    head = data[:1024].lstrip()
    if data.startswith(b"%PDF"):
        return "pdf"
    if data.startswith(b"PK\x03\x04") and fmt == "docx":
        return "docx"
    if fmt is None:
        raise IngestError(path, f"不支持的文件类型「{path.suffix or '无扩展名'}」。支持 PDF、Word（.docx）、"
                                "网页（.html/.htm）、纯文本（.txt）和 Markdown（.md）。",
                          code="unsupported_format")
    if fmt == "pdf":
        raise IngestError(path, "扩展名是 .pdf，但内容不是 PDF（文件已损坏或类型不符）。")
    if fmt == "docx":
        if data.startswith(b"\xd0\xcf\x11\xe0"):
            raise IngestError(path, "这是旧版 Word 文档（.doc），请在 Word 或 WPS 中另存为 .docx 后再上传。")
        raise IngestError(path, "无法读取 Word 文档：文件已损坏或不是 .docx（应为 zip 格式）。")
    if fmt in ("txt", "md") and head[:5].lower() in (b"<!doc", b"<html"):
        return "html"
    return fmt


def decode_text(path: Path, data: bytes) -> str:
    if not data.strip():
        raise IngestError(path, "文件为空。")
    for enc in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(enc)
        except UnicodeDecodeError:
            continue
    raise IngestError(path, "无法识别文字编码（不是 UTF-8 或 GB18030）。请另存为 UTF-8 后再上传。")


def extract(path: Path, data: bytes, fmt: str, ocr_engine=None, progress: Progress | None = None) -> Extraction:
    if fmt == "pdf":
        from assistant.ingest.pdf import extract_pdf

        return extract_pdf(path, ocr_engine, progress, data=data)
    if fmt == "docx":
        from assistant.ingest.docx import extract_docx

        return extract_docx(path, data)
    if fmt == "html":
        from assistant.ingest.html import extract_html

        return extract_html(path, data)
    text = decode_text(path, data)
    return Extraction(format=fmt, text=unicodedata.normalize("NFC", text))


# --- metadata from the cover ------------------------------------------------------

RE_CODE = re.compile(r"((?:GB/T|GB/Z|GB|T/[A-Z]{2,12}|DB\d{2}(?:/T)?|[A-Z]{2,4}/T)\s*[\dX]{1,6}(?:\.\d+)?\s*"
                     r"[—–\-－]{1,2}\s*[\dX]{4})")
RE_NOTICE_TITLE = re.compile(r"(通知|指南|方案|办法|意见|规定|说明|细则|公告|决定)$")


def detect_meta(text: str, path: Path) -> Meta:
    lines = [re.sub(r"\s+", " ", ln).strip() for ln in text.splitlines()]
    lines = [ln for ln in lines if ln]
    head = lines[:40]
    code = None
    code_at = None
    for i, ln in enumerate(head):
        m = RE_CODE.search(ln)
        if m:
            code, code_at = re.sub(r"\s*[—–\-－]{1,2}\s*", "—", m.group(1)), i
            break
    title = ""
    if code_at is not None:
        for ln in head[code_at + 1: code_at + 8]:
            plain = ln.replace(" ", "")
            if (re.search(r"[\u4e00-\u9fff]", ln) and len(plain) >= 4 and not re.search(r"\d{4}", ln)
                    and not plain.endswith(("标准", "发布", "实施")) and not plain.startswith("(")
                    and not plain.startswith("（")):
                title = ln
                break
    if not title:
        for ln in head[:10]:
            if RE_NOTICE_TITLE.search(ln.replace(" ", "")) and len(ln) <= 60:
                title = ln
                break
    if not title:
        title = path.stem
    nature = ""
    if code:
        draft = any("征求意见稿" in ln for ln in head[:20])
        if code.startswith("T/"):
            nature = "group-standard"
        elif code.startswith("GB") and draft:
            nature = "national-standard-draft"
            code = code + "（征求意见稿）"
        else:  # a published national or local standard: no nature of vocab/force.toml fits; kind from the code
            nature = ""
    else:
        nature = "ministry-notice"
    return Meta(doc_id=suggest_doc_id(code, title, path), code=code or "", title=title, nature=nature,
                issuer=detect_issuer(lines, code_at is not None), nature_guessed=not code)


RE_ORG = re.compile(r"^[一-鿿、（）()]{4,40}(部|司|局|厅|委员会|委|办公室|协会|学会|中心|研究院|政府)$")


def detect_issuer(lines: list[str], standard: bool) -> str:
    """Who issued it: a standard's cover says "<issuer> 发布"; a notice is signed by its office
    on a line of its own before the attachments (or at the end)."""
    if standard:
        for ln in lines[:40]:
            m = re.match(r"^(.{4,40}?)\s*发\s*布$", ln)
            if m and not re.search(r"\d", m.group(1)):
                return m.group(1).strip()
        return ""
    cut = next((i for i, ln in enumerate(lines) if re.match(r"^附件\s*\d+$", ln)), len(lines))
    for ln in reversed(lines[max(0, cut - 4):cut]):
        if RE_ORG.match(ln.replace(" ", "")):
            return ln.strip()
    return ""


def suggest_doc_id(code: str | None, title: str, path: Path) -> str:
    def slug(s: str) -> str:
        s = unicodedata.normalize("NFKC", s).lower()
        s = re.sub(r"（.*?）|\(.*?\)", "", s)
        s = re.sub(r"^t/", "", s)
        return re.sub(r"-{2,}", "-", re.sub(r"[^a-z0-9]+", "-", s)).strip("-")[:60]

    for cand in (slug(code or ""), slug(path.stem)):
        if cand and DOC_ID_RE.match(cand) and re.search(r"[a-z]", cand) and re.search(r"\d", cand + "x0"):
            return cand
    return "doc-" + hashlib.sha1(title.encode("utf-8")).hexdigest()[:8]


# --- the report -----------------------------------------------------------------

def _numbering_warnings(units: list[Clause]) -> list[str]:
    """Labels out of order and numbering gaps among siblings (6.4.2 after 6.4.4; a) then c))."""
    out: list[str] = []
    by_parent: dict[str | None, list[Clause]] = {}
    for u in units:
        if u.kind in ("chapter", "clause", "item") and not u.inferred:
            by_parent.setdefault(u.parent, []).append(u)
    for parent, kids in by_parent.items():
        seq: list[tuple[int, str]] = []
        for u in kids:
            last = u.label.split(" ")[-1]
            m = re.fullmatch(r"(?:\d+\.)*(\d+)", last) or re.fullmatch(r"([a-z])\)", last) or \
                re.fullmatch(r"(\d+)\)", last)
            if not m:
                continue
            v = m.group(1)
            seq.append((int(v) if v.isdigit() else ord(v) - 96, u.label))
        for (a, la), (b, lb) in zip(seq, seq[1:]):
            if b <= a:
                out.append(f"标号顺序颠倒：{lb} 出现在 {la} 之后")
            elif b > a + 1:
                out.append(f"编号不连续：{la} 之后是 {lb}（缺 {b - a - 1} 个）")
    return out


def _fragment_unplaced(units: list[Clause]) -> list[dict]:
    out = []
    for u in units:
        if u.kind == "fragment":
            out.append({"line": u.line_start, "text": u.text[:80], "reason": "出现在第一个标题之前，未能归入任何条款（作为「卷首」保留）"})
    return out


def _numbered(parsed: ParseResult) -> list[Clause]:
    """The units with a label of their own in the text (6.4.4, a), 一、, a term's number)."""
    return [u for u in parsed.units if u.kind in NUMBERED_KINDS and not u.inferred]


def analyse(path: Path, fmt: str, ex: Extraction, meta: Meta, vocab: Vocab) -> IngestResult:
    code = meta.code or ""
    kind = NATURES.get(meta.nature) or ("国家标准" if code.startswith("GB") else "地方标准" if code.startswith("DB")
                                        else "团体标准" if code.startswith("T/") else "行业标准" if code else "政策文件")
    doc_id = meta.doc_id
    if not DOC_ID_RE.match(doc_id):
        raise IngestError(path, f"文件编号（doc_id）「{doc_id}」不合法：只允许小写字母、数字和连字符（2–63 个字符）。",
                          code="invalid_doc_id")
    suffix = ".md" if fmt == "md" else ".txt"
    spec = DocumentSpec(doc_id=doc_id, file=f"{doc_id}{suffix}", title=meta.title, code=meta.code or "",
                        kind=kind, nature=meta.nature, issuer=meta.issuer, source=f"originals/{doc_id}{path.suffix.lower()}"
                        if fmt not in ("txt", "md") else "", format=fmt)
    text = serialize(ex, spec.is_standard)
    parsed = parse_document(spec, text)
    numbered = _numbered(parsed)
    if meta.nature_guessed:
        # no code on the cover (garbled, misread by OCR) and no nature given: the numbering
        # decides between a standard's clauses (6.4.4, a)) and a notice's (一、（一）)
        other = replace(spec, kind="标准", nature="")
        other_text = serialize(ex, True)
        other_parsed = parse_document(other, other_text)
        other_numbered = _numbered(other_parsed)
        if len(other_numbered) > len(numbered):
            spec, text, parsed, numbered = other, other_text, other_parsed, other_numbered
    if not parsed.units:
        raise IngestError(path, "没有提取到任何文字内容。", code="no_clauses")
    if not numbered:
        raise IngestError(path, "未识别出任何编号条款（如“6.4.4”“a)”“一、”“（一）”）：这不像标准或政策文件"
                                "（可能是宣传册或普通文章），未入库。", code="no_clauses")
    tag_units(spec.doc_id, parsed.units, vocab, spec.nature)
    warnings = list(ex.warnings) + [re.sub(r"^[^:]+:(\d+): duplicate label '(.+)', kept as (.+)$",
                                           r"第 \1 行：标号 \2 重复，保留为 \3", w) for w in parsed.warnings]
    warnings += _numbering_warnings(parsed.units)
    if ex.ocr:
        conf = ex.ocr_confidence
        warnings.append(f"使用了 OCR（{ex.ocr_engine}）识别 {sum(p.ocr for p in ex.pages)} 页，"
                        f"平均置信度 {conf:.3f}；请核对条款原文" if conf is not None else "使用了 OCR")
    lines = text.splitlines()
    unplaced = [{"line": s.line, "text": lines[s.line - 1].strip()[:80] if 0 < s.line <= len(lines) else "",
                 "reason": SKIP_ZH.get(s.reason, s.reason)} for s in parsed.skipped]
    unplaced += _fragment_unplaced(parsed.units)
    for p in ex.pages:
        for t, why in p.dropped:
            unplaced.append({"page": p.number, "text": t[:80], "reason": why})
    return IngestResult(path, fmt, spec, text, parsed, ex, warnings, unplaced)


def ingest_file(path: Path, vocab: Vocab, *, doc_id: str | None = None, code: str | None = None,
                title: str | None = None, nature: str | None = None, issuer: str | None = None, ocr_engine=None,
                max_bytes: int | None = None, progress: Progress | None = None,
                data: bytes | None = None) -> IngestResult:
    """Read and parse one file; raises IngestError (Chinese, naming the file) when it cannot be used."""
    path = Path(path)
    if data is None:
        try:
            size = path.stat().st_size
        except FileNotFoundError:
            raise IngestError(path, "文件不存在。", code="not_found") from None
        if max_bytes is not None and size > max_bytes:
            raise IngestError(path, f"文件过大（{size / 2**20:.1f} MB），上限为 {max_bytes / 2**20:.0f} MB"
                                    "（BA_MAX_UPLOAD_MB）。", code="too_large")
        data = path.read_bytes()
    elif max_bytes is not None and len(data) > max_bytes:
        raise IngestError(path, f"文件过大（{len(data) / 2**20:.1f} MB），上限为 {max_bytes / 2**20:.0f} MB。",
                          code="too_large")
    if not data:
        raise IngestError(path, "文件为空。")
    if nature and nature not in NATURES:
        raise IngestError(path, f"文件性质「{nature}」不正确，可选：{'、'.join(NATURES)}。", code="invalid_nature")
    fmt = detect_format(path, data)
    try:
        ex = extract(path, data, fmt, ocr_engine, progress)
    except IngestError:
        raise
    except MemoryError:
        raise IngestError(path, "文件内容过大，内存不足以处理。") from None
    except Exception as exc:  # noqa: BLE001 - a library failing on a malformed file: a message, not a traceback
        raise IngestError(path, f"无法读取文件内容（{type(exc).__name__}）：文件可能已损坏。") from None
    text_for_meta = serialize(ex, True)
    meta = detect_meta(text_for_meta, path)
    if code is not None:
        meta.code = code
    if title:
        meta.title = title
    if nature:
        meta.nature = nature
    meta.nature_guessed = meta.nature_guessed and not nature and not meta.code
    if issuer is not None:
        meta.issuer = issuer
    meta.doc_id = doc_id or (suggest_doc_id(meta.code, meta.title, path) if (code or title) else meta.doc_id)
    if not compact(meta.title):
        raise IngestError(path, "未能从封面识别文件名称，请用 --title 指定。", code="no_title")
    return analyse(path, fmt, ex, meta, vocab)


def summary_lines(result: IngestResult) -> list[str]:
    """The parse report for a person (CLI)."""
    r = result.report()
    out = [f"文件：{r['file']}（{r['format'].upper()}"
           + (f"，{r['pages']} 页" if r["pages"] else "") + (f"，OCR {r['ocr_engine']}" if r["ocr"] else "") + "）",
           f"文件编号：{r['doc_id']}　代号：{r['code'] or '（无）'}　名称：《{r['title']}》　性质：{r['kind']}",
           f"可引用单元：{len(r['units'])} 个",
           "  按类型：" + "、".join(f"{k} {v}" for k, v in sorted(r["by_kind"].items())),
           "  按强度：" + "、".join(f"{STRENGTH_ZH.get(k, k)} {v}" for k, v in sorted(r["by_strength"].items()))]
    if r["ocr"] and r["ocr_confidence"] is not None:
        out.append(f"OCR 平均置信度：{r['ocr_confidence']:.3f}")
    reasons = Counter(u["reason"] for u in r["unplaced"])
    out.append("未归入条款的行：" + ("、".join(f"{k} {v}" for k, v in reasons.items()) or "无"))
    for w in r["warnings"]:
        out.append(f"警告：{w}")
    return out
