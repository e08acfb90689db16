"""Knowledge-base management: add, replace and remove documents, all or nothing.

A change is prepared entirely aside, in a staging folder next to corpus/ (same file system):
a view of the corpus with the new manifest and text, and a copy of the index that is
updated incrementally there (only the changed document is embedded; the embedding cache
makes a re-added text free). The new corpus must load cleanly and the new index must build
before anything visible is touched. Then the commit swaps the pieces in with renames —
original file, extracted text, manifest, index folder — recording each step, and a failure
at any step undoes the steps already done. A failed add therefore leaves corpus/,
manifest.toml and index/ exactly as they were (tests/test_ingest.py fails it at every step).

Changes are serialised by a lock file (corpus/.kb.lock), across processes.

Adding a document can leave its passage vectors for later (`defer_vectors=True`: the API,
the UI and the CLI do): the add commits in seconds with the document searchable by its
words (BM25 over words and character bigrams), and `complete_vectors()` then embeds it
through the same staged transaction and swaps the finished index in (meta.json's
`dense_pending` says what is still missing; see assistant/index/store.py). A process that
dies in between loses nothing: the next `brand-assistant index`, the serve command's
start-up or another `complete_vectors()` finishes the job.

With a shared Chroma server (CHROMA_HOST) the vectors live on the server, not in index/:
there the collection is updated after the corpus commit, and a failure there restores the
corpus and rebuilds the collection from it (the server cannot be snapshotted from here).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import os
import re
import shutil
import time
import tomllib
import uuid
from pathlib import Path
from typing import Callable

from assistant.corpus.manifest import load_manifest
from assistant.corpus.store import load_corpus
from assistant.errors import AssistantError, CorpusIncompleteError, UnknownDocumentError
from assistant.ingest.errors import DocumentExistsError
from assistant.ingest.pipeline import IngestResult
from assistant.settings import Settings

Progress = Callable[[str, int, int], None]


def checkpoint(step: str) -> None:
    """A named point of the commit; tests replace this to fail there."""


class KnowledgeBaseError(AssistantError):
    """A change to the knowledge base that could not be made (nothing was changed)."""


def _toml_str(v: str) -> str:
    return json.dumps(v, ensure_ascii=False)


def manifest_block(result: IngestResult, aliases: tuple[str, ...] = ()) -> str:
    """The manifest entry of a parsed document; a new edition keeps the old one's aliases
    (how users name the document)."""
    s = result.spec
    fields = [("doc_id", s.doc_id), ("file", s.file), ("code", s.code), ("title", s.title), ("kind", s.kind),
              ("nature", s.nature), ("status", s.status), ("issuer", s.issuer), ("source", s.source),
              ("format", s.format), ("ocr", result.extraction.ocr_engine if result.extraction.ocr else ""),
              ("added", dt.datetime.now().isoformat(timespec="seconds"))]
    lines = ["[[document]]"] + [f"{k} = {_toml_str(v)}" for k, v in fields if v or k in ("code",)]
    if aliases:
        lines.insert(5, f"aliases = {json.dumps(list(aliases), ensure_ascii=False)}")
    return "\n".join(lines) + "\n"


def _split_blocks(text: str) -> tuple[str, list[str]]:
    """manifest.toml as (the head before the first [[document]], the document blocks)."""
    parts = re.split(r"(?m)^(?=\[\[document\]\]\s*$)", text)
    return parts[0], parts[1:]


def _block_id(block: str) -> str | None:
    try:
        return tomllib.loads(block)["document"][0]["doc_id"]
    except (tomllib.TOMLDecodeError, KeyError, IndexError):
        return None


def manifest_with(text: str, doc_id: str, block: str | None) -> str:
    """The manifest with doc_id's entry replaced by block (None: removed; absent: appended)."""
    head, blocks = _split_blocks(text)
    out, done = [], False
    for b in blocks:
        if _block_id(b) == doc_id:
            if block is not None:
                out.append(block + ("\n" if b.endswith("\n\n") else ""))
            done = True
        else:
            out.append(b)
    if not done and block is not None:
        if out and not out[-1].endswith("\n\n"):
            out[-1] = out[-1].rstrip("\n") + "\n\n"
        elif not out and head and not head.endswith("\n\n"):
            head = head.rstrip("\n") + "\n\n"
        out.append(block)
    new = head + "".join(out)
    tomllib.loads(new)  # never write a manifest that does not parse
    return new


class KnowledgeBase:
    def __init__(self, settings: Settings, embed=None) -> None:
        self.settings = settings
        self.corpus_dir = Path(settings.corpus_dir)
        self.index_dir = Path(settings.index_dir)
        self._embed = embed

    # --- reading ---------------------------------------------------------------------

    def pending(self) -> dict[str, int]:
        """Documents of the current index whose passage vectors are still to be computed."""
        from assistant.index.store import _read_meta, dense_pending

        return dense_pending(_read_meta(self.index_dir))

    def list(self) -> list[dict]:
        corpus = load_corpus(self.corpus_dir)
        pending = self.pending()
        rows = []
        for spec in load_manifest(self.corpus_dir):
            doc = corpus.documents.get(spec.doc_id)
            rows.append({"doc_id": spec.doc_id, "code": spec.code, "title": spec.title, "kind": spec.kind,
                         "nature": spec.nature, "status": spec.status, "file": spec.file, "source": spec.source,
                         "format": spec.format or Path(spec.file).suffix.lstrip("."), "ocr": spec.ocr,
                         "added": spec.added, "units": len(doc.units) if doc else 0, "loaded": doc is not None,
                         "vectors_pending": spec.doc_id in pending})
        return rows

    # --- changing ----------------------------------------------------------------------

    @contextlib.contextmanager
    def _locked(self):
        self.corpus_dir.mkdir(parents=True, exist_ok=True)
        with open(self.corpus_dir / ".kb.lock", "w") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def _embedding(self):
        if self._embed is None:
            from assistant.index.embeddings import make_embedding

            s = self.settings
            if not s.embed_threads:
                s = s.model_copy(update={"embed_threads": os.cpu_count() or 1})
            self._embed = make_embedding(s)
        return self._embed

    def add(self, result: IngestResult, original: Path | None = None, *, replace: bool = False,
            progress: Progress | None = None, data: bytes | None = None, defer_vectors: bool = False) -> dict:
        """Add the parsed document (its text, its original file, its manifest entry) and
        update the index; all or nothing. defer_vectors: its passage vectors are left to
        complete_vectors() (module doc); meta["dense_pending"] lists what is left."""
        spec = result.spec
        with self._locked():
            specs = {s.doc_id: s for s in load_manifest(self.corpus_dir)}
            old = specs.get(spec.doc_id)
            if old is not None and not replace:
                raise DocumentExistsError(spec.doc_id, old.title, result.path.name)
            taken = {s.file for s in specs.values() if s.doc_id != spec.doc_id}
            if spec.file in taken or (spec.source and spec.source in {s.source for s in specs.values()
                                                                       if s.doc_id != spec.doc_id}):
                raise KnowledgeBaseError(f"文件「{result.path.name}」：语料中已有名为 {spec.file} 的文件（属于另一份文件），"
                                         "请用 --doc-id 换一个编号。")
            manifest_text = (self.corpus_dir / "manifest.toml").read_text(encoding="utf-8")
            new_manifest = manifest_with(manifest_text, spec.doc_id,
                                         manifest_block(result, old.aliases if old is not None else ()))
            files: dict[str, bytes] = {spec.file: result.text.encode("utf-8")}
            if spec.source:
                files[spec.source] = data if data is not None else Path(original).read_bytes()
            remove = []
            if old is not None:
                remove = [f for f in (old.file, old.source) if f and f not in files]
            meta = self._apply(new_manifest, files, remove, progress, defer_vectors)
        meta["replaced"] = old is not None
        return meta

    def complete_vectors(self, progress: Progress | None = None) -> dict | None:
        """Embed the documents whose vectors were deferred and swap the finished index in,
        all or nothing (the corpus is not changed). None when nothing was pending."""
        if self.settings.chroma_host:
            return None  # vectors on a server are built at the add (see the module doc)
        with self._locked():
            if not self.pending():
                return None
            manifest_text = (self.corpus_dir / "manifest.toml").read_text(encoding="utf-8")
            return self._apply(manifest_text, {}, [], progress, False)

    def remove(self, doc_id: str) -> dict:
        with self._locked():
            specs = {s.doc_id: s for s in load_manifest(self.corpus_dir)}
            if doc_id not in specs:
                raise UnknownDocumentError(doc_id, list(specs))
            if len(specs) == 1:
                raise KnowledgeBaseError(f"不能删除最后一份文件（{doc_id}）：知识库至少要有一份文件。")
            spec = specs[doc_id]
            manifest_text = (self.corpus_dir / "manifest.toml").read_text(encoding="utf-8")
            new_manifest = manifest_with(manifest_text, doc_id, None)
            meta = self._apply(new_manifest, {}, [f for f in (spec.file, spec.source) if f], None)
        meta["title"] = spec.title
        return meta

    # --- the transaction -------------------------------------------------------------------

    def _apply(self, new_manifest: str, files: dict[str, bytes], remove: list[str],
               progress: Progress | None, defer_vectors: bool = False) -> dict:
        t0 = time.perf_counter()
        current = load_corpus(self.corpus_dir)
        if current.errors:
            from assistant.index.store import corpus_problems

            raise CorpusIncompleteError(corpus_problems(current))
        stage = self.corpus_dir.parent / f".kb-staging-{uuid.uuid4().hex[:8]}"
        try:
            view = stage / "corpus"
            view.mkdir(parents=True)
            for entry in self.corpus_dir.iterdir():
                if entry.name in ("manifest.toml", ".kb.lock") or entry.name in remove or entry.name in files:
                    continue
                (view / entry.name).symlink_to(entry.resolve())
            (view / "manifest.toml").write_text(new_manifest, encoding="utf-8")
            for rel, data in files.items():
                target = view / rel
                if rel.startswith("originals/"):
                    continue  # the original is not read by the corpus loader
                target.write_bytes(data)
            corpus = load_corpus(view)
            if corpus.errors:
                raise KnowledgeBaseError("新的语料未能加载：" + "；".join(e.message for e in corpus.errors))
            checkpoint("staged-corpus")
            meta = self._build_index(corpus, stage, progress, defer_vectors)
            checkpoint("staged-index")
            self._commit(stage, new_manifest, files, remove)
        finally:
            shutil.rmtree(stage, ignore_errors=True)
            _forget_chroma_clients()
        meta["seconds"] = round(time.perf_counter() - t0, 2)
        return meta

    def _build_index(self, corpus, stage: Path, progress: Progress | None, defer_vectors: bool = False) -> dict:
        from assistant.index.chroma import building
        from assistant.index.store import build_index

        s = self.settings
        staged = stage / "index"
        if s.chroma_host:  # the vectors are on the server: built after the commit (see module doc)
            return {"embedded_now": None, "deferred": True}
        if self.index_dir.exists():
            shutil.copytree(self.index_dir, staged, symlinks=True)
        settings = s.model_copy(update={"index_dir": staged, "corpus_dir": corpus.root})

        def embed_progress(done: int, total: int) -> None:
            if progress:
                progress("embed", done, total)

        with building(settings):
            meta = build_index(corpus, settings, self._embedding(), progress=embed_progress,
                               defer_dense=defer_vectors)
        _forget_chroma_clients()
        return {k: meta.get(k) for k in ("nodes", "embedded_now", "computed_by_model", "reembedded_docs",
                                         "dense_pending", "build_seconds")}

    def _commit(self, stage: Path, new_manifest: str, files: dict[str, bytes], remove: list[str]) -> None:
        """Swap the staged pieces in; undo the steps done if one fails."""
        undo: list[Callable[[], None]] = []
        backup = stage / "backup"
        backup.mkdir()
        try:
            for rel in remove:
                src = self.corpus_dir / rel
                if src.exists():
                    dst = backup / rel.replace("/", "__")
                    os.replace(src, dst)
                    undo.append(lambda s=src, d=dst: os.replace(d, s))
                checkpoint("removed-file")
            for rel, data in files.items():
                target = self.corpus_dir / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex[:6]}.part")
                tmp.write_bytes(data)
                if target.exists():
                    old = backup / (rel.replace("/", "__") + ".old")
                    os.replace(target, old)
                    undo.append(lambda t=target, o=old: os.replace(o, t))
                else:
                    undo.append(lambda t=target: t.unlink(missing_ok=True))
                os.replace(tmp, target)
                checkpoint("wrote-file")
            manifest = self.corpus_dir / "manifest.toml"
            saved = backup / "manifest.toml"
            shutil.copy2(manifest, saved)
            tmp = manifest.with_name(f".manifest.toml.{uuid.uuid4().hex[:6]}.part")
            tmp.write_text(new_manifest, encoding="utf-8")
            os.replace(tmp, manifest)
            undo.append(lambda: os.replace(saved, manifest))
            checkpoint("wrote-manifest")
            staged = stage / "index"
            if staged.exists():
                old_index = stage / "index-old"
                had_index = self.index_dir.exists()
                if had_index:
                    os.replace(self.index_dir, old_index)
                    undo.append(lambda: os.replace(old_index, self.index_dir))
                os.replace(staged, self.index_dir)
                undo.append(lambda: os.replace(self.index_dir, staged))
                checkpoint("swapped-index")
            elif self.settings.chroma_host:
                self._rebuild_on_server()
                checkpoint("server-index")
        except BaseException:
            for step in reversed(undo):
                try:
                    step()
                except OSError:  # pragma: no cover - nothing better to do; keep undoing
                    pass
            _forget_chroma_clients()
            if self.settings.chroma_host:
                with contextlib.suppress(Exception):
                    self._rebuild_on_server()
            raise

    def _rebuild_on_server(self) -> None:
        from assistant.index.chroma import building
        from assistant.index.store import build_index

        corpus = load_corpus(self.corpus_dir)
        with building(self.settings):
            build_index(corpus, self.settings, self._embedding())


def _forget_chroma_clients() -> None:
    """chromadb keeps one client per path in the process; after the index folder was swapped
    the next open must read the new files."""
    try:
        from chromadb.api.client import SharedSystemClient

        SharedSystemClient.clear_system_cache()
    except Exception:  # noqa: BLE001 - an older or newer chromadb without it
        pass
