"""Load the whole corpus: manifest → parse → tag, with per-file error isolation."""

from __future__ import annotations

import difflib
import functools
import re
import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from assistant.corpus.manifest import SUPPORTED_SUFFIXES, DocumentSpec, load_manifest
from assistant.corpus.model import Clause, SkippedLine
from assistant.corpus.parse import compact, label_key, parse_document
from assistant.corpus.tag import tag_units
from assistant.corpus.vocab import Vocab, load_vocab
from assistant.errors import CorpusFileError, UnknownClauseError, UnknownDocumentError
from assistant.textutil import cjk_pairs


@dataclass
class Document:
    spec: DocumentSpec
    units: list[Clause]
    skipped: list[SkippedLine]
    sha256: str
    source_lines: list[str]
    warnings: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.by_label = {u.label: u for u in self.units}
        self._by_key: dict[str, list[str]] = {}
        for u in self.units:
            self._by_key.setdefault(label_key(u.label), []).append(u.label)

    @property
    def doc_id(self) -> str:
        return self.spec.doc_id

    def find(self, label: str) -> Clause:
        """Exact label, else a tolerant match (`三（五）` finds `三、（五）`)."""
        if label in self.by_label:
            return self.by_label[label]
        hits = self._by_key.get(label_key(label), [])
        if len(hits) == 1:
            return self.by_label[hits[0]]
        near = hits or difflib.get_close_matches(label, list(self.by_label), n=5, cutoff=0.5)
        raise UnknownClauseError(self.doc_id, label, near)

    @functools.cached_property
    def compact_source(self) -> str:
        """The source file as a reader sees it (Markdown heading/bold markup removed),
        without whitespace: what "verbatim and contiguous in the source" is checked against."""
        markdown = self.spec.file.endswith(".md")
        lines = []
        for line in self.source_lines:
            if markdown:
                line = re.sub(r"^\s*#{1,6}\s*", "", line).replace("**", "")
            lines.append(line)
        return compact("\n".join(lines))

    def children(self, unit: Clause) -> list[Clause]:
        return [self.by_label[c] for c in unit.children]

    def descendants(self, unit: Clause) -> list[Clause]:
        out: list[Clause] = []
        for c in self.children(unit):
            out.append(c)
            out.extend(self.descendants(c))
        return out

    def full_text(self, unit: Clause) -> str:
        """The unit with everything under it, as it reads in the source."""
        parts = [unit.text] if unit.text else []
        for c in self.descendants(unit):
            if c.text:
                parts.append(c.label.split(" ")[-1] + " " + c.text if c.kind == "item" else c.text)
        return "\n".join(parts)


@dataclass
class Corpus:
    root: Path
    documents: dict[str, Document]
    vocab: Vocab
    errors: list[CorpusFileError] = field(default_factory=list)
    _pairs: dict = field(default_factory=dict, repr=False, compare=False)

    def doc(self, doc_id: str) -> Document:
        try:
            return self.documents[doc_id]
        except KeyError:
            raise UnknownDocumentError(doc_id, list(self.documents)) from None

    def clause(self, doc_id: str, label: str) -> Clause:
        return self.doc(doc_id).find(label)

    def units(self) -> list[Clause]:
        return [u for d in self.documents.values() for u in d.units]

    def fingerprint(self) -> dict[str, str]:
        return {d: doc.sha256 for d, doc in self.documents.items()}

    def pair_counts(self) -> tuple[dict[str, int], int]:
        """For each pair of adjacent Chinese characters, how many units' title or text has it
        (品牌 453 of 839, 侵权 8), and the number of units: a pair most units share identifies
        none of them."""
        key = tuple(sorted(self.fingerprint().items()))
        if key not in self._pairs:
            units = self.units()
            counts: dict[str, int] = {}
            for u in units:
                for pair in cjk_pairs(f"{u.title or ''}{u.text}"):
                    counts[pair] = counts.get(pair, 0) + 1
            self._pairs.clear()
            self._pairs[key] = (counts, len(units))
        return self._pairs[key]


def read_source(path: Path) -> str:
    """Read a source file as UTF-8 (BOM tolerated), or raise CorpusFileError naming it."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise CorpusFileError(str(path), "文件不存在（manifest.toml 中登记了该文件）。") from None
    if not data.strip():
        raise CorpusFileError(str(path), "文件为空。")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CorpusFileError(
            str(path), f"不是 UTF-8 编码（第 {exc.start} 字节处解码失败）。",
            hint="请将文件另存为 UTF-8 编码后重试 (re-save the file as UTF-8).",
        ) from None


def load_corpus(root: Path, vocab: Vocab | None = None) -> Corpus:
    """Parse every document of the manifest; a bad file is reported, the others still load."""
    root = Path(root)
    specs = load_manifest(root)
    vocab = vocab or load_vocab(root / "vocab")
    docs: dict[str, Document] = {}
    errors: list[CorpusFileError] = []
    for spec in specs:
        path = root / spec.file
        try:
            if path.suffix not in SUPPORTED_SUFFIXES:
                raise CorpusFileError(str(path), f"不支持的文件类型 {path.suffix}（仅支持 .txt、.md）。")
            text = read_source(path)
            result = parse_document(spec, text)
            if not result.units:
                raise CorpusFileError(str(path), "未能解析出任何条款。")
        except CorpusFileError as exc:
            exc.doc_id = spec.doc_id  # a listed document that failed: never dropped silently
            errors.append(exc)
            continue
        tag_units(spec.doc_id, result.units, vocab, spec.nature)
        docs[spec.doc_id] = Document(
            spec=spec, units=result.units, skipped=result.skipped,
            sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
            source_lines=text.splitlines(), warnings=result.warnings,
        )
    listed = {s.file for s in specs}
    for path in sorted(root.iterdir()):
        if (path.is_file() and path.suffix in SUPPORTED_SUFFIXES and path.name not in listed
                and path.name.lower() != "readme.md"):
            errors.append(CorpusFileError(
                str(path), "未在 manifest.toml 中登记，已跳过。",
                hint="Add a [[document]] entry with doc_id/file/title to corpus/manifest.toml.",
            ))
    return Corpus(root=root, documents=docs, vocab=vocab, errors=errors)
