"""Answer eval: each question through the chat service, scored the way users judge it.

Metrics (one row of the issue-12 table each):
- answer_hit: answerable questions whose answer (answered or partial) cites a gold unit
  (gold_mode "all": every gold unit). A cited unit counts for a gold [doc, label] when it
  is that unit or lies inside it (6.4.4 g) counts for 6.4.4; 6.4.4 does not count for
  6.4.4 g)).
- none_on_answerable: answerable questions answered "none" (no provisions at all).
- near_domain_answered: near-domain unanswerable questions claimed as "answered".
- answered_precision: "answered" claims whose question is answerable.
- answered_rate: answerable questions labelled "answered".
- citation_precision: cited units in a gold unit's family (same clause, its items, inside
  the gold, or containing it) / all cited units, over answerable questions.
- strength: questions with expect_strength whose answer states that strength for the
  gold unit.
- dialogue_turns: turns of multi-turn dialogues whose answer cites a turn gold unit (and
  states the expected strength where one is given); a turn with no gold and a `kind`
  (near_domain, off_domain) is right when its answer claims nothing ("partial" or "none").
- recall@5: retrieval, a gold unit among the top 5 search results (a result counts with
  the items that matched inside it).
- verbatim: quotes that are verbatim and contiguous in the source file (parts joined with
  "……" each contiguous), over every citation and related citation shown.

A system that predates the three outcomes (no `coverage` on its answers) is read as
supported → answered, not supported → none.
"""

from __future__ import annotations

import time
import tomllib
from collections import defaultdict
from pathlib import Path

from assistant.corpus.store import Corpus
from assistant.evaluation.retrieval import _credited
from assistant.evaluation.sets import EvalQuestion, EvalSet

COVERAGES = ("answered", "partial", "none")


def coverage_of(answer) -> str:
    cov = getattr(answer, "coverage", None)
    if cov in COVERAGES:
        return cov
    return "answered" if answer.supported else "none"


def _family_root(corpus: Corpus, doc_id: str, label: str) -> str:
    """The clause a unit belongs to: itself, or the nearest ancestor that is not an item/note."""
    doc = corpus.documents.get(doc_id)
    u = doc.by_label.get(label) if doc else None
    if u is None:
        return label
    while u.kind in ("item", "note", "table-row") and u.parent:
        u = doc.by_label[u.parent]
    return u.label


def credits(corpus: Corpus, cited: list[tuple[str, str]], gold: tuple[str, str]) -> bool:
    return any(_credited(corpus, [lab], d, gold) for d, lab in cited)


def hit(corpus: Corpus, cited: list[tuple[str, str]], q: EvalQuestion) -> bool:
    found = [credits(corpus, cited, g) for g in q.gold]
    return all(found) if q.gold_mode == "all" else any(found)


def relevant(corpus: Corpus, cite: tuple[str, str], gold: list[tuple[str, str]]) -> bool:
    d, lab = cite
    roots = {(g[0], _family_root(corpus, *g)) for g in gold}
    return ((d, _family_root(corpus, d, lab)) in roots
            or any(_credited(corpus, [lab], d, g) or _credited(corpus, [g[1]], g[0], (d, lab)) for g in gold))


def stated_strength(corpus: Corpus, answer, q: EvalQuestion) -> str | None:
    """The strength the answer gives for the question's gold unit: the answer's own
    `strength` claim when it makes one, else that of the first citation of a gold unit."""
    claimed = getattr(answer, "strength", None)
    if claimed:
        return claimed
    for c in answer.citations:
        if any(_credited(corpus, [c.label], c.doc_id, g) for g in q.gold):
            return c.strength
    return None


def _rate(n: int, d: int) -> float:
    return round(n / d, 4) if d else 0.0


class _Tally:
    def __init__(self) -> None:
        self.n = defaultdict(int)

    def add(self, key: str, value: bool | int = 1) -> None:
        self.n[key] += int(value)


def run_answer_eval(chat, evalset: EvalSet | list[EvalQuestion], *, retrieval: bool = True,
                    details: bool = True) -> dict:
    """Run every question (fresh session each) and every dialogue (one session each)."""
    from assistant.answer.citations import quote_in_source

    if isinstance(evalset, list):
        evalset = EvalSet("gold", evalset)
    corpus = chat.index.corpus
    t0 = time.perf_counter()
    rows: list[dict] = []
    cites_total = cites_relevant = verbatim_ok = verbatim_total = 0
    bad_quotes: list[str] = []

    def check_quotes(answer, qid: str) -> None:
        nonlocal verbatim_ok, verbatim_total
        for c in answer.citations + answer.related:
            verbatim_total += 1
            if quote_in_source(corpus, c):
                verbatim_ok += 1
            else:
                bad_quotes.append(f"{qid}: {c.cite}")

    for q in evalset.questions:
        answer, _, _ = chat.ask(q.q)
        cov = coverage_of(answer)
        cited = [(c.doc_id, c.label) for c in answer.citations]
        row = {"id": q.id, "answerable": q.answerable, "kind": q.kind, "coverage": cov,
               "voice": (q.tag("voice") or ["-"])[0], "types": q.tag("type") or ["-"],
               "cited": [f"{d} {lab}" for d, lab in cited]}
        if q.answerable:
            row["hit"] = cov != "none" and hit(corpus, cited, q)
            for c in cited:
                cites_total += 1
                cites_relevant += relevant(corpus, c, q.gold)
            if q.expect_strength:
                got = stated_strength(corpus, answer, q)
                row["strength"] = got == q.expect_strength
                row["strength_got"] = got
            if retrieval:
                hits = chat.retriever.search(q.q, top_k=5)
                row["r5"] = hit(corpus, [(h.doc_id, lab) for h in hits for lab in h.labels], 
                                EvalQuestion(q.id, q.q, q.gold))
        check_quotes(answer, q.id)
        rows.append(row)

    turns: list[dict] = []
    for d in evalset.dialogues:
        sid = None
        for t in d.turns:
            answer, sid, _ = chat.ask(t.q, session_id=sid)
            cited = [(c.doc_id, c.label) for c in answer.citations]
            if not t.gold and t.kind:  # a turn the documents cannot answer: no "answered" claim
                ok = coverage_of(answer) != "answered"
            else:
                ok = coverage_of(answer) != "none" and hit(corpus, cited, t)
            if ok and t.expect_strength:
                ok = stated_strength(corpus, answer, t) == t.expect_strength
            turns.append({"id": t.id, "ok": ok, "coverage": coverage_of(answer),
                          "cited": [f"{x} {y}" for x, y in cited]})
            check_quotes(answer, t.id)

    ans = [r for r in rows if r["answerable"]]
    near = [r for r in rows if not r["answerable"] and r["kind"] != "off_domain"]
    off = [r for r in rows if not r["answerable"] and r["kind"] == "off_domain"]
    answered = [r for r in rows if r["coverage"] == "answered"]
    strength_rows = [r for r in ans if "strength" in r]
    out = {
        "set": evalset.name,
        "answerable": len(ans), "near_domain": len(near), "off_domain": len(off),
        "dialogues": len(evalset.dialogues), "dialogue_turns_total": len(turns),
        "answer_hit": _rate(sum(r["hit"] for r in ans), len(ans)),
        "none_on_answerable": _rate(sum(r["coverage"] == "none" for r in ans), len(ans)),
        "near_domain_answered": _rate(sum(r["coverage"] == "answered" for r in near), len(near)),
        "near_domain_answered_n": sum(r["coverage"] == "answered" for r in near),
        "off_domain_none": _rate(sum(r["coverage"] == "none" for r in off), len(off)),
        "answered_precision": _rate(sum(r["answerable"] for r in answered), len(answered)),
        "answered_rate": _rate(sum(r["coverage"] == "answered" for r in ans), len(ans)),
        "partial_rate": _rate(sum(r["coverage"] == "partial" for r in ans), len(ans)),
        "citation_precision": _rate(cites_relevant, cites_total),
        "citations_per_answer": round(cites_total / len(ans), 2) if ans else 0.0,
        "strength": _rate(sum(r["strength"] for r in strength_rows), len(strength_rows)),
        "strength_n": f"{sum(r['strength'] for r in strength_rows)}/{len(strength_rows)}",
        "dialogue_turns": _rate(sum(t["ok"] for t in turns), len(turns)),
        "dialogue_turns_n": f"{sum(t['ok'] for t in turns)}/{len(turns)}",
        "recall@5": _rate(sum(r.get("r5", False) for r in ans), len(ans)) if retrieval else None,
        "verbatim": _rate(verbatim_ok, verbatim_total) if verbatim_total else 1.0,
        "verbatim_n": f"{verbatim_ok}/{verbatim_total}",
        "seconds": round(time.perf_counter() - t0, 2),
    }
    out["by_voice"] = _breakdown(ans, near, lambda r: [r["voice"]])
    out["by_type"] = _breakdown(ans, [], lambda r: r["types"])
    if details:
        out["missed"] = [r["id"] for r in ans if not r["hit"]]
        out["none_answerable_ids"] = [r["id"] for r in ans if r["coverage"] == "none"]
        out["answered_unanswerable_ids"] = [r["id"] for r in near + off if r["coverage"] == "answered"]
        out["strength_wrong"] = [f"{r['id']} got {r['strength_got']}" for r in strength_rows if not r["strength"]]
        out["dialogue_turns_wrong"] = [t["id"] for t in turns if not t["ok"]]
        out["bad_quotes"] = bad_quotes
        out["rows"] = rows
        out["turns"] = turns
    return out


def _breakdown(ans: list[dict], near: list[dict], keys) -> dict:
    groups: dict[str, dict] = defaultdict(lambda: {"n": 0, "hit": 0, "answered": 0, "none": 0,
                                                   "unans_n": 0, "unans_answered": 0})
    for r in ans:
        for k in keys(r):
            g = groups[k]
            g["n"] += 1
            g["hit"] += r["hit"]
            g["answered"] += r["coverage"] == "answered"
            g["none"] += r["coverage"] == "none"
    for r in near:
        for k in keys(r):
            g = groups[k]
            g["unans_n"] += 1
            g["unans_answered"] += r["coverage"] == "answered"
    out = {}
    for k, g in sorted(groups.items()):
        out[k] = {"n": g["n"], "hit": _rate(g["hit"], g["n"]), "answered": _rate(g["answered"], g["n"]),
                  "none": _rate(g["none"], g["n"])}
        if g["unans_n"]:
            out[k].update({"unans_n": g["unans_n"], "unans_answered": _rate(g["unans_answered"], g["unans_n"])})
    return out


SUMMARY_KEYS = ("answer_hit", "none_on_answerable", "near_domain_answered", "answered_precision",
                "answered_rate", "citation_precision", "strength", "dialogue_turns", "recall@5", "verbatim")


def format_answer_table(m: dict) -> str:
    lines = [f"答复评测（{m['set']}：{m['answerable']} 个可回答、{m['near_domain']} 个近领域不可回答、"
             f"{m['off_domain']} 个领域外、{m['dialogues']} 段对话）"]
    extra = {"near_domain_answered": f" ({m['near_domain_answered_n']}/{m['near_domain']})",
             "strength": f" ({m['strength_n']})", "dialogue_turns": f" ({m['dialogue_turns_n']})",
             "verbatim": f" ({m['verbatim_n']})"}
    for k in SUMMARY_KEYS:
        if m.get(k) is not None:
            lines.append(f"  {k:24} {m[k]}{extra.get(k, '')}")
    lines.append(f"  {'citations_per_answer':24} {m['citations_per_answer']}")
    lines.append("  按语体 voice: " + "；".join(
        f"{k} n={v['n']} hit={v['hit']} answered={v['answered']} none={v['none']}"
        + (f" unans={v['unans_n']} claimed={v['unans_answered']}" if "unans_n" in v else "")
        for k, v in m["by_voice"].items()))
    return "\n".join(lines)


def check_answer_regressions(metrics: dict, path: Path, section: str = "answers") -> list[str]:
    """Floors (and, for *_max keys, ceilings) of regressions.toml's [section]."""
    if not path.is_file():
        return []
    limits = tomllib.loads(path.read_text(encoding="utf-8")).get(section, {})
    failures = []
    for k, v in limits.items():
        if k.endswith("_max"):
            key = k[: -len("_max")]
            if metrics.get(key, 1.0) - 1e-9 > v:
                failures.append(f"{section} {key} = {metrics.get(key):.4f} > {v}")
        elif metrics.get(k, 0.0) + 1e-9 < v:
            failures.append(f"{section} {k} = {metrics.get(k, 0.0):.4f} < {v}")
    return failures
