#!/usr/bin/env python3
"""Draw clause units at random (seeded) for writing an evaluation set, and check a written set.

  draw_units.py draw --seed 20261126 --n 200 > drawn.jsonl
      one JSON line per drawn unit: doc_id, label, kind, heading, text, plus a voice and a
      question type drawn at random, so that whoever writes the questions spreads them over
      the users' voices instead of picking the easy ones. Units are drawn per document by a
      fixed quota (the main standard dominates the unit count, the notices are short).
  draw_units.py check DIR
      every gold [doc_id, label] of DIR/questions.jsonl and DIR/dialogues.jsonl resolves to a
      unit; ids are unique; `lex:` tags are recomputed (lex:low = at most 30 % of the
      question's character bigrams occur in the gold text) and reported where they differ.

Only the parser is used (no index, no retrieval, no answers): writers of a blind set run
this without ever seeing what the system answers.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.corpus.store import load_corpus  # noqa: E402

QUOTA = {"gxas-1220-2026": 0.45, "gbt-cluster-draft": 0.18, "hzas-8-2020": 0.12,
         "miit-pilot-guide": 0.10, "miit-pilot-evaluation": 0.15}
VOICES = ["colloquial", "drafting", "keyword", "long", "synonym", "typo", "traditional", "english", "plain"]
VOICE_WEIGHTS = [16, 10, 12, 12, 16, 8, 8, 8, 10]
TYPES = ["howto", "requirement", "role_duty", "figure", "definition", "mandatory", "scope", "procedure",
         "form_field", "cross_doc", "metadata"]
SKIP_KINDS = {"signature", "fragment"}


def _units(corpus_dir: Path):
    corpus = load_corpus(corpus_dir)
    for doc in corpus.documents.values():
        for u in doc.units:
            if u.kind in SKIP_KINDS or not (u.text or "").strip():
                continue
            yield doc.doc_id, u


def draw(args) -> None:
    rng = random.Random(args.seed)
    by_doc: dict[str, list] = {}
    for doc_id, u in _units(args.corpus):
        by_doc.setdefault(doc_id, []).append(u)
    picked = []
    for doc_id, share in QUOTA.items():
        pool = by_doc.get(doc_id, [])
        n = min(len(pool), round(args.n * share))
        for u in rng.sample(pool, n):
            picked.append((doc_id, u))
    rng.shuffle(picked)
    for doc_id, u in picked:
        print(json.dumps({
            "doc_id": doc_id, "label": u.label, "kind": u.kind, "heading": u.heading_path,
            "title": u.title, "text": u.text,
            "voice": rng.choices(VOICES, VOICE_WEIGHTS)[0], "type_hint": rng.choice(TYPES),
        }, ensure_ascii=False))


def _bigrams(s: str) -> set[str]:
    s = "".join(ch for ch in s if "\u4e00" <= ch <= "\u9fff" or ch.isalnum())
    return {s[i:i + 2] for i in range(len(s) - 1)}


def check(args) -> int:
    corpus = load_corpus(args.corpus)
    problems, seen = [], set()
    def text_of(doc_id, label):
        doc = corpus.documents.get(doc_id)
        if doc is None:
            return None
        u = doc.by_label.get(label)
        if u is None:
            return None
        return doc.full_text(u) + (u.title or "")
    for name in ("questions.jsonl", "unanswerable.jsonl", "dialogues.jsonl"):
        path = Path(args.dir) / name
        if not path.is_file():
            problems.append(f"missing {name}")
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                d = json.loads(line)
            except json.JSONDecodeError as exc:
                problems.append(f"{name}:{n}: not JSON ({exc})")
                continue
            if d.get("id") in seen:
                problems.append(f"{name}:{n}: duplicate id {d.get('id')}")
            seen.add(d.get("id"))
            turns = d.get("turns") or ([d] if "gold" in d else [])
            for t in turns:
                golds = t.get("gold") or []
                texts = []
                for g in golds:
                    txt = text_of(*g)
                    if txt is None and g[1] != "封面":
                        problems.append(f"{name}:{n}: {g} is not a unit")
                    texts.append(txt or "")
                if name == "questions.jsonl" and texts:
                    qb = _bigrams(t["q"])
                    share = len(qb & _bigrams(" ".join(texts))) / (len(qb) or 1)
                    want = "lex:low" if share <= 0.30 else "lex:high"
                    have = [x for x in d.get("tags", []) if x.startswith("lex:")]
                    if have != [want]:
                        problems.append(f"{name}:{n}: {d['id']} lex tag {have} -> {want} ({share:.2f})")
    for p in problems:
        print(p)
    print(f"{len(problems)} problem(s)")
    return 1 if problems else 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", type=Path, default=ROOT / "corpus")
    sub = ap.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser("draw")
    d.add_argument("--seed", type=int, required=True)
    d.add_argument("--n", type=int, default=200)
    c = sub.add_parser("check")
    c.add_argument("dir")
    args = ap.parse_args()
    if args.cmd == "draw":
        draw(args)
        return 0
    return check(args)


if __name__ == "__main__":
    raise SystemExit(main())
