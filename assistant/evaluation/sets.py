"""Evaluation sets in two formats, read into one shape.

- The project's gold format (evals/gold, evals/holdout2): any *.jsonl with
  `{"id", "query", "gold": [[doc_id, label]…], "tags", "filters"?}`; an empty gold is an
  unanswerable question.
- The external-sample format (../shared/evals/external-sample, evals/calibration,
  evals/blind): `questions.jsonl` `{"id", "q", "gold", "tags", "role"?, "phase"?,
  "expect_strength"?, "gold_mode"?}`, `unanswerable.jsonl` `{"id", "q", "why", "kind"}`
  and `dialogues.jsonl` `{"id", "turns": [{"q", "gold", "expect_strength"?}…]}`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from assistant.corpus.store import Corpus
from assistant.errors import AssistantError


@dataclass
class EvalQuestion:
    id: str
    q: str
    gold: list[tuple[str, str]] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    filters: dict = field(default_factory=dict)
    expect_strength: str | None = None
    gold_mode: str = "any"  # any | all: whether one gold unit is enough
    kind: str = ""  # unanswerable only: near_domain | off_domain
    why: str = ""

    @property
    def answerable(self) -> bool:
        return bool(self.gold)

    # the retrieval eval's name for the question text
    @property
    def query(self) -> str:
        return self.q

    def tag(self, prefix: str) -> list[str]:
        return [t.split(":", 1)[1] for t in self.tags if t.startswith(prefix + ":")]


@dataclass
class Dialogue:
    id: str
    turns: list[EvalQuestion]
    tags: list[str] = field(default_factory=list)


@dataclass
class EvalSet:
    name: str
    questions: list[EvalQuestion]
    dialogues: list[Dialogue] = field(default_factory=list)
    unresolved: list[str] = field(default_factory=list)  # gold labels that are not units

    @property
    def answerable(self) -> list[EvalQuestion]:
        return [q for q in self.questions if q.answerable]

    @property
    def unanswerable(self) -> list[EvalQuestion]:
        return [q for q in self.questions if not q.answerable]


def _rows(path: Path):
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            yield n, json.loads(line)
        except json.JSONDecodeError as exc:
            raise AssistantError(f"{path.name}:{n}: 评测集格式错误：{exc}") from exc


def _question(d: dict, text_key: str) -> EvalQuestion:
    return EvalQuestion(
        id=d["id"], q=d[text_key], gold=[(g[0], g[1]) for g in d.get("gold") or []],
        tags=list(d.get("tags") or []), filters=dict(d.get("filters") or {}),
        expect_strength=d.get("expect_strength"), gold_mode=d.get("gold_mode") or "any",
        kind=d.get("kind", ""), why=d.get("why", ""))


def load_eval_set(path: Path, corpus: Corpus | None = None, strict: bool = True) -> EvalSet:
    """Read a set in either format. With a corpus, every gold label must resolve to a unit
    (strict) or is listed in `unresolved` (not strict: a set written for units a later
    version adds, such as 封面, can still be run on an older system)."""
    path = Path(path)
    questions: list[EvalQuestion] = []
    dialogues: list[Dialogue] = []
    try:
        if (path / "questions.jsonl").is_file():
            for n, d in _rows(path / "questions.jsonl"):
                questions.append(_question(d, "q"))
            if (path / "unanswerable.jsonl").is_file():
                for n, d in _rows(path / "unanswerable.jsonl"):
                    questions.append(_question({**d, "gold": []}, "q"))
            if (path / "dialogues.jsonl").is_file():
                for n, d in _rows(path / "dialogues.jsonl"):
                    turns = [_question({**t, "id": f"{d['id']}.{i}"}, "q") for i, t in enumerate(d["turns"], 1)]
                    dialogues.append(Dialogue(d["id"], turns, list(d.get("tags") or [])))
        else:
            for file in sorted(path.glob("*.jsonl")):
                for n, d in _rows(file):
                    q = _question(d, "query")
                    if not q.gold and not q.kind:
                        q.kind = "near_domain"
                    questions.append(q)
    except (KeyError, TypeError, IndexError) as exc:
        raise AssistantError(f"{path}: 评测集格式错误：{exc!r}") from exc
    ids = [q.id for q in questions] + [d.id for d in dialogues]
    dup = sorted({i for i in ids if ids.count(i) > 1})
    if dup:
        raise AssistantError(f"{path}: 评测集中有重复的 id：{', '.join(dup)}")
    unresolved: list[str] = []
    if corpus is not None:
        for q in questions + [t for d in dialogues for t in d.turns]:
            for doc_id, label in q.gold:
                doc = corpus.documents.get(doc_id)
                if doc is None or label not in doc.by_label:
                    unresolved.append(f"{q.id}: {doc_id} {label}")
        if unresolved and strict:
            raise AssistantError(f"{path}: 金标准条款不存在：" + "；".join(unresolved[:10]))
    return EvalSet(path.name, questions, dialogues, unresolved)
