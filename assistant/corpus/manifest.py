"""corpus/manifest.toml: the list of source documents and their stable ids."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from assistant.errors import ManifestError

DOC_ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")
SUPPORTED_SUFFIXES = (".txt", ".md")


@dataclass(frozen=True)
class DocumentSpec:
    doc_id: str
    file: str
    title: str
    code: str = ""
    kind: str = ""
    nature: str = ""  # group-standard | national-standard-draft | ministry-notice (vocab/force.toml)
    status: str = ""  # 现行, 征求意见稿, … (empty: not stated)
    issuer: str = ""
    published: str = ""
    effective: str = ""
    note: str = ""
    aliases: tuple[str, ...] = ()  # how users name the document ("广西标准", "红盾指南")
    source: str = ""  # the file as received, kept beside its extracted text (originals/<doc_id>.pdf)
    format: str = ""  # pdf | docx | html | txt | md: what the text was extracted from (documents add)
    ocr: str = ""  # the OCR engine that read it, when it was a scan
    added: str = ""  # when `documents add` added it (ISO date and time)

    @property
    def is_standard(self) -> bool:
        """Standards (GB/T 1.1 numbering) versus notices (一、（一）1. numbering)."""
        return "标准" in self.kind

    @property
    def real_code(self) -> str:
        """The document number, or "" when it is a placeholder ("GB/T XXXXX—XXXX" of a draft
        for comments): a placeholder must never reach an official's document."""
        return "" if re.search(r"X{3,}", self.code or "") else self.code

    @property
    def draft_mark(self) -> str:
        """"（征求意见稿）" for a draft whose number is a placeholder, else ""."""
        if self.real_code or not self.code:
            return ""
        return f"（{self.status}）" if self.status else ""

    @property
    def cite_name(self) -> str:
        """How the document is named in a citation: its code, else its title (a draft
        without a number: its title and 征求意见稿)."""
        return self.real_code or self.title + self.draft_mark

    @property
    def full_name(self) -> str:
        """《区域公用品牌培育服务规范》（T/GXAS 1220—2026）: how an answer names its source."""
        if not self.real_code:
            return f"《{self.title}》{self.draft_mark}"
        return f"《{self.title}》（{self.real_code}）"

    def cite(self, label: str) -> str:
        """〔T/GXAS 1220—2026 6.4.4 b)〕: the reference a person pastes into a document."""
        return f"〔{self.cite_name} {label}〕"


def load_manifest(corpus_dir: Path) -> list[DocumentSpec]:
    path = corpus_dir / "manifest.toml"
    if not path.is_file():
        raise ManifestError(
            f"找不到文件清单 {path}。",
            hint="corpus/ must contain manifest.toml; see corpus/README.md",
        )
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ManifestError(f"文件清单 {path} 格式错误：{exc}") from exc
    entries = data.get("document")
    if not isinstance(entries, list) or not entries:
        raise ManifestError(f"文件清单 {path} 中没有 [[document]] 条目。")
    specs: list[DocumentSpec] = []
    seen: set[str] = set()
    known = set(DocumentSpec.__dataclass_fields__)
    for i, entry in enumerate(entries, 1):
        missing = [k for k in ("doc_id", "file", "title") if not entry.get(k)]
        if missing:
            raise ManifestError(f"文件清单第 {i} 个条目缺少字段：{', '.join(missing)}。")
        doc_id = entry["doc_id"]
        if not DOC_ID_RE.match(doc_id):
            raise ManifestError(
                f"文件清单第 {i} 个条目的 doc_id {doc_id!r} 不合法：只允许小写字母、数字和连字符。"
            )
        if doc_id in seen:
            raise ManifestError(f"文件清单中 doc_id {doc_id!r} 重复。")
        seen.add(doc_id)
        fields = {k: (tuple(str(x) for x in v) if isinstance(v, list) else str(v))
                  for k, v in entry.items() if k in known}
        specs.append(DocumentSpec(**fields))
    return specs
