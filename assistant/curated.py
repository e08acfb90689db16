"""Curated question → units pairs: the admin loop's corrections (MaxKB's 关联问题, Dify's
annotation replies), stored as data in git under corpus/curated/*.jsonl.

One JSON object per line:
  {"id", "question", "units": [[doc_id, label], …], "note", "created_at", "source": {"session_id",
   "turn"}, "author"}

- Every unit is checked against the corpus when a pair is saved (a label is resolved
  tolerantly and stored in its canonical form) and again when the files are loaded; a row
  whose unit no longer exists is skipped and reported (`problems`), never cited.
- A question is matched two ways (assistant/retrieval/retriever.py applies them): the same
  question after normalisation (punctuation, spacing, traditional characters, full-width
  forms) is answered with the pair's units; a similar one (dense similarity of the analysed
  questions) gets those units lifted in retrieval.
- Pairs are exported as gold rows in the external-sample format (`brand-assistant curated
  export`), and `brand-assistant eval` reports them separately: every correction is a
  regression test.

Several processes (API workers, the UI) share the files: writes hold an exclusive lock and
are fsynced; readers reload when a file's size or mtime changes (one stat per question).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import re
import threading
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from assistant.corpus.store import Corpus
from assistant.errors import CuratedPairError, StorageUnavailableError, UnknownClauseError, UnknownDocumentError
from assistant.textutil import is_blank

log = logging.getLogger("assistant.curated")
ADMIN_FILE = "admin.jsonl"  # where the admin page's corrections go
MAX_UNITS = 8
_PUNCT = re.compile(r"[\s\u3000，。、；：？！,.;:?!…“”‘’\"'（）()《》〈〉【】\[\]{}<>·—\-~～]+")


def question_key(text: str) -> str:
    """The form two questions must share to be "the same question": normalised (simplified
    characters, half-width forms, lower case) without punctuation or spaces."""
    from assistant.retrieval.query import normalize

    return _PUNCT.sub("", normalize(text)).lower()


@dataclass
class CuratedPair:
    id: str
    question: str
    units: list[tuple[str, str]]
    note: str = ""
    created_at: str = ""
    source: dict = field(default_factory=dict)
    author: str = ""
    file: str = ""  # the file it was read from (not stored in the row)

    @property
    def key(self) -> str:
        return question_key(self.question)

    def row(self) -> dict:
        d = asdict(self)
        d.pop("file")
        d["units"] = [list(u) for u in self.units]
        return d

    def to_dict(self) -> dict:
        return {**self.row(), "file": self.file}


@dataclass
class CuratedMatch:
    pair: CuratedPair
    similarity: float
    exact: bool


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def pair_id(question: str, units: list[tuple[str, str]]) -> str:
    raw = question_key(question) + "|" + "|".join(f"{d}:{lab}" for d, lab in units)
    return "cur-" + hashlib.sha1(raw.encode("utf-8")).hexdigest()[:10]


class CuratedStore:
    """The curated pairs of one directory, checked against one corpus."""

    def __init__(self, path: Path, corpus: Corpus) -> None:
        self.path = Path(path)
        self.corpus = corpus
        self.pairs: list[CuratedPair] = []
        self.problems: list[dict] = []  # rows skipped: {"file", "line", "reason"}
        self.version = 0  # bumped on every (re)load, for caches of derived data
        self._stamp: tuple | None = None
        self._lock = threading.RLock()
        self.reload()

    # -- reading ---------------------------------------------------------------------
    def _files(self) -> list[Path]:
        return sorted(self.path.glob("*.jsonl")) if self.path.is_dir() else []

    def _current_stamp(self) -> tuple:
        out = []
        for f in self._files():
            try:
                st = f.stat()
            except OSError:
                continue
            out.append((f.name, st.st_size, st.st_mtime_ns))
        return tuple(out)

    def reload_if_changed(self) -> bool:
        stamp = self._current_stamp()
        if stamp == self._stamp:
            return False
        self.reload(stamp)
        return True

    def reload(self, stamp: tuple | None = None) -> None:
        with self._lock:
            stamp = stamp if stamp is not None else self._current_stamp()
            pairs: list[CuratedPair] = []
            problems: list[dict] = []
            for f in self._files():
                try:
                    lines = f.read_text(encoding="utf-8").splitlines()
                except (OSError, UnicodeDecodeError) as exc:
                    problems.append({"file": f.name, "line": 0, "reason": f"无法读取：{exc}"})
                    continue
                for n, line in enumerate(lines, 1):
                    if not line.strip():
                        continue
                    try:
                        d = json.loads(line)
                        question, units = self.validate(d["question"], d["units"])
                        pairs.append(CuratedPair(id=d.get("id") or pair_id(question, units), question=question,
                                                 units=units, note=d.get("note", ""),
                                                 created_at=d.get("created_at", ""), source=d.get("source") or {},
                                                 author=d.get("author", ""), file=f.name))
                    except CuratedPairError as exc:
                        problems.append({"file": f.name, "line": n, "reason": exc.message})
                    except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
                        problems.append({"file": f.name, "line": n, "reason": f"格式错误：{exc!r}"})
            # the same question curated twice: the later row wins
            latest: dict[str, CuratedPair] = {}
            for p in pairs:
                latest.pop(p.key, None)
                latest[p.key] = p
            self.pairs = list(latest.values())
            self.problems = problems
            self._stamp = stamp
            self.version += 1
            for p in problems:
                log.warning("curated pair skipped: %s:%s %s", p["file"], p["line"], p["reason"])

    # -- checking --------------------------------------------------------------------
    def validate(self, question, units) -> tuple[str, list[tuple[str, str]]]:
        """(the question, the units with canonical labels), or CuratedPairError in Chinese."""
        if not isinstance(question, str) or is_blank(question):
            raise CuratedPairError("问题不能为空。")
        question = question.strip()
        if len(question) > 500:
            raise CuratedPairError(f"问题过长（{len(question)} 字），请控制在 500 字以内。")
        if not question_key(question):
            raise CuratedPairError("问题只含标点，无法匹配。")
        if not isinstance(units, (list, tuple)) or not units:
            raise CuratedPairError("请至少选择一个条款。")
        if len(units) > MAX_UNITS:
            raise CuratedPairError(f"一次最多选择 {MAX_UNITS} 个条款（收到 {len(units)} 个）。")
        out: list[tuple[str, str]] = []
        for u in units:
            if isinstance(u, dict):
                u = (u.get("doc_id"), u.get("clause") or u.get("label"))
            if not isinstance(u, (list, tuple)) or len(u) != 2 or not all(isinstance(x, str) and x for x in u):
                raise CuratedPairError(f"条款应写成 [文件编号, 条款标号]，收到 {u!r}。")
            doc_id, label = u
            try:
                unit = self.corpus.clause(doc_id, label)
            except UnknownDocumentError as exc:
                raise CuratedPairError(exc.message) from None
            except UnknownClauseError as exc:
                raise CuratedPairError(exc.message, near=exc.near) from None
            if not (unit.text or unit.title):
                raise CuratedPairError(f"条款 {doc_id} {unit.label} 没有可引用的文字。")
            if (doc_id, unit.label) not in out:
                out.append((doc_id, unit.label))
        return question, out

    # -- writing ---------------------------------------------------------------------
    @contextmanager
    def _locked(self):
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            lock = open(self.path / ".lock", "a+")
        except OSError as exc:
            raise StorageUnavailableError(f"纠正数据目录 {self.path} 不可写：{exc.strerror or exc}。") from exc
        try:
            fcntl.flock(lock, fcntl.LOCK_EX)
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
            lock.close()

    def _rewrite(self, f: Path, keep) -> int:
        """Rewrite one file keeping the rows keep(row) accepts; returns rows dropped."""
        try:
            lines = f.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError):
            return 0
        kept, dropped = [], 0
        for line in lines:
            try:
                row = json.loads(line) if line.strip() else None
            except json.JSONDecodeError:
                row = None
            if row is not None and not keep(row):
                dropped += 1
            else:
                kept.append(line)
        if dropped:
            tmp = f.with_suffix(".jsonl.tmp")
            with open(tmp, "w", encoding="utf-8") as out:
                out.write("".join(x + "\n" for x in kept if x.strip()))
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, f)
        return dropped

    def add(self, question: str, units, *, note: str = "", source: dict | None = None,
            author: str = "") -> CuratedPair:
        """Check and store a pair in corpus/curated/admin.jsonl; an earlier pair for the same
        question (in any file) is replaced."""
        question, units = self.validate(question, units)
        note = (note or "").strip()[:500]
        pair = CuratedPair(id=pair_id(question, units), question=question, units=units, note=note,
                           created_at=_now(), source=dict(source or {}), author=author, file=ADMIN_FILE)
        key = pair.key
        try:
            with self._locked():
                for f in self._files():
                    self._rewrite(f, lambda row: question_key(str(row.get("question", ""))) != key)
                with open(self.path / ADMIN_FILE, "a", encoding="utf-8") as out:
                    out.write(json.dumps(pair.row(), ensure_ascii=False) + "\n")
                    out.flush()
                    os.fsync(out.fileno())
        except OSError as exc:
            raise StorageUnavailableError(f"纠正未能保存（{exc.strerror or exc}），请检查 {self.path} 是否可写。") from exc
        self.reload()
        return next(p for p in self.pairs if p.id == pair.id)

    def remove(self, pid: str) -> bool:
        """Delete a pair by id from whichever file holds it; False when there is none."""
        dropped = 0
        try:
            with self._locked():
                for f in self._files():
                    dropped += self._rewrite(f, lambda row: row.get("id") != pid)
        except OSError as exc:
            raise StorageUnavailableError(f"纠正未能删除（{exc.strerror or exc}）。") from exc
        self.reload()
        return dropped > 0

    # -- matching --------------------------------------------------------------------
    def exact(self, question: str) -> CuratedPair | None:
        self.reload_if_changed()
        key = question_key(question)
        return next((p for p in reversed(self.pairs) if p.key == key), None)

    # -- as gold rows ----------------------------------------------------------------
    def gold_rows(self) -> list[dict]:
        """The pairs in the external-sample format (questions.jsonl: id, q, gold, tags)."""
        self.reload_if_changed()
        return [{"id": p.id, "q": p.question, "gold": [list(u) for u in p.units],
                 "tags": ["source:curated", f"file:{p.file}"] + (["from:feedback"] if p.source else [])}
                for p in self.pairs]

    def export(self, out_dir: Path) -> Path:
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        path = out_dir / "questions.jsonl"
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in self.gold_rows()),
                        encoding="utf-8")
        return path

    def eval_set(self):
        from assistant.evaluation.sets import EvalQuestion, EvalSet

        return EvalSet("curated", [EvalQuestion(r["id"], r["q"], [tuple(g) for g in r["gold"]], r["tags"])
                                   for r in self.gold_rows()])
