"""The load benchmark's question list: distinct questions that are not the gold set.

Written from the corpus, deterministically (no randomness), so the list is the same on
every machine: one question per titled unit (three templates in rotation), every role
in every life-cycle phase, "what is X" for every defined term, and the held-out set
(evals/holdout2). Duplicates are dropped; the benchmark needs at least 300.

    .venv/bin/python benchmarks/questions.py        # rewrites benchmarks/questions.jsonl
"""

from __future__ import annotations

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "benchmarks" / "questions.jsonl"
SKIP_TITLES = {"前言", "引言", "范围", "规范性引用文件", "术语和定义", "缩略语", "目次", "附录"}
TEMPLATES = ["{t}有哪些要求？", "关于{t}，文件是怎么规定的？", "{t}具体应该怎么做？"]
LIFECYCLE = ["初创构建期", "成长扩张期", "成熟稳定期", "更新升级期"]


def _clean(title: str) -> str:
    title = re.sub(r"\s+[A-Za-z][A-Za-z ,\-()]*$", "", title).strip()  # the English name of a term
    return re.sub(r"^[（(]?[一二三四五六七八九十\d]+[）)、.]\s*", "", title).strip()


def build() -> list[str]:
    from assistant.corpus.store import load_corpus

    corpus = load_corpus(ROOT / "corpus")
    gold = {json.loads(x)["query"] for p in (ROOT / "evals" / "gold").glob("*.jsonl")
            for x in p.read_text(encoding="utf-8").splitlines() if x.strip()}
    out: list[str] = []
    k = 0
    for doc in corpus.documents.values():
        for u in doc.units:
            if not u.title or u.kind == "term":
                continue
            t = _clean(u.title)
            if len(t) < 2 or t in SKIP_TITLES or t.startswith(("附件", "表", "图")):
                continue
            out.append(TEMPLATES[k % len(TEMPLATES)].format(t=t))
            k += 1
    for role in corpus.vocab.roles:
        for phase in LIFECYCLE:
            out.append(f"{role.id}在{phase}要做什么？")
    for doc in corpus.documents.values():
        for u in doc.units:
            if u.kind == "term" and u.title:
                out.append(f"{_clean(u.title)}是什么意思？")
    holdout = ROOT / "evals" / "holdout2" / "holdout2.jsonl"
    out += [json.loads(x)["query"] for x in holdout.read_text(encoding="utf-8").splitlines() if x.strip()]
    return [q for q in dict.fromkeys(out) if q not in gold]


def load(path: Path = OUT) -> list[str]:
    return [json.loads(x)["question"] for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]


if __name__ == "__main__":
    qs = build()
    OUT.write_text("".join(json.dumps({"question": q}, ensure_ascii=False) + "\n" for q in qs), encoding="utf-8")
    print(f"{len(qs)} distinct questions (none from evals/gold) → {OUT.relative_to(ROOT)}")
